//! [`SacTrainer`]: the off-policy loop — act, store, learn — around a [`Sac`] agent and one env.

use std::path::Path;

use rand::Rng;
use rl_buffer::{ActionSpec, ReplayBuffer, Transition};
use rl_envs::wrappers::RescaleAction;
use rl_envs::{Env, EnvError, OwnedAction};
use rl_math::{RngState, SeededRng};
use rl_nn::checkpoint::{read_json, write_json};
use serde::{Deserialize, Serialize};

use crate::agent::check_env;
use crate::{Result, Sac, SacError, UpdateMetrics};
use rl_nn::AgentError;

/// An episode that ended during a step.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EpisodeEnd {
    /// Undiscounted return.
    pub episode_return: f64,
    /// Steps.
    pub length: u64,
    /// Whether it terminated (as opposed to being truncated).
    pub terminated: bool,
}

/// What one [`SacTrainer::step`] did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StepReport {
    /// The episode this step ended, if it ended one.
    pub episode: Option<EpisodeEnd>,
    /// The gradient steps taken after this step (none during warm-up or between training phases).
    pub updates: Vec<UpdateMetrics>,
}

/// SAC's training loop, as Stable-Baselines3 runs it:
///
/// 1. until `learning_starts` steps, act uniformly at random (in `[-1, 1]^d`, or over the discrete
///    actions), then sample from the policy (with gSDE, `tanh(μ + z θ_ε)` with an exploration
///    matrix drawn at the start of each `train_freq` phase and every `sde_sample_freq` steps);
/// 2. step the environment (a box action space through `RescaleAction`, so `[-1, 1]` maps onto its
///    bounds) and store the transition with the policy's action and the true next observation
///    (also on truncation);
/// 3. every `train_freq` steps once past `learning_starts`, take `gradient_steps` updates on batches
///    sampled uniformly from the replay buffer.
#[derive(Debug)]
pub struct SacTrainer<E: Env> {
    agent: Sac,
    env: TrainEnv<E>,
    buffer: ReplayBuffer,
    rng: SeededRng,
    seed: u64,
    counters: Counters,
    obs: Vec<f32>,
    /// The run's length for the learning-rate schedule (`set_total_timesteps`).
    total_timesteps: Option<u64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Counters {
    num_timesteps: u64,
    episodes: u64,
    episode_return: f64,
    episode_length: u64,
    started: bool,
}

/// The training env: box actions go through `RescaleAction` (the policy acts in `[-1, 1]`).
#[derive(Debug)]
enum TrainEnv<E: Env> {
    Box(RescaleAction<E>),
    Discrete(E),
}

impl<E: Env> TrainEnv<E> {
    fn env(&mut self) -> &mut dyn Env {
        match self {
            TrainEnv::Box(e) => e,
            TrainEnv::Discrete(e) => e,
        }
    }

    fn env_ref(&self) -> &dyn Env {
        match self {
            TrainEnv::Box(e) => e,
            TrainEnv::Discrete(e) => e,
        }
    }
}

/// What [`SacTrainer::load`] restored besides the agent, the counters and the generator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Restored {
    /// The replay buffer (saved with `with_buffer`).
    pub buffer: bool,
    /// The environment's state (saved if the env supports snapshots).
    pub env: bool,
}

impl Restored {
    /// Both: training continues bit for bit.
    pub fn exact(&self) -> bool {
        self.buffer && self.env
    }
}

/// What a saved trainer records beside the agent and the buffer.
#[derive(Serialize, Deserialize)]
struct SavedTrainer {
    seed: u64,
    counters: Counters,
    obs: Vec<f32>,
    rng: RngState,
    /// `None` when the env does not support snapshots.
    env: Option<serde_json::Value>,
    buffer_saved: bool,
}

const TRAINER_FILE: &str = "trainer.json";
const BUFFER_FILE: &str = "replay.safetensors";

