//! ACER through [`AcerTrainer`].

use std::path::Path;

use candle_core::{Device, Tensor};
use rl_acer::{Acer, AcerConfig, AcerTrainer};
use rl_buffer::ActionSpec;
use rl_envs::wrappers::NormalizeObservation;
use rl_envs::{BoxedEnv, OwnedAction, SyncVectorEnv, make};

use crate::algorithm::{Algorithm, Progress, not_snapshotted};
use crate::config::RunConfig;
use crate::{Result, RunError};

pub(crate) struct AcerAlgorithm {
    trainer: AcerTrainer,
    env_id: String,
}

impl AcerAlgorithm {
    pub(crate) fn new(run: &RunConfig, table: &str, device: &Device) -> Result<Self> {
        let config = AcerConfig::from_toml(table)?;
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
        let env = make(&self.env_id)?;
        match &self.trainer.env().stats().obs {
            // The training statistics, frozen: what the policy was trained to see.
            Some(stats) => {
                let mut norm = NormalizeObservation::new(env).with_clip(10.0)?;
                norm.set_stats(stats.clone())?;
                norm.set_update(false);
                Ok(Box::new(norm))
            }
            None => Ok(env),
        }
    }

    fn act_deterministic(&mut self, obs: &[f32]) -> Result<OwnedAction> {
        let agent = self.trainer.agent_mut();
        let x = Tensor::from_slice(obs, (1, obs.len()), agent.device())
            .map_err(rl_acer::AcerError::from)?;
        let acted = agent.act_batch(&x, true)?;
        Ok(match agent.action_spec() {
            ActionSpec::Discrete { .. } => OwnedAction::Discrete(acted.actions[0] as usize),
            ActionSpec::Continuous { .. } => OwnedAction::Continuous(acted.actions),
        })
    }

    fn save(&self, dir: &Path, _with_buffer: bool) -> Result<()> {
        Ok(self.trainer.save(dir)?)
    }

    fn load(&mut self, dir: &Path) -> Result<Vec<String>> {
        let exact = self.trainer.load(dir)?;
        Ok(if exact {
            Vec::new()
        } else {
            vec![not_snapshotted(&self.env_id)]
        })
    }

    fn config_table(&self) -> Result<toml::Table> {
        toml::Table::try_from(self.trainer.agent().config())
            .map_err(|e| RunError::Config(e.to_string()))
    }
}
