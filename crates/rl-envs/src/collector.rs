//! [`Collector`]: the envs of an on-policy learner stepped in lockstep — what A2C, ACER (and the
//! next on-policy learner) share below their updates.

use serde::{Deserialize, Serialize};

use crate::vec_normalize::{NormalizeConfig, VecNormalize};
use crate::vector::{SyncVectorEnv, VecAction};
use crate::{ActionSpec, BoxedEnv, Env, EnvError};

/// An episode one of the envs finished (raw rewards, before any normalization).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EpisodeEnd {
    /// Undiscounted return.
    pub episode_return: f64,
    /// Steps.
    pub length: u64,
}

/// Steps taken and episodes under way (what a resumed run continues from).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Counters {
    num_timesteps: u64,
    episodes: u64,
    returns: Vec<f64>,
    lengths: Vec<u64>,
    started: bool,
}

/// A [`Collector`]'s saved state; learners flatten it into their trainer file (`#[serde(flatten)]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CollectorState {
    seed: u64,
    counters: Counters,
    obs: Vec<f32>,
    /// Absent in files written before the raw observations were kept.
    #[serde(default)]
    raw_obs: Option<Vec<f32>>,
    env: serde_json::Value,
}

impl CollectorState {
    /// The number of envs whose episodes the state counts.
    pub fn num_envs(&self) -> usize {
        self.counters.returns.len().min(self.counters.lengths.len())
    }

    /// Whether the state holds the envs' unnormalized observations (files written before they
    /// were kept hold only the normalized ones).
    pub fn has_raw_observations(&self) -> bool {
        self.raw_obs.is_some()
    }
}

/// What one lockstep [`Collector::step`] returned, for all envs.
#[derive(Debug, Clone, PartialEq)]
pub struct Stepped {
    /// Rewards as the learner trains on them (normalized if configured).
    pub rewards: Vec<f64>,
    /// Rewards as the envs returned them.
    pub raw_rewards: Vec<f64>,
    /// Whether each env's episode reached a terminal state.
    pub terminated: Vec<bool>,
    /// Whether each env's episode was cut short (time limit).
    pub truncated: Vec<bool>,
    /// The true final observation (normalized if configured) of each env whose episode ended;
    /// its next observation is already the reset one.
    pub final_observations: Vec<Option<Vec<f32>>>,
    /// The same, unnormalized.
    pub raw_final_observations: Vec<Option<Vec<f32>>>,
}

/// `n` envs in lockstep for on-policy learning, as SB3 runs them: observations (and rewards)
/// normalized with shared statistics if configured ([`VecNormalize`]); continuous actions
/// clipped to the action space for the envs (the learner keeps the unclipped ones); every
/// observation and reward checked finite; each env's episode return and length counted on the
/// raw rewards; the true final observation of each finished episode kept; the whole state
/// saveable, so that a run resumes bit for bit when the envs support snapshots.
///
/// ```
/// use rl_envs::{Collector, NormalizeConfig, SyncVectorEnv};
///
/// let venv = SyncVectorEnv::make("CartPole-v1", 2)?;
/// let no_normalization = NormalizeConfig { obs: false, reward: false, ..Default::default() };
/// let mut collector = Collector::new(venv, no_normalization, 7)?;
/// let mut finished = 0;
/// for _ in 0..50 {
///     collector.start()?; // resets the envs (seeds 7 and 8) the first time
///     let actions = [0.0, 1.0]; // one discrete action per env, as f32
///     let stepped = collector.step(&actions)?;
///     assert_eq!(stepped.rewards, [1.0, 1.0]);
///     finished += collector.take_episodes().len();
/// }
/// assert!(finished > 0);
/// assert_eq!(collector.num_timesteps(), 100);
/// # Ok::<(), rl_envs::EnvError>(())
/// ```
#[derive(Debug)]
pub struct Collector {
    env: VecNormalize<BoxedEnv>,
    bounds: Option<(Vec<f32>, Vec<f32>)>,
    discrete: bool,
    seed: u64,
    counters: Counters,
    /// The envs' current observations, normalized (what the policy acts on).
    obs: Vec<f32>,
    /// The same, unnormalized.
    raw_obs: Vec<f32>,
    /// Episodes finished since the last [`take_episodes`](Collector::take_episodes).
    finished: Vec<EpisodeEnd>,
}

