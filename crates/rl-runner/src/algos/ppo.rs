//! PPO through [`PpoTrainer`].

use std::path::Path;

use candle_core::{Device, Tensor};
use rl_envs::{BoxedEnv, OwnedAction, SyncVectorEnv};
use rl_ppo::{Ppo, PpoConfig, PpoTrainer};

use super::{eval_env_with, lost_unless, single_action};
use crate::algorithm::{Algorithm, Progress};
use crate::config::RunConfig;
use crate::{Result, RunError};

pub(crate) struct PpoAlgorithm {
    trainer: PpoTrainer,
    env_id: String,
}

impl PpoAlgorithm {
    pub(crate) fn new(run: &RunConfig, table: &toml::Table, device: &Device) -> Result<Self> {
        let config = PpoConfig::from_table(table)?;
        let venv = SyncVectorEnv::make(&run.env, config.n_envs)?;
        let (obs_dim, action) = rl_envs::learner_spaces(
            "PPO",
            &run.env,
            venv.observation_space(),
            venv.action_space(),
            false,
        )?;
        let agent = Ppo::new(config, obs_dim, action, device, run.seed)?;
        let mut trainer = PpoTrainer::new(agent, venv, run.seed)?;
        // A `linear` learning-rate schedule runs over the run's length.
        trainer.set_total_timesteps(run.n_timesteps);
        Ok(Self {
            trainer,
            env_id: run.env.clone(),
        })
    }
}

impl Algorithm for PpoAlgorithm {
    fn name(&self) -> &'static str {
        "ppo"
    }

    fn num_timesteps(&self) -> u64 {
        self.trainer.num_timesteps()
    }

    fn train_step(&mut self) -> Result<Progress> {
        let report = self.trainer.step()?;
        let m = report.metrics;
        let mut metrics = vec![
            ("policy_gradient_loss", m.policy_gradient_loss),
            ("value_loss", m.value_loss),
            ("entropy_loss", m.entropy_loss),
            ("loss", m.loss),
            ("approx_kl", m.approx_kl),
            ("clip_fraction", m.clip_fraction),
            ("clip_range", m.clip_range),
            ("grad_norm", m.grad_norm),
            ("explained_variance", m.explained_variance),
            ("epochs", m.epochs as f64),
        ];
        if let Some(std) = m.std {
            metrics.push(("std", std));
        }
        Ok(Progress {
            episodes: report.episodes,
            updates: vec![metrics],
        })
    }

    fn eval_env(&self) -> Result<BoxedEnv> {
        eval_env_with(&self.env_id, self.trainer.env().stats().obs.as_ref())
    }

    fn act(&mut self, obs: &[f32], deterministic: bool) -> Result<OwnedAction> {
        let agent = self.trainer.agent_mut();
        let x = Tensor::from_slice(obs, (1, obs.len()), agent.device())
            .map_err(rl_ppo::PpoError::from)?;
        let acted = agent.act_batch(&x, deterministic)?;
        Ok(single_action(agent.action_spec(), acted.actions))
    }

    fn save(&self, dir: &Path, _with_buffer: bool) -> Result<()> {
        Ok(self.trainer.save(dir)?)
    }

    fn load(&mut self, dir: &Path) -> Result<Vec<String>> {
        Ok(lost_unless(self.trainer.load(dir)?, &self.env_id))
    }

    fn config_table(&self) -> Result<toml::Table> {
        toml::Table::try_from(self.trainer.agent().config())
            .map_err(|e| RunError::Config(e.to_string()))
    }
}
