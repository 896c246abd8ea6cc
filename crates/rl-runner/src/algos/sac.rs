//! SAC through [`SacTrainer`].

use std::path::Path;

use candle_core::Device;
use rl_envs::wrappers::RescaleAction;
use rl_envs::{BoxedEnv, OwnedAction, make};
use rl_sac::{ActionSpec, Sac, SacConfig, SacTrainer};

use crate::algorithm::{Algorithm, EpisodeLog, Progress, not_snapshotted};
use crate::config::RunConfig;
use crate::{Result, RunError};

pub(crate) struct SacAlgorithm {
    trainer: SacTrainer<BoxedEnv>,
    env_id: String,
}

/// The metrics of one update, with SB3's names.
fn metrics(m: &rl_sac::UpdateMetrics) -> Vec<(&'static str, f64)> {
    let mut v = vec![
        ("critic_loss", m.critic_loss),
        ("actor_loss", m.actor_loss),
        ("ent_coef", m.ent_coef),
        ("entropy", m.entropy),
        ("mean_q", m.mean_q),
    ];
    if let Some(l) = m.ent_coef_loss {
        v.push(("ent_coef_loss", l));
    }
    if let Some(l) = m.value_loss {
        v.push(("value_loss", l));
    }
    v
}

impl SacAlgorithm {
    pub(crate) fn new(run: &RunConfig, sac_table: &toml::Table, device: &Device) -> Result<Self> {
        let config = SacConfig::from_table(sac_table)?;
        let env = make(&run.env)?;
        let agent = Sac::for_env(config, &env, device, run.seed)?;
        let mut trainer = SacTrainer::new(agent, env, run.seed)?;
        trainer.set_total_timesteps(run.n_timesteps);
        Ok(Self {
            trainer,
            env_id: run.env.clone(),
        })
    }
}

impl Algorithm for SacAlgorithm {
    fn name(&self) -> &'static str {
        "sac"
    }

    fn num_timesteps(&self) -> u64 {
        self.trainer.num_timesteps()
    }

    fn train_step(&mut self) -> Result<Progress> {
        let report = self.trainer.step()?;
        Ok(Progress {
            episodes: report
                .episode
                .map(|e| EpisodeLog {
                    episode_return: e.episode_return,
                    length: e.length,
                })
                .into_iter()
                .collect(),
            updates: report.updates.iter().map(metrics).collect(),
        })
    }

    fn eval_env(&self) -> Result<BoxedEnv> {
        let env = make(&self.env_id)?;
        Ok(match self.trainer.agent().action_spec() {
            ActionSpec::Continuous { .. } => Box::new(RescaleAction::new(env)?),
            ActionSpec::Discrete { .. } => env,
        })
    }

    fn act(&mut self, obs: &[f32], deterministic: bool) -> Result<OwnedAction> {
        Ok(self.trainer.agent_mut().act(obs, deterministic)?)
    }

    fn save(&self, dir: &Path, with_buffer: bool) -> Result<()> {
        Ok(self.trainer.save(dir, with_buffer)?)
    }

    fn load(&mut self, dir: &Path) -> Result<Vec<String>> {
        let restored = self.trainer.load(dir)?;
        let mut lost = Vec::new();
        if !restored.buffer {
            lost.push("no replay buffer (train with --save-buffer to keep it)".to_owned());
        }
        if !restored.env {
            lost.push(not_snapshotted(&self.env_id));
        }
        Ok(lost)
    }

    fn config_table(&self) -> Result<toml::Table> {
        toml::Table::try_from(self.trainer.agent().config())
            .map_err(|e| RunError::Config(e.to_string()))
    }
}
