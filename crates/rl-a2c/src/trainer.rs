//! [`A2cTrainer`]: the synchronous loop — N envs in lockstep for `n_steps`, then one update.

use std::path::Path;

use candle_core::Tensor;
use rl_buffer::{RolloutBuffer, RolloutStep};
pub use rl_envs::EpisodeEnd;
use rl_envs::{
    BoxedEnv, Collector, CollectorState, Env, NormalizeConfig, SyncVectorEnv, VecNormalize,
};
use rl_nn::checkpoint::{read_json, write_json};
use serde::{Deserialize, Serialize};

use crate::{A2c, A2cError, A2cMetrics, Result};
use rl_nn::AgentError;

/// What one [`A2cTrainer::step`] (a rollout and its update) did.
#[derive(Debug, Clone, PartialEq)]
pub struct RolloutReport {
    /// Episodes that ended during the rollout.
    pub episodes: Vec<EpisodeEnd>,
    /// The update's metrics.
    pub metrics: A2cMetrics,
}

/// A2C's loop, as SB3 runs it: `n_envs` copies of the environment (observations and rewards
/// normalized with shared statistics if configured) step `n_steps` times with actions sampled
/// from the policy (continuous actions clipped to the bounds for the env, stored unclipped), then
/// returns and advantages are computed (bootstrapping a truncated episode from its true final
/// observation's value) and the agent takes one update.
#[derive(Debug)]
pub struct A2cTrainer {
    agent: A2c,
    collector: Collector,
    buffer: RolloutBuffer,
    /// The run's length for the learning-rate schedule (`set_total_timesteps`).
    total_timesteps: Option<u64>,
}

#[derive(Serialize, Deserialize)]
struct SavedTrainer {
    #[serde(flatten)]
    collector: CollectorState,
}

const TRAINER_FILE: &str = "trainer.json";

impl A2cTrainer {
    /// A trainer for `agent` on the vector env `venv` (`n_envs` envs: any registered id through
    /// [`SyncVectorEnv::make`], or a user's envs through [`SyncVectorEnv::from_fn`]); env `i` is
    /// first reset with `seed + i`.
    pub fn new(agent: A2c, venv: SyncVectorEnv<BoxedEnv>, seed: u64) -> Result<Self> {
        let config = agent.config().clone();
        let (obs_dim, action) = (agent.obs_dim(), agent.action_spec());
        let collector = Collector::for_learner(
            "A2C",
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
        let buffer = RolloutBuffer::new(config.n_steps, config.n_envs, obs_dim, action)?;
        Ok(Self {
            agent,
            collector,
            buffer,
            total_timesteps: None,
        })
    }

    /// A trainer for `agent` on `n_envs` (from its configuration) envs built by `new`: a user's
    /// environment constructor, or `|| rl_envs::make(id)` for a registered id.
    pub fn with_factory<E: Env + Send + 'static>(
        agent: A2c,
        new: impl FnMut() -> std::result::Result<E, rl_envs::EnvError>,
        seed: u64,
    ) -> Result<Self> {
        let venv = SyncVectorEnv::from_fn(agent.config().n_envs, new)?;
        Self::new(agent, venv, seed)
    }

    /// The agent.
    pub fn agent(&self) -> &A2c {
        &self.agent
    }

    /// The agent, mutably.
    pub fn agent_mut(&mut self) -> &mut A2c {
        &mut self.agent
    }

    /// The (normalizing) vector env.
    pub fn env(&self) -> &VecNormalize<BoxedEnv> {
        self.collector.env()
    }

    /// Environment steps taken (over all envs).
    pub fn num_timesteps(&self) -> u64 {
        self.collector.num_timesteps()
    }

