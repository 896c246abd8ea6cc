//! [`AcerTrainer`]: N envs in lockstep for `n_steps`, one on-policy update on the fresh
//! segments, then `Poisson(replay_ratio)` off-policy updates on segments from the replay memory.

use std::path::Path;

use candle_core::Tensor;
use rand_distr::{Distribution, Poisson};
use rl_buffer::{Normalizer, Segment, SegmentReplay};
pub use rl_envs::EpisodeEnd;
use rl_envs::{
    BoxedEnv, Collector, CollectorState, Env, NormalizeConfig, SyncVectorEnv, VecNormalize,
};
use rl_nn::checkpoint::{read_json, write_json};
use serde::{Deserialize, Serialize};

use crate::{Acer, AcerError, AcerMetrics, Result};
use rl_nn::AgentError;

/// What one [`AcerTrainer::step`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct RolloutReport {
    /// Episodes that ended during the rollout.
    pub episodes: Vec<EpisodeEnd>,
    /// The on-policy update's metrics, then each off-policy update's.
    pub updates: Vec<AcerMetrics>,
}

/// ACER's loop (Wang et al. 2017, algorithm 1, as OpenAI Baselines and Stable-Baselines run it
/// with synchronous envs): `n_envs` envs step `n_steps` times with actions sampled from the
/// current policy, each env's steps form one segment (observations, actions, rewards, the
/// behaviour distribution `μ(·|s_t)`, episode flags, and the true final observation where an
/// episode ended). The agent updates on those segments, they are stored in the replay memory, and
/// once it holds `replay_start` steps, `k ~ Poisson(replay_ratio)` updates follow on `n_envs`
/// segments each, sampled uniformly from it.
///
/// With `normalize_obs` or `normalize_reward`, the on-policy update sees the fresh segments as
/// the policy saw them (normalized with each step's statistics), while the replay memory holds
/// what the envs returned (unnormalized) and each replayed batch is normalized with the
/// statistics of the moment it is drawn: a replayed segment normalized when it was collected would
/// keep statistics that have since moved (on Pendulum-v1 that stale replay made learning collapse
/// on most seeds).
#[derive(Debug)]
pub struct AcerTrainer {
    agent: Acer,
    collector: Collector,
    replay: SegmentReplay,
    /// The run's length for the learning-rate schedule (`set_total_timesteps`).
    total_timesteps: Option<u64>,
}

#[derive(Serialize, Deserialize)]
struct SavedTrainer {
    /// Without raw observations in checkpoints written before the replay memory held
    /// unnormalized values.
    #[serde(flatten)]
    collector: CollectorState,
}

/// A batch normalized with the statistics the vector env has now ([`AcerTrainer::normalizer`]).
#[derive(Debug, Clone, Copy)]
pub struct CurrentStatistics<'a>(&'a VecNormalize<BoxedEnv>);

impl Normalizer for CurrentStatistics<'_> {
    fn observations(&self, obs: &mut [f32]) {
        let normalized = self.0.normalize_obs(obs);
        obs.copy_from_slice(&normalized);
    }

    fn rewards(&self, rewards: &mut [f32]) {
        for r in rewards {
            *r = self.0.normalize_reward(f64::from(*r)) as f32;
        }
    }
}

const TRAINER_FILE: &str = "trainer.json";
const REPLAY_FILE: &str = "replay.safetensors";

/// One env's segment while it is collected: observations, rewards and final observations both as
/// the envs returned them (what the replay memory keeps) and normalized as the policy saw them
/// (what the on-policy update uses, so that its ρ is exactly 1).
#[derive(Default)]
struct Collecting {
    obs: Vec<f32>,
    actions: Vec<f32>,
    rewards: Vec<f32>,
    behaviour: Vec<f32>,
    terminated: Vec<bool>,
    truncated: Vec<bool>,
    final_obs: Vec<f32>,
    seen_obs: Vec<f32>,
    seen_rewards: Vec<f32>,
    seen_final_obs: Vec<f32>,
}

impl Collecting {
    /// The segment as the replay memory keeps it (unnormalized).
    fn raw(&self) -> Segment<'_> {
        Segment {
            obs: &self.obs,
            actions: &self.actions,
            rewards: &self.rewards,
            behaviour: &self.behaviour,
            terminated: &self.terminated,
            truncated: &self.truncated,
            final_obs: &self.final_obs,
        }
    }

    /// The segment as the policy saw it (normalized with each step's statistics).
    fn seen(&self) -> Segment<'_> {
        Segment {
            obs: &self.seen_obs,
            rewards: &self.seen_rewards,
            final_obs: &self.seen_final_obs,
            ..self.raw()
        }
    }
}

