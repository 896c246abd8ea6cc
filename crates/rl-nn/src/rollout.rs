//! The on-policy learners' loop below their update: [`OnPolicyLoop`] collects a rollout with an
//! [`ActorCritic`] over a [`Collector`], computes returns and advantages, and saves and restores
//! the envs' side of a checkpoint. A2C and PPO are each their agent's update on top of it.

use std::path::Path;

use candle_core::Tensor;
use rl_buffer::{RolloutBatch, RolloutBuffer, RolloutStep};
use rl_envs::{
    ActionSpec, BoxedEnv, Collector, CollectorState, EpisodeEnd, NormalizeConfig, SyncVectorEnv,
    VecNormalize,
};
use rl_math::SeededRng;
use serde::{Deserialize, Serialize};

use crate::AgentError;
use crate::actor_critic::ActorCritic;
use crate::checkpoint::{read_json, write_json};

type Result<T> = std::result::Result<T, AgentError>;

/// How [`collect_rollout`] collects.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RolloutSettings {
    /// Steps per env.
    pub n_steps: usize,
    /// gSDE: new exploration matrices every this many steps within the rollout (≤ 0: only at
    /// its start).
    pub sde_sample_freq: i64,
    /// Discount factor.
    pub gamma: f64,
    /// GAE λ.
    pub gae_lambda: f64,
}

