//! A2C through [`A2cTrainer`].

use std::path::Path;

use candle_core::{Device, Tensor};
use rl_a2c::{A2c, A2cConfig, A2cTrainer};
use rl_envs::{BoxedEnv, OwnedAction, SyncVectorEnv};

use super::{eval_env_with, lost_unless, single_action};
use crate::algorithm::{Algorithm, Progress};
use crate::config::RunConfig;
use crate::{Result, RunError};

pub(crate) struct A2cAlgorithm {
    trainer: A2cTrainer,
    env_id: String,
}

impl A2cAlgorithm {
    pub(crate) fn new(run: &RunConfig, table: &toml::Table, device: &Device) -> Result<Self> {
        let config = A2cConfig::from_table(table)?;
        let venv = SyncVectorEnv::make(&run.env, config.n_envs)?;
        let (obs_dim, action) = rl_envs::learner_spaces(
            "A2C",
            &run.env,
            venv.observation_space(),
            venv.action_space(),
            false,
        )?;
        let agent = A2c::new(config, obs_dim, action, device, run.seed)?;
        let mut trainer = A2cTrainer::new(agent, venv, run.seed)?;
        // A `linear` learning-rate schedule runs over the run's length.
        trainer.set_total_timesteps(run.n_timesteps);
        Ok(Self {
            trainer,
            env_id: run.env.clone(),
        })
    }
}

impl Algorithm for A2cAlgorithm {
    fn name(&self) -> &'static str {
        "a2c"
    }

    fn num_timesteps(&self) -> u64 {
        self.trainer.num_timesteps()
    }

    fn train_step(&mut self) -> Result<Progress> {
        let report = self.trainer.step()?;
        let m = report.metrics;
        let mut metrics = vec![
            ("policy_loss", m.policy_loss),
            ("value_loss", m.value_loss),
            ("entropy_loss", m.entropy_loss),
            ("grad_norm", m.grad_norm),
            ("explained_variance", m.explained_variance),
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
            .map_err(rl_a2c::A2cError::from)?;
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