impl Collector {
    /// A collector over `venv`, normalizing as `normalize` says; env `i` is first reset with
    /// `seed + i`. The action space must be discrete or a flat box.
    pub fn new(
        venv: SyncVectorEnv<BoxedEnv>,
        normalize: NormalizeConfig,
        seed: u64,
    ) -> Result<Self, EnvError> {
        let Some(action) = ActionSpec::of(venv.action_space()) else {
            return Err(EnvError::Unsupported(format!(
                "lockstep collection needs a discrete or flat box action space, not {}",
                venv.action_space()
            )));
        };
        let bounds = venv
            .action_space()
            .as_box()
            .map(|b| (b.low().to_vec(), b.high().to_vec()));
        let n = venv.num_envs();
        Ok(Self {
            env: VecNormalize::new(venv, normalize)?,
            bounds,
            discrete: matches!(action, ActionSpec::Discrete { .. }),
            seed,
            counters: Counters {
                returns: vec![0.0; n],
                lengths: vec![0; n],
                ..Counters::default()
            },
            obs: Vec::new(),
            raw_obs: Vec::new(),
            finished: Vec::new(),
        })
    }

    /// [`Collector::new`] for a learner (`learner` names it in errors) configured for `n_envs`
    /// envs and built for `spaces` (observation width, actions): `venv` must have that many envs,
    /// of spaces the learner takes ([`learner_spaces`](crate::learner_spaces)) and equal to
    /// those.
    pub fn for_learner(
        learner: &str,
        venv: SyncVectorEnv<BoxedEnv>,
        n_envs: usize,
        spaces: (usize, ActionSpec),
        normalize: NormalizeConfig,
        seed: u64,
    ) -> Result<Self, EnvError> {
        if venv.num_envs() != n_envs {
            return Err(EnvError::Unsupported(format!(
                "the vector env has {} envs, the configuration n_envs = {n_envs}",
                venv.num_envs()
            )));
        }
        let env_id = venv.envs()[0].id().to_owned();
        let (obs_dim, action) = crate::learner_spaces(
            learner,
            &env_id,
            venv.observation_space(),
            venv.action_space(),
            false,
        )?;
        if (obs_dim, action) != spaces {
            return Err(EnvError::Unsupported(format!(
                "{env_id} has {obs_dim}-dim observations and {action:?} actions, the agent was built for {} and {:?}",
                spaces.0, spaces.1
            )));
        }
        Self::new(venv, normalize, seed)
    }

    /// The (normalizing) vector env.
    pub fn env(&self) -> &VecNormalize<BoxedEnv> {
        &self.env
    }

    /// The number of envs.
    pub fn num_envs(&self) -> usize {
        self.env.venv().num_envs()
    }

    /// Environment steps taken (over all envs).
    pub fn num_timesteps(&self) -> u64 {
        self.counters.num_timesteps
    }

    /// Resets the envs if they have not been yet: a fresh run with its seed; a run resumed
    /// without the envs' state (envs without snapshots) with a seed of its own (`seed` plus the
    /// steps taken), so that it does not replay the first episodes. Does nothing otherwise.
    pub fn start(&mut self) -> Result<(), EnvError> {
        if !self.counters.started {
            let seed = self.seed.wrapping_add(self.counters.num_timesteps);
            self.obs = self.env.reset(Some(seed))?.to_vec();
            self.raw_obs = self.env.raw_observations().to_vec();
            self.counters.started = true;
        }
        Ok(())
    }

    /// The envs' current observations (`n × obs_dim`, normalized if configured): what the policy
    /// acts on. Empty before [`start`](Self::start).
    pub fn observations(&self) -> &[f32] {
        &self.obs
    }

    /// The same, as the envs returned them.
    pub fn raw_observations(&self) -> &[f32] {
        &self.raw_obs
    }

