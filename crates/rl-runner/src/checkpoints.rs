//! A run's checkpoints: what the runner writes beside the algorithm's files (`run.json`), and
//! reading them back for a resume.

use std::path::Path;

use rl_nn::checkpoint::{CheckpointDir, read_json, write_json};
use serde::{Deserialize, Serialize};

use crate::algorithm::Algorithm;
use crate::config::RunConfig;
use crate::{Result, RunError};

/// What the runner keeps in each checkpoint beside the algorithm's files (`run.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct RunState {
    pub(crate) format: String,
    pub(crate) algo: String,
    pub(crate) env: String,
    pub(crate) step: u64,
    pub(crate) episodes: u64,
    pub(crate) updates: u64,
    pub(crate) wall_seconds: f64,
    pub(crate) exact_resume: bool,
    /// The `[run]` table the checkpoint was written under (absent in older checkpoints).
    #[serde(default)]
    pub(crate) run: Option<RunConfig>,
}

pub(crate) const FORMAT: &str = "rl-checkpoint/1";

pub(crate) fn checkpoint_name(step: u64) -> String {
    format!("step-{step:012}")
}

/// Writes a checkpoint; `(step, episodes, updates, wall_seconds)` are the runner's counters.
pub(crate) fn checkpoint(
    ckpt: &CheckpointDir,
    run: &RunConfig,
    algo: &dyn Algorithm,
    (step, episodes, updates, wall_seconds): (u64, u64, u64, f64),
) -> Result<String> {
    let state = RunState {
        format: FORMAT.into(),
        algo: run.algo.clone(),
        env: run.env.clone(),
        step,
        episodes,
        updates,
        wall_seconds,
        exact_resume: run.save_buffer,
        run: Some(run.clone()),
    };
    let json = serde_json::to_value(&state).map_err(|e| RunError::Config(e.to_string()))?;
    let mut failure = None;
    let path = ckpt.save(&checkpoint_name(step), run.keep_checkpoints, |tmp| {
        if let Err(e) = algo.save(tmp, run.save_buffer) {
            failure = Some(e);
            return Err(rl_nn::NnError::Invalid(
                "the algorithm could not save".into(),
            ));
        }
        write_json(&tmp.join("run.json"), &json)
    });
    if let Some(e) = failure {
        return Err(e);
    }
    Ok(path?.display().to_string())
}

/// Verifies the checksums of the checkpoint folder `dir`, then loads it into `algo`; any error
/// names the folder. Returns what could not be restored (see [`Algorithm::load`]).
pub(crate) fn load_checkpoint(algo: &mut dyn Algorithm, dir: &Path) -> Result<Vec<String>> {
    let path = dir.display().to_string();
    let wrap = |e: RunError| {
        if e.to_string().contains(&path) {
            e
        } else {
            RunError::Load {
                path: path.clone(),
                source: Box::new(e),
            }
        }
    };
    rl_nn::checkpoint::verify(dir).map_err(|e| wrap(e.into()))?;
    algo.load(dir).map_err(wrap)
}

/// A resumed run may change its `[run]` table's budget (`n_timesteps`, through `--steps`) and
/// nothing else: any other difference from the checkpoint's table (an edit of `config.toml`) is
/// an error naming the key. (The algorithm's table is checked the same way by its `load`.)
pub(crate) fn check_same_run(saved: &RunConfig, run: &RunConfig, checkpoint: &Path) -> Result<()> {
    let budget_aside = |r: &RunConfig| RunConfig {
        n_timesteps: 0,
        ..r.clone()
    };
    match rl_nn::checkpoint::first_difference(&budget_aside(saved), &budget_aside(run)) {
        Some((key, was, now)) => Err(RunError::RunDir {
            path: checkpoint.display().to_string(),
            reason: format!(
                "was written with run.{key} = {was}, and config.toml now says {now}: a resumed run keeps its configuration; only n_timesteps (--steps) may change"
            ),
        }),
        None => Ok(()),
    }
}

pub(crate) fn read_run_state(dir: &Path, run: &RunConfig) -> Result<RunState> {
    let path = dir.join("run.json");
    let state: RunState =
        serde_json::from_value(read_json(&path)?).map_err(|e| RunError::RunDir {
            path: path.display().to_string(),
            reason: format!("not a checkpoint manifest ({e})"),
        })?;
    if state.format != FORMAT {
        return Err(RunError::RunDir {
            path: path.display().to_string(),
            reason: format!("format {:?}, expected {FORMAT:?}", state.format),
        });
    }
    if state.algo != run.algo || state.env != run.env {
        return Err(RunError::RunDir {
            path: path.display().to_string(),
            reason: format!(
                "the checkpoint is {} on {}, the run folder's config says {} on {}",
                state.algo, state.env, run.algo, run.env
            ),
        });
    }
    Ok(state)
}