    /// One rollout of `n_steps` × `n_envs` steps and the update on it.
    pub fn step(&mut self) -> Result<RolloutReport> {
        let n = self.agent.config().n_envs;
        let d = self.agent.obs_dim();
        let device = self.agent.device().clone();
        self.collector.start()?;
        let sde_every = match self.agent.config().sde_sample_freq {
            k if k > 0 => Some(k as usize),
            _ => None,
        };
        // gSDE: new exploration matrices for each rollout (SB3's `reset_noise` in
        // `collect_rollouts`), and every `sde_sample_freq` steps within it. Nothing otherwise.
        self.agent.reset_noise(n)?;
        for t in 0..self.agent.config().n_steps {
            if sde_every.is_some_and(|k| t > 0 && t % k == 0) {
                self.agent.reset_noise(n)?;
            }
            let obs = self.collector.observations().to_vec();
            let acted = self
                .agent
                .act_batch(&Tensor::from_slice(&obs, (n, d), &device)?, false)?;
            let step = self.collector.step(&acted.actions)?;
            // V(true final observation) where an episode was truncated: its return bootstraps.
            let mut final_values = vec![0.0; n];
            for (i, o) in step.final_observations.iter().enumerate() {
                if let Some(o) = o
                    .as_ref()
                    .filter(|_| step.truncated[i] && !step.terminated[i])
                {
                    final_values[i] =
                        self.agent
                            .values(&Tensor::from_slice(o, (1, d), &device)?)?[0];
                }
            }
            self.buffer.push(RolloutStep {
                obs: &obs,
                actions: &acted.actions,
                rewards: &step.rewards,
                values: &acted.values,
                log_probs: &acted.log_probs,
                terminated: &step.terminated,
                truncated: &step.truncated,
                final_values: &final_values,
            })?;
        }
        let last = self.agent.values(&Tensor::from_slice(
            self.collector.observations(),
            (n, d),
            &device,
        )?)?;
        let config = self.agent.config().clone();
        self.buffer
            .compute_returns_and_advantages(&last, config.gamma, config.gae_lambda)?;
        let batch = self.buffer.batch(&device)?;
        // As SB3 updates it: from the steps taken, this rollout's included.
        let lr = config.lr_schedule.rate(
            config.learning_rate,
            self.collector.num_timesteps(),
            self.total_timesteps,
        );
        self.agent.set_learning_rate(lr);
        let metrics = self.agent.update(&batch)?;
        self.buffer.reset();
        Ok(RolloutReport {
            episodes: self.collector.take_episodes(),
            metrics,
        })
    }

    /// The run's length in environment steps, over which a `linear` learning-rate schedule falls
    /// to 0 (`cargo xtask` and `rl_runner` set it to `n_timesteps`). Without it the rate stays
    /// at `learning_rate`. A run resumed with another total continues on the new schedule.
    pub fn set_total_timesteps(&mut self, total: u64) {
        self.total_timesteps = Some(total);
    }

    /// Saves the agent, counters and the vector env's exact state (normalization statistics
    /// included; the envs' own state if they support snapshots) into the folder `dir`. A trainer
    /// loaded from it continues bit for bit.
    pub fn save(&self, dir: &Path) -> Result<()> {
        self.agent.save(dir)?;
        let saved = SavedTrainer {
            collector: self.collector.snapshot()?,
        };
        let json = serde_json::to_value(&saved)
            .map_err(|e| A2cError::from(AgentError::Checkpoint(e.to_string())))?;
        write_json(&dir.join(TRAINER_FILE), &json)?;
        Ok(())
    }

    /// Restores a folder written by [`save`](Self::save). Returns whether the envs' own state was
    /// restored, so that training continues bit for bit; if the envs do not support snapshots, the
    /// normalization statistics are restored and the next step starts new episodes.
    pub fn load(&mut self, dir: &Path) -> Result<bool> {
        self.agent.load_into(dir)?;
        let json = read_json(&dir.join(TRAINER_FILE))?;
        let saved: SavedTrainer = serde_json::from_value(json).map_err(|e| {
            A2cError::from(AgentError::Checkpoint(format!(
                "{}: {e}",
                dir.join(TRAINER_FILE).display()
            )))
        })?;
        let n = self.agent.config().n_envs;
        if saved.collector.num_envs() != n {
            return Err(A2cError::from(AgentError::Checkpoint(format!(
                "{}: episode counters for {} envs, the configuration has {n}",
                dir.join(TRAINER_FILE).display(),
                saved.collector.num_envs()
            ))));
        }
        Ok(self.collector.restore(saved.collector)?)
    }
}
