//! ACER through [`AcerTrainer`].

use std::path::Path;

use candle_core::{Device, Tensor};
use rl_acer::{Acer, AcerConfig, AcerTrainer};
use rl_envs::{BoxedEnv, OwnedAction, SyncVectorEnv};

use super::{eval_env_with, lost_unless, single_action};
use crate::algorithm::{Algorithm, Progress};
use crate::config::RunConfig;
use crate::{Result, RunError};

pub(crate) struct AcerAlgorithm {
    trainer: AcerTrainer,
    env_id: String,
}

impl AcerAlgorithm {
    pub(crate) fn new(run: &RunConfig, table: &toml::Table, device: &Device) -> Result<Self> {
        let config = AcerConfig::from_table(table)?;
        let venv = SyncVectorEnv::make(&run.env, config.n_envs)?;
        let (obs_dim, action) = rl_envs::learner_spaces(
            "ACER",
            &run.env,
            venv.observation_space(),
            venv.action_space(),
            false,
        )?;
        let agent = Acer::new(config, obs_dim, action, device, run.seed)?;
        let mut trainer = AcerTrainer::new(agent, venv, run.seed)?;
        // The learning-rate schedule (SB2's `linear` by default) runs over the run's length.
        trainer.set_total_timesteps(run.n_timesteps);
        Ok(Self {
            trainer,
            env_id: run.env.clone(),
        })
    }
}

impl Algorithm for AcerAlgorithm {
    fn name(&self) -> &'static str {
        "acer"
    }

    fn num_timesteps(&self) -> u64 {
        self.trainer.num_timesteps()
    }

    fn train_step(&mut self) -> Result<Progress> {
        let report = self.trainer.step()?;
        let updates = report
            .updates
            .iter()
            .map(|m| {
                vec![
                    ("policy_loss", m.policy_loss),
                    ("q_loss", m.q_loss),
                    ("entropy", m.entropy),
                    ("rho", m.rho),
                    ("trust_region_scale", m.trust_region_scale),
                    ("grad_norm", m.grad_norm),
                    ("off_policy", if m.off_policy { 1.0 } else { 0.0 }),
                ]
            })
            .collect();
        Ok(Progress {
            episodes: report.episodes,
            updates,
        })
    }

    fn eval_env(&self) -> Result<BoxedEnv> {
        eval_env_with(&self.env_id, self.trainer.env().stats().obs.as_ref())
    }

    fn act(&mut self, obs: &[f32], deterministic: bool) -> Result<OwnedAction> {
        let agent = self.trainer.agent_mut();
        let x = Tensor::from_slice(obs, (1, obs.len()), agent.device())
            .map_err(rl_acer::AcerError::from)?;
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