impl AcerTrainer {
    /// A trainer for `agent` on the vector env `venv` (`n_envs` envs: any registered id through
    /// [`SyncVectorEnv::make`], or a user's envs through [`SyncVectorEnv::from_fn`]); env `i` is
    /// first reset with `seed + i`.
    pub fn new(agent: Acer, venv: SyncVectorEnv<BoxedEnv>, seed: u64) -> Result<Self> {
        let config = agent.config().clone();
        let (obs_dim, action) = (agent.obs_dim(), agent.action_spec());
        let collector = Collector::for_learner(
            "ACER",
            venv,
            config.n_envs,
            (obs_dim, action),
            NormalizeConfig {
                obs: config.normalize_obs,
                reward: config.normalize_reward,
                gamma: config.gamma,
                ..NormalizeConfig::default()
            },
            seed,
        )?;
        let replay = SegmentReplay::new(
            config.buffer_size.max(config.n_steps),
            config.n_steps,
            obs_dim,
            action,
            agent.behaviour_width(),
        )?;
        Ok(Self {
            agent,
            collector,
            replay,
            total_timesteps: None,
        })
    }

    /// A trainer for `agent` on `n_envs` (from its configuration) envs built by `new`: a user's
    /// environment constructor, or `|| rl_envs::make(id)` for a registered id.
    pub fn with_factory<E: Env + Send + 'static>(
        agent: Acer,
        new: impl FnMut() -> std::result::Result<E, rl_envs::EnvError>,
        seed: u64,
    ) -> Result<Self> {
        let venv = SyncVectorEnv::from_fn(agent.config().n_envs, new)?;
        Self::new(agent, venv, seed)
    }

    /// The agent.
    pub fn agent(&self) -> &Acer {
        &self.agent
    }

    /// The agent, mutably.
    pub fn agent_mut(&mut self) -> &mut Acer {
        &mut self.agent
    }

    /// The (normalizing) vector env.
    pub fn env(&self) -> &VecNormalize<BoxedEnv> {
        self.collector.env()
    }

    /// The replay memory. It holds what the envs returned (unnormalized); replayed batches are
    /// normalized with [`normalizer`](Self::normalizer) when they are drawn.
    pub fn replay(&self) -> &SegmentReplay {
        &self.replay
    }

    /// What every replayed batch goes through: the vector env's observation and reward
    /// normalization with its statistics of this moment (the identity without normalization).
    pub fn normalizer(&self) -> CurrentStatistics<'_> {
        CurrentStatistics(self.collector.env())
    }

    /// Environment steps taken (over all envs).
    pub fn num_timesteps(&self) -> u64 {
        self.collector.num_timesteps()
    }

    /// The run's length in environment steps, over which a `linear` learning-rate schedule falls
    /// to 0 (`cargo xtask` and `rl_runner` set it to `n_timesteps`). Without it the rate stays
    /// at `learning_rate`. A run resumed with another total continues on the new schedule.
    pub fn set_total_timesteps(&mut self, total: u64) {
        self.total_timesteps = Some(total);
    }

    /// One rollout of `n_steps` × `n_envs` steps, the on-policy update on it and the replayed
    /// updates (at the learning rate the schedule gives at the rollout's first step).
    pub fn step(&mut self) -> Result<RolloutReport> {
        let config = self.agent.config().clone();
        let lr = config.lr_schedule.rate(
            config.learning_rate,
            self.collector.num_timesteps(),
            self.total_timesteps,
        );
        self.agent.set_learning_rate(lr);
        let (n, t_len) = (config.n_envs, config.n_steps);
        let d = self.agent.obs_dim();
        let w = self.agent.action_spec().width();
        let width = self.agent.behaviour_width();
        let device = self.agent.device().clone();
        self.collector.start()?;
        let mut segs: Vec<Collecting> = (0..n).map(|_| Collecting::default()).collect();
        for _ in 0..t_len {
            let obs = Tensor::from_slice(self.collector.observations(), (n, d), &device)?;
            let acted = self.agent.act_batch(&obs, false)?;
            let (seen, raw) = (
                self.collector.observations(),
                self.collector.raw_observations(),
            );
            for (i, seg) in segs.iter_mut().enumerate() {
                seg.obs.extend_from_slice(&raw[i * d..(i + 1) * d]);
                seg.seen_obs.extend_from_slice(&seen[i * d..(i + 1) * d]);
                seg.actions
                    .extend_from_slice(&acted.actions[i * w..(i + 1) * w]);
                seg.behaviour
                    .extend_from_slice(&acted.behaviour[i * width..(i + 1) * width]);
            }
            let step = self.collector.step(&acted.actions)?;
            for (i, seg) in segs.iter_mut().enumerate() {
                seg.rewards.push(step.raw_rewards[i] as f32);
                seg.seen_rewards.push(step.rewards[i] as f32);
                seg.terminated.push(step.terminated[i]);
                seg.truncated.push(step.truncated[i]);
                match (&step.final_observations[i], &step.raw_final_observations[i]) {
                    (Some(o), Some(raw)) => {
                        seg.final_obs.extend_from_slice(raw);
                        seg.seen_final_obs.extend_from_slice(o);
                    }
                    _ => {
                        seg.final_obs.extend(std::iter::repeat_n(0.0, d));
                        seg.seen_final_obs.extend(std::iter::repeat_n(0.0, d));
                    }
                }
            }
        }
        let (seen, raw) = (
            self.collector.observations(),
            self.collector.raw_observations(),
        );
        for (i, seg) in segs.iter_mut().enumerate() {
            seg.obs.extend_from_slice(&raw[i * d..(i + 1) * d]);
            seg.seen_obs.extend_from_slice(&seen[i * d..(i + 1) * d]);
        }
        // On-policy: the fresh segments as the policy saw them.
        let seen: Vec<Segment<'_>> = segs.iter().map(Collecting::seen).collect();
        let batch = self.replay.stack(&seen, &device)?;
        let mut updates = vec![self.agent.update(&batch, false)?];
        if config.replay_ratio > 0.0 {
            for s in &segs {
                self.replay.push(s.raw())?;
            }
            if self.replay.steps() >= config.replay_start {
                // k ~ Poisson(replay_ratio) off-policy updates on n_envs segments each.
                let poisson = Poisson::new(config.replay_ratio)
                    .map_err(|e| AcerError::Config(format!("replay_ratio: {e}")))?;
                let k = poisson.sample(self.agent.rng.rng()) as usize;
                for _ in 0..k {
                    let batch = self.replay.sample_normalized(
                        n,
                        &mut self.agent.rng,
                        &device,
                        &CurrentStatistics(self.collector.env()),
                    )?;
                    updates.push(self.agent.update(&batch, true)?);
                }
            }
        }
        Ok(RolloutReport {
            episodes: self.collector.take_episodes(),
            updates,
        })
    }

    /// Saves the agent, the replay memory, counters and the vector env's exact state
    /// (normalization statistics included; the envs' own state if they support snapshots) into
    /// the folder `dir`. A trainer loaded from it continues bit for bit.
    pub fn save(&self, dir: &Path) -> Result<()> {
        self.agent.save(dir)?;
        self.replay.save(&dir.join(REPLAY_FILE))?;
        let saved = SavedTrainer {
            collector: self.collector.snapshot()?,
        };
        let json = serde_json::to_value(&saved)
            .map_err(|e| AcerError::from(AgentError::Checkpoint(e.to_string())))?;
        write_json(&dir.join(TRAINER_FILE), &json)?;
        Ok(())
    }

    /// Restores a folder written by [`save`](Self::save). Returns whether the envs' own state was
    /// restored, so that training continues bit for bit; if the envs do not support snapshots, the
    /// normalization statistics are restored and the next step starts new episodes.
    pub fn load(&mut self, dir: &Path) -> Result<bool> {
        let json = read_json(&dir.join(TRAINER_FILE))?;
        let saved: SavedTrainer = serde_json::from_value(json).map_err(|e| {
            AcerError::from(AgentError::Checkpoint(format!(
                "{}: {e}",
                dir.join(TRAINER_FILE).display()
            )))
        })?;
        let replay = SegmentReplay::load(&dir.join(REPLAY_FILE))?;
        let shape =
            |r: &SegmentReplay| (r.max_segments(), r.seg_len(), r.obs_dim(), r.action_spec());
        if shape(&replay) != shape(&self.replay) {
            return Err(AcerError::from(AgentError::Checkpoint(format!(
                "the saved replay memory has (segments, length, obs dim, actions) {:?}, this configuration {:?}",
                shape(&replay),
                shape(&self.replay)
            ))));
        }
        self.agent.load_into(dir)?;
        let n = self.agent.config().n_envs;
        if saved.collector.num_envs() != n {
            return Err(AcerError::from(AgentError::Checkpoint(format!(
                "{}: episode counters for {} envs, the configuration has {n}",
                dir.join(TRAINER_FILE).display(),
                saved.collector.num_envs()
            ))));
        }
        let normalizes = self.agent.config().normalize_obs || self.agent.config().normalize_reward;
        if normalizes && !saved.collector.has_raw_observations() {
            return Err(AcerError::from(AgentError::Checkpoint(format!(
                "{} was written before ACER's replay memory kept unnormalized values: its \
                 replayed segments hold normalized ones, which this version would normalize \
                 twice; start the run again",
                dir.display()
            ))));
        }
        let exact = self.collector.restore(saved.collector)?;
        self.replay = replay;
        Ok(exact)
    }
}