    /// One step of every env with `actions` (`n` indices as `f32` for a discrete space, `n ×
    /// dim` values for a box, clipped to its bounds before the envs see them). Observations and
    /// rewards that are not finite are an error naming the env step; finished episodes are
    /// counted (see [`take_episodes`](Self::take_episodes)).
    pub fn step(&mut self, actions: &[f32]) -> Result<Stepped, EnvError> {
        self.start()?;
        let n = self.num_envs();
        let step = if self.discrete {
            let idx: Vec<usize> = actions.iter().map(|&a| a as usize).collect();
            self.env.step(VecAction::Discrete(&idx))?
        } else {
            let clipped = clip(actions, self.bounds.as_ref());
            self.env.step(VecAction::Continuous(&clipped))?
        };
        let rewards = step.rewards.to_vec();
        let (terminated, truncated) = (step.terminated.to_vec(), step.truncated.to_vec());
        let final_observations: Vec<Option<Vec<f32>>> = (0..n)
            .map(|i| step.final_observation(i).map(<[f32]>::to_vec))
            .collect();
        let next_obs = step.observations.to_vec();
        let at = self.counters.num_timesteps;
        check_finite(&next_obs, at, |i| format!("observation component {i}"))?;
        check_finite(&rewards, at, |i| format!("reward of env {i}"))?;
        let raw_rewards = self.env.raw_rewards().to_vec();
        let d = next_obs.len() / n.max(1);
        let raw_finals = self.env.raw_final_observations();
        let raw_final_observations = final_observations
            .iter()
            .enumerate()
            .map(|(i, f)| f.as_ref().map(|_| raw_finals[i * d..(i + 1) * d].to_vec()))
            .collect();
        for i in 0..n {
            self.counters.returns[i] += raw_rewards[i];
            self.counters.lengths[i] += 1;
            if terminated[i] || truncated[i] {
                self.finished.push(EpisodeEnd {
                    episode_return: self.counters.returns[i],
                    length: self.counters.lengths[i],
                });
                self.counters.episodes += 1;
                self.counters.returns[i] = 0.0;
                self.counters.lengths[i] = 0;
            }
        }
        self.counters.num_timesteps += n as u64;
        self.obs = next_obs;
        // Same length every step: refilled in place.
        self.raw_obs.clear();
        self.raw_obs.extend_from_slice(self.env.raw_observations());
        Ok(Stepped {
            rewards,
            raw_rewards,
            terminated,
            truncated,
            final_observations,
            raw_final_observations,
        })
    }

    /// The episodes finished since the last call, in the order they ended.
    pub fn take_episodes(&mut self) -> Vec<EpisodeEnd> {
        std::mem::take(&mut self.finished)
    }

    /// The state to save: seed, counters, current observations and the vector env's snapshot
    /// (normalization statistics included; the envs' own state if they support snapshots).
    pub fn snapshot(&self) -> Result<CollectorState, EnvError> {
        Ok(CollectorState {
            seed: self.seed,
            counters: self.counters.clone(),
            obs: self.obs.clone(),
            raw_obs: Some(self.raw_obs.clone()),
            env: self.env.snapshot()?,
        })
    }

    /// Restores a [`snapshot`](Self::snapshot). Returns whether the envs' own state was restored
    /// (the run continues bit for bit); if the envs do not support snapshots, the normalization
    /// statistics are restored and the next step starts new episodes. State for another number
    /// of envs is refused before anything changes. State without raw observations (written
    /// before they were kept) takes the normalized ones in their place: learners that need the
    /// raw values check [`CollectorState::has_raw_observations`] first.
    pub fn restore(&mut self, state: CollectorState) -> Result<bool, EnvError> {
        let n = self.num_envs();
        let raw_obs = state.raw_obs.unwrap_or_else(|| state.obs.clone());
        if state.counters.returns.len() != n
            || state.counters.lengths.len() != n
            || raw_obs.len() != state.obs.len()
        {
            return Err(EnvError::InvalidConfig(format!(
                "collector state for {} envs ({} observation values, {} raw), the vector env has {n}",
                state.counters.returns.len(),
                state.obs.len(),
                raw_obs.len()
            )));
        }
        let exact = self.env.restore(&state.env)?;
        self.seed = state.seed;
        self.counters = state.counters;
        self.obs = state.obs;
        self.raw_obs = raw_obs;
        self.finished.clear();
        if !exact {
            self.counters.started = false;
            self.counters.returns.fill(0.0);
            self.counters.lengths.fill(0);
        }
        Ok(exact)
    }
}

/// `actions` clipped component-wise to `bounds` (repeated for each env), or unchanged.
fn clip(actions: &[f32], bounds: Option<&(Vec<f32>, Vec<f32>)>) -> Vec<f32> {
    match bounds {
        Some((low, high)) => actions
            .iter()
            .enumerate()
            .map(|(k, &a)| {
                let j = k % low.len();
                a.clamp(low[j], high[j])
            })
            .collect(),
        None => actions.to_vec(),
    }
}

/// An error naming the first value that is not finite.
fn check_finite<T: Copy + Into<f64>>(
    values: &[T],
    step: u64,
    what: impl Fn(usize) -> String,
) -> Result<(), EnvError> {
    match values.iter().position(|&v| !v.into().is_finite()) {
        Some(i) => Err(EnvError::NonFinite {
            what: what(i),
            value: values[i].into(),
            step,
        }),
        None => Ok(()),
    }
}
