//! [`Algorithm`]: what the runner needs from a learner, and the adapters for ours.

use std::path::Path;

use candle_core::Device;
use rl_envs::{BoxedEnv, OwnedAction};

use crate::config::{ConfigFile, RunConfig};
use crate::{Result, RunError};

/// One episode the training envs finished: the on-policy learners' own record of it (their
/// trainers report exactly this type).
pub type EpisodeLog = rl_envs::EpisodeEnd;

/// What one [`Algorithm::train_step`] did: the episodes it finished and one set of metrics per
/// gradient update (the runner averages them over `log_interval`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Progress {
    /// Finished episodes.
    pub episodes: Vec<EpisodeLog>,
    /// Per update: `(name, value)` pairs (SB3's names without the `train/` prefix).
    pub updates: Vec<Vec<(&'static str, f64)>>,
}

/// A learner the runner can train, evaluate, checkpoint and resume.
pub trait Algorithm {
    /// The algorithm's name (`"sac"`), also its config table's name.
    fn name(&self) -> &'static str;

    /// Environment steps taken so far (over all training envs).
    fn num_timesteps(&self) -> u64;

    /// One unit of training: SAC's environment step with its gradient steps, A2C's rollout and
    /// update. Errors (a NaN loss, a non-finite observation) stop the run.
    fn train_step(&mut self) -> Result<Progress>;

    /// A fresh environment to evaluate on, wrapped as the policy expects.
    fn eval_env(&self) -> Result<BoxedEnv>;

    /// The deterministic (evaluation) action for an observation of [`eval_env`](Self::eval_env).
    fn act_deterministic(&mut self, obs: &[f32]) -> Result<OwnedAction>;

    /// Writes everything needed to resume into the folder `dir`.
    fn save(&self, dir: &Path, with_buffer: bool) -> Result<()>;

    /// Restores from a folder written by [`save`](Self::save); returns what could not be
    /// restored, each as a phrase for the user (empty: the run continues bit for bit).
    fn load(&mut self, dir: &Path) -> Result<Vec<String>>;

    /// The algorithm's resolved hyperparameters (defaults filled in), for `config.toml`.
    fn config_table(&self) -> Result<toml::Table>;
}

/// What a resumed run lacks when its env does not support snapshots.
pub(crate) fn not_snapshotted(env: &str) -> String {
    format!("{env} does not support snapshots (Env::snapshot), so new episodes start")
}

/// The algorithms the runner knows.
pub const ALGORITHMS: &[&str] = &["sac", "a2c", "acer"];

/// The environment an algorithm trains on when none is given.
pub fn default_env(algo: &str) -> Result<&'static str> {
    match algo {
        "sac" => Ok("Pendulum-v1"),
        "a2c" => Ok("CartPole-v1"),
        "acer" => Ok("CartPole-v1"),
        other => Err(unknown(other)),
    }
}

/// The shipped preset of `algo` named `name` (an environment id, or a variant's name), if there
/// is one.
pub fn preset(algo: &str, name: &str) -> Result<Option<&'static str>> {
    match algo {
        "sac" => Ok(rl_sac::presets::get(name)),
        "a2c" => Ok(rl_a2c::presets::get(name)),
        "acer" => Ok(rl_acer::presets::get(name)),
        other => Err(unknown(other)),
    }
}

/// Every preset name of `algo`.
pub fn preset_names(algo: &str) -> Result<&'static [&'static str]> {
    match algo {
        "sac" => Ok(rl_sac::presets::NAMES),
        "a2c" => Ok(rl_a2c::presets::NAMES),
        "acer" => Ok(rl_acer::presets::NAMES),
        other => Err(unknown(other)),
    }
}

/// Builds `run.algo` for `run.env` from the configuration's algorithm table.
pub fn build(run: &RunConfig, file: &ConfigFile, device: &Device) -> Result<Box<dyn Algorithm>> {
    match run.algo.as_str() {
        "sac" => Ok(Box::new(crate::algos::sac::SacAlgorithm::new(
            run,
            &file.algo_text("sac")?,
            device,
        )?)),
        "a2c" => Ok(Box::new(crate::algos::a2c::A2cAlgorithm::new(
            run,
            &file.algo_text("a2c")?,
            device,
        )?)),
        "acer" => Ok(Box::new(crate::algos::acer::AcerAlgorithm::new(
            run,
            &file.algo_text("acer")?,
            device,
        )?)),
        other => Err(unknown(other)),
    }
}

fn unknown(algo: &str) -> RunError {
    RunError::Config(format!(
        "unknown algorithm {algo:?}; known: {}",
        ALGORITHMS.join(", ")
    ))
}