/// One on-policy rollout, as SB3's `collect_rollouts`: the collector's envs step `n_steps` times
/// in lockstep with actions sampled from `policy` (gSDE's exploration matrices drawn at the start
/// and every `sde_sample_freq` steps), each step stored in `buffer` (a truncated episode
/// bootstraps from the value of its true final observation), then the returns and advantages are
/// computed from the values of the observations after the last step. `buffer` must be empty and
/// sized `n_steps × n_envs`; read it with `buffer.batch(..)` and reset it after the update.
pub fn collect_rollout(
    policy: &mut ActorCritic,
    rng: &mut SeededRng,
    collector: &mut Collector,
    buffer: &mut RolloutBuffer,
    settings: RolloutSettings,
) -> Result<()> {
    let n = collector.num_envs();
    let d = policy.obs_dim();
    let device = policy.device().clone();
    collector.start()?;
    let sde_every = usize::try_from(settings.sde_sample_freq)
        .ok()
        .filter(|&k| k > 0);
    // gSDE: new exploration matrices for each rollout (SB3's `reset_noise` in
    // `collect_rollouts`), and every `sde_sample_freq` steps within it. Nothing otherwise.
    policy.reset_noise(n, rng)?;
    for t in 0..settings.n_steps {
        if sde_every.is_some_and(|k| t > 0 && t % k == 0) {
            policy.reset_noise(n, rng)?;
        }
        let obs = collector.observations().to_vec();
        let acted = policy.act(&Tensor::from_slice(&obs, (n, d), &device)?, false, rng)?;
        let step = collector.step(&acted.actions)?;
        // V(true final observation) where an episode was truncated: its return bootstraps.
        let mut final_values = vec![0.0; n];
        for (i, o) in step.final_observations.iter().enumerate() {
            if let Some(o) = o
                .as_ref()
                .filter(|_| step.truncated[i] && !step.terminated[i])
            {
                final_values[i] = policy.values(&Tensor::from_slice(o, (1, d), &device)?)?[0];
            }
        }
        buffer.push(RolloutStep {
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
    let last = policy.values(&Tensor::from_slice(
        collector.observations(),
        (n, d),
        &device,
    )?)?;
    buffer.compute_returns_and_advantages(&last, settings.gamma, settings.gae_lambda)?;
    Ok(())
}

/// The rollout side of an on-policy trainer: the envs (normalizing, with their episode counters),
/// the rollout storage, and the run's length for schedules.
#[derive(Debug)]
pub struct OnPolicyLoop {
    collector: Collector,
    buffer: RolloutBuffer,
    n_steps: usize,
    /// The run's length for `linear` schedules (`set_total_timesteps`).
    total_timesteps: Option<u64>,
}

#[derive(Serialize, Deserialize)]
struct SavedLoop {
    #[serde(flatten)]
    collector: CollectorState,
}

const TRAINER_FILE: &str = "trainer.json";

impl OnPolicyLoop {
    /// The loop of `learner` (its name, for messages) over `venv`, which must hold `n_envs` envs
    /// whose spaces fit `(obs_dim, action)`; `n_steps` per env per rollout; env `i` is first
    /// reset with `seed + i`.
    pub fn new(
        learner: &str,
        venv: SyncVectorEnv<BoxedEnv>,
        (n_envs, n_steps): (usize, usize),
        (obs_dim, action): (usize, ActionSpec),
        normalize: NormalizeConfig,
        seed: u64,
    ) -> Result<Self> {
        let collector =
            Collector::for_learner(learner, venv, n_envs, (obs_dim, action), normalize, seed)?;
        let buffer = RolloutBuffer::new(n_steps, n_envs, obs_dim, action)?;
        Ok(Self {
            collector,
            buffer,
            n_steps,
            total_timesteps: None,
        })
    }

    /// One rollout with `policy` (see [`collect_rollout`]), as tensors on the policy's device.
    pub fn collect(
        &mut self,
        policy: &mut ActorCritic,
        rng: &mut SeededRng,
        (sde_sample_freq, gamma, gae_lambda): (i64, f64, f64),
    ) -> Result<RolloutBatch> {
        let settings = RolloutSettings {
            n_steps: self.n_steps,
            sde_sample_freq,
            gamma,
            gae_lambda,
        };
        collect_rollout(policy, rng, &mut self.collector, &mut self.buffer, settings)?;
        let batch = self.buffer.batch(policy.device())?;
        self.buffer.reset();
        Ok(batch)
    }

    /// The (normalizing) vector env.
    pub fn env(&self) -> &VecNormalize<BoxedEnv> {
        self.collector.env()
    }

    /// Environment steps taken (over all envs).
    pub fn num_timesteps(&self) -> u64 {
        self.collector.num_timesteps()
    }

    /// The episodes that ended since the last call.
    pub fn take_episodes(&mut self) -> Vec<EpisodeEnd> {
        self.collector.take_episodes()
    }

    /// The run's length in environment steps, over which `linear` schedules fall to 0.
    pub fn set_total_timesteps(&mut self, total: u64) {
        self.total_timesteps = Some(total);
    }

    /// The run's length, if set.
    pub fn total_timesteps(&self) -> Option<u64> {
        self.total_timesteps
    }

    /// Saves the vector env's exact state and counters into `dir/trainer.json`.
    pub fn save(&self, dir: &Path) -> Result<()> {
        let saved = SavedLoop {
            collector: self.collector.snapshot()?,
        };
        let json =
            serde_json::to_value(&saved).map_err(|e| AgentError::Checkpoint(e.to_string()))?;
        write_json(&dir.join(TRAINER_FILE), &json)?;
        Ok(())
    }

    /// Restores `dir/trainer.json`. Returns whether the envs' own state was restored (training
    /// continues bit for bit); if the envs do not support snapshots, the normalization
    /// statistics are restored and the next step starts new episodes.
    pub fn load(&mut self, dir: &Path) -> Result<bool> {
        let path = dir.join(TRAINER_FILE);
        let json = read_json(&path)?;
        let saved: SavedLoop = serde_json::from_value(json)
            .map_err(|e| AgentError::Checkpoint(format!("{}: {e}", path.display())))?;
        let n = self.collector.num_envs();
        if saved.collector.num_envs() != n {
            return Err(AgentError::Checkpoint(format!(
                "{}: episode counters for {} envs, the configuration has {n}",
                path.display(),
                saved.collector.num_envs()
            )));
        }
        Ok(self.collector.restore(saved.collector)?)
    }
}