impl<E: Env> SacTrainer<E> {
    /// A trainer for `agent` on `env` (a flat box observation, a bounded box action space), with
    /// its own draws (warm-up actions, replay sampling, the first reset) seeded by `seed`.
    pub fn new(agent: Sac, env: E, seed: u64) -> Result<Self> {
        let (obs_dim, action) = check_env(&env)?;
        if (obs_dim, action) != (agent.obs_dim(), agent.action_spec()) {
            return Err(SacError::from(AgentError::UnsupportedEnv(format!(
                "{} has {obs_dim}-dim observations and {action:?} actions, the agent was built for {} and {:?}",
                env.id(),
                agent.obs_dim(),
                agent.action_spec()
            ))));
        }
        let buffer = ReplayBuffer::new(agent.config().buffer_size, obs_dim, action)?;
        let env = match action {
            ActionSpec::Continuous { .. } => TrainEnv::Box(RescaleAction::new(env)?),
            ActionSpec::Discrete { .. } => TrainEnv::Discrete(env),
        };
        Ok(Self {
            env,
            agent,
            buffer,
            rng: SeededRng::new(seed ^ 0x5AC0_5AC0_5AC0_5AC0),
            seed,
            counters: Counters::default(),
            obs: Vec::new(),
            total_timesteps: None,
        })
    }

    /// The agent.
    pub fn agent(&self) -> &Sac {
        &self.agent
    }

    /// The agent, mutably (to act with it between steps).
    pub fn agent_mut(&mut self) -> &mut Sac {
        &mut self.agent
    }

    /// The replay buffer.
    pub fn buffer(&self) -> &ReplayBuffer {
        &self.buffer
    }

    /// Environment steps taken.
    pub fn num_timesteps(&self) -> u64 {
        self.counters.num_timesteps
    }

    /// Episodes finished.
    pub fn episodes(&self) -> u64 {
        self.counters.episodes
    }

    /// The run's length in environment steps, over which a `linear` learning-rate schedule falls
    /// to 0 (`cargo xtask` and `rl_runner` set it to `n_timesteps`). Without it the rate stays
    /// at `learning_rate`. A run resumed with another total continues on the new schedule.
    pub fn set_total_timesteps(&mut self, total: u64) {
        self.total_timesteps = Some(total);
    }

    /// One environment step, and the gradient steps that follow it.
    pub fn step(&mut self) -> Result<StepReport> {
        let config = self.agent.config().clone();
        if !self.counters.started {
            // A fresh run resets with its seed; a run resumed without the env's state (an env
            // without snapshots) with a seed of its own, so it does not replay the first episode.
            let seed = self.seed.wrapping_add(self.counters.num_timesteps);
            let first = self.env.env().reset(Some(seed))?.to_vec();
            check_finite("observation", &first, self.counters.num_timesteps)?;
            self.obs = first;
            self.counters.started = true;
        }
        let t = self.counters.num_timesteps;
        let warmup = t < config.learning_starts && !(config.use_sde && config.use_sde_at_warmup);
        // gSDE: a new exploration matrix at the start of each collection phase (`train_freq`
        // steps) and every `sde_sample_freq` steps within one (SB3's `collect_rollouts`).
        let phase_step = t % config.train_freq;
        if config.use_sde
            && !warmup
            && (phase_step == 0
                || (config.sde_sample_freq > 0
                    && phase_step.is_multiple_of(config.sde_sample_freq as u64)))
        {
            self.agent.reset_noise()?;
        }
        let action = if warmup {
            match self.agent.action_spec() {
                ActionSpec::Continuous { dim } => OwnedAction::Continuous(
                    (0..dim)
                        .map(|_| self.rng.rng().random_range(-1.0..=1.0))
                        .collect(),
                ),
                ActionSpec::Discrete { n } => {
                    OwnedAction::Discrete(self.rng.rng().random_range(0..n))
                }
            }
        } else {
            self.agent.act(&self.obs, false)?
        };
        // The buffer stores a discrete action as its index in one f32.
        let stored: Vec<f32> = match &action {
            OwnedAction::Continuous(v) => v.clone(),
            OwnedAction::Discrete(i) => vec![*i as f32],
        };

        let step = self.env.env().step(action.as_action())?;
        let (next_obs, reward) = (step.observation.to_vec(), step.reward);
        let (terminated, truncated) = (step.terminated, step.truncated);
        check_finite("observation", &next_obs, t + 1)?;
        if !reward.is_finite() {
            return Err(SacError::from(AgentError::NonFinite {
                what: "reward".into(),
                value: reward,
                place: format!("environment step {}", t + 1),
            }));
        }
        self.buffer.push(Transition {
            obs: &self.obs,
            action: &stored,
            reward,
            next_obs: &next_obs,
            terminated,
            truncated,
        })?;
        self.counters.num_timesteps += 1;
        self.counters.episode_return += reward;
        self.counters.episode_length += 1;

        let mut report = StepReport::default();
        if terminated || truncated {
            report.episode = Some(EpisodeEnd {
                episode_return: self.counters.episode_return,
                length: self.counters.episode_length,
                terminated,
            });
            self.counters.episodes += 1;
            self.counters.episode_return = 0.0;
            self.counters.episode_length = 0;
            self.obs = self.env.env().reset(None)?.to_vec();
            check_finite("observation", &self.obs, self.counters.num_timesteps)?;
        } else {
            self.obs = next_obs;
        }

        let n = self.counters.num_timesteps;
        // A buffer emptied by a resume without saved transitions refills before learning again.
        let enough =
            self.buffer.len() as u64 >= config.learning_starts.clamp(1, config.batch_size as u64);
        if n > config.learning_starts && n.is_multiple_of(config.train_freq) && enough {
            // As SB3 sets it before each training phase: from the steps taken, this one included.
            let lr = config
                .lr_schedule
                .rate(config.learning_rate, n, self.total_timesteps);
            self.agent.set_learning_rate(lr);
            for _ in 0..config.gradient_steps {
                let batch =
                    self.buffer
                        .sample(config.batch_size, &mut self.rng, self.agent.device())?;
                report.updates.push(self.agent.update(&batch)?);
            }
        }
        Ok(report)
    }

