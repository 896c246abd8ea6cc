//! [`A2cTrainer`]: the synchronous loop — N envs in lockstep for `n_steps`, then one update.

use std::path::Path;

pub use rl_envs::EpisodeEnd;
use rl_envs::{BoxedEnv, Env, NormalizeConfig, SyncVectorEnv, VecNormalize};
use rl_nn::rollout::OnPolicyLoop;

use crate::{A2c, A2cMetrics, Result};

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
/// observation's value) and the agent takes one update. The rollout is
/// [`rl_nn::rollout::OnPolicyLoop`]'s, shared with PPO.
#[derive(Debug)]
pub struct A2cTrainer {
    agent: A2c,
    rollout: OnPolicyLoop,
}

impl A2cTrainer {
    /// A trainer for `agent` on the vector env `venv` (`n_envs` envs: any registered id through
    /// [`SyncVectorEnv::make`], or a user's envs through [`SyncVectorEnv::from_fn`]); env `i` is
    /// first reset with `seed + i`.
    pub fn new(agent: A2c, venv: SyncVectorEnv<BoxedEnv>, seed: u64) -> Result<Self> {
        let config = agent.config().clone();
        let rollout = OnPolicyLoop::new(
            "A2C",
            venv,
            (config.n_envs, config.n_steps),
            (agent.obs_dim(), agent.action_spec()),
            NormalizeConfig {
                obs: config.normalize_obs,
                reward: config.normalize_reward,
                gamma: config.gamma,
                ..NormalizeConfig::default()
            },
            seed,
        )?;
        Ok(Self { agent, rollout })
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
        self.rollout.env()
    }

    /// Environment steps taken (over all envs).
    pub fn num_timesteps(&self) -> u64 {
        self.rollout.num_timesteps()
    }

    /// One rollout of `n_steps` × `n_envs` steps and the update on it.
    pub fn step(&mut self) -> Result<RolloutReport> {
        let config = self.agent.config().clone();
        let (policy, rng) = self.agent.policy_and_rng();
        let batch = self.rollout.collect(
            policy,
            rng,
            (config.sde_sample_freq, config.gamma, config.gae_lambda),
        )?;
        // As SB3 updates it: from the steps taken, this rollout's included.
        let lr = config.lr_schedule.rate(
            config.learning_rate,
            self.rollout.num_timesteps(),
            self.rollout.total_timesteps(),
        );
        self.agent.set_learning_rate(lr);
        let metrics = self.agent.update(&batch)?;
        Ok(RolloutReport {
            episodes: self.rollout.take_episodes(),
            metrics,
        })
    }

    /// The run's length in environment steps, over which a `linear` learning-rate schedule falls
    /// to 0 (`cargo xtask` and `rl_runner` set it to `n_timesteps`). Without it the rate stays
    /// at `learning_rate`. A run resumed with another total continues on the new schedule.
    pub fn set_total_timesteps(&mut self, total: u64) {
        self.rollout.set_total_timesteps(total);
    }

    /// Saves the agent, counters and the vector env's exact state (normalization statistics
    /// included; the envs' own state if they support snapshots) into the folder `dir`. A trainer
    /// loaded from it continues bit for bit.
    pub fn save(&self, dir: &Path) -> Result<()> {
        self.agent.save(dir)?;
        Ok(self.rollout.save(dir)?)
    }

    /// Restores a folder written by [`save`](Self::save). Returns whether the envs' own state was
    /// restored, so that training continues bit for bit; if the envs do not support snapshots, the
    /// normalization statistics are restored and the next step starts new episodes.
    pub fn load(&mut self, dir: &Path) -> Result<bool> {
        self.agent.load_into(dir)?;
        Ok(self.rollout.load(dir)?)
    }
}
