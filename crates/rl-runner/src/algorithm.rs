//! [`Algorithm`]: what the runner needs from a learner (the adapters for ours are in `algos/`,
//! listed in [`crate::learners`]).

use std::path::Path;

use rl_envs::{BoxedEnv, OwnedAction};

use crate::Result;

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

    /// The policy's action for an observation of [`eval_env`](Self::eval_env): its deterministic
    /// (evaluation) action, or one sampled from it with the agent's own generator (which training
    /// also draws from: sample only from a policy that is no longer training, as
    /// [`evaluate_run_with`](crate::evaluate_run_with) does).
    fn act(&mut self, obs: &[f32], deterministic: bool) -> Result<OwnedAction>;

    /// The deterministic (evaluation) action for an observation of [`eval_env`](Self::eval_env).
    fn act_deterministic(&mut self, obs: &[f32]) -> Result<OwnedAction> {
        self.act(obs, true)
    }

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