    /// Saves the agent, the trainer's counters and generator, the environment's exact state, and
    /// (if `with_buffer`) the replay buffer, into the folder `dir`. With the buffer, a trainer
    /// loaded from it continues bit for bit as this one would.
    pub fn save(&self, dir: &Path, with_buffer: bool) -> Result<()> {
        self.agent.save(dir)?;
        if with_buffer {
            self.buffer.save(&dir.join(BUFFER_FILE))?;
        }
        let saved = SavedTrainer {
            seed: self.seed,
            counters: self.counters.clone(),
            obs: self.obs.clone(),
            rng: self.rng.state(),
            env: match self.env.env_ref().snapshot() {
                Ok(snapshot) => Some(snapshot),
                Err(EnvError::SnapshotUnsupported { .. }) => None,
                Err(e) => return Err(e.into()),
            },
            buffer_saved: with_buffer,
        };
        let json = serde_json::to_value(&saved)
            .map_err(|e| SacError::from(AgentError::Checkpoint(e.to_string())))?;
        write_json(&dir.join(TRAINER_FILE), &json)?;
        Ok(())
    }

    /// Restores a trainer saved by [`save`](Self::save) into this one (built with the same
    /// configuration and environment), and says what was restored besides the agent, counters and
    /// generator: without the replay buffer, it starts empty and learning pauses until it refills
    /// past `learning_starts`; without the env's state (an env that does not support snapshots),
    /// the next step starts a new episode. With both, training continues bit for bit.
    pub fn load(&mut self, dir: &Path) -> Result<Restored> {
        self.agent.load_into(dir)?;
        let json = read_json(&dir.join(TRAINER_FILE))?;
        let saved: SavedTrainer = serde_json::from_value(json).map_err(|e| {
            SacError::from(AgentError::Checkpoint(format!(
                "{}: {e}",
                dir.join(TRAINER_FILE).display()
            )))
        })?;
        if let Some(env) = &saved.env {
            self.env.env().restore(env)?;
        }
        if saved.buffer_saved {
            let buffer = ReplayBuffer::load(&dir.join(BUFFER_FILE))?;
            if buffer.capacity() != self.buffer.capacity()
                || buffer.obs_dim() != self.buffer.obs_dim()
                || buffer.action_spec() != self.buffer.action_spec()
            {
                return Err(SacError::from(AgentError::Checkpoint(
                    "the saved replay buffer has another capacity or shape".into(),
                )));
            }
            self.buffer = buffer;
        }
        self.seed = saved.seed;
        self.counters = saved.counters;
        self.obs = saved.obs;
        self.rng = SeededRng::from_state(saved.rng);
        if saved.env.is_none() {
            self.counters.started = false;
            self.counters.episode_return = 0.0;
            self.counters.episode_length = 0;
        }
        Ok(Restored {
            buffer: saved.buffer_saved,
            env: saved.env.is_some(),
        })
    }
}

fn check_finite(what: &str, values: &[f32], step: u64) -> Result<()> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(i) => Err(SacError::from(AgentError::NonFinite {
            what: format!("{what} component {i}"),
            value: f64::from(values[i]),
            place: format!("environment step {step}"),
        })),
        None => Ok(()),
    }
}
