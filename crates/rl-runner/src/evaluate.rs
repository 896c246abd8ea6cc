//! Evaluating a policy: deterministic episodes on the run's evaluation seeds, of a training
//! algorithm or of a saved run.

use std::path::Path;

use candle_core::Device;
use rl_envs::{Env, OwnedAction};
use rl_nn::checkpoint::CheckpointDir;

use crate::algorithm::Algorithm;
use crate::checkpoints::{load_checkpoint, read_run_state};
use crate::config::{ConfigFile, RunConfig};
use crate::learners;
use crate::run_dir::read_run_config;
use crate::{Result, RunError};

/// The seed of evaluation episode `i` of a run seeded `seed`: the same start states at every
/// evaluation (so evaluations compare), in `cargo xtask eval` too, and apart from training's.
pub fn eval_seed(seed: u64, i: usize) -> u64 {
    seed.wrapping_mul(1_000_003)
        .wrapping_add(1_000_000 + i as u64)
}

/// How evaluation episodes choose actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EvalActions {
    /// The policy's deterministic action (the mean, or the most probable action): what training
    /// evaluates and the regression table compares, as rl-baselines3-zoo does.
    #[default]
    Deterministic,
    /// Actions sampled from the policy, with the checkpoint's own generator (the same numbers
    /// every time for one checkpoint): Stable-Baselines 2's zoo evaluated its on-policy learners
    /// (A2C, ACER, PPO2) this way.
    Stochastic,
}

/// Evaluates the latest checkpoint of the run in `dir` over `episodes` deterministic episodes
/// (the run's evaluation seeds), returning each episode's return.
pub fn evaluate_run(dir: &Path, episodes: usize, device: &Device) -> Result<Vec<f64>> {
    evaluate_run_with(dir, episodes, device, EvalActions::Deterministic)
}

/// [`evaluate_run`] with the actions chosen as `actions` says.
pub fn evaluate_run_with(
    dir: &Path,
    episodes: usize,
    device: &Device,
    actions: EvalActions,
) -> Result<Vec<f64>> {
    let (run, mut algo) = load_run(dir, device)?;
    evaluate_episodes(algo.as_mut(), run.seed, episodes, actions)
}

/// The run in `dir` rebuilt from its `config.toml` and loaded from its latest checkpoint (checksums
/// verified first), ready to act: a trained policy for use elsewhere.
pub fn load_run(dir: &Path, device: &Device) -> Result<(RunConfig, Box<dyn Algorithm>)> {
    let file = ConfigFile::parse(&read_run_config(dir)?)?;
    let run = file.run()?;
    run.validate()?;
    let mut algo = learners::build(&run, &file, device)?;
    let latest = CheckpointDir::new(dir.join("checkpoints"))
        .latest()?
        .ok_or_else(|| RunError::RunDir {
            path: dir.display().to_string(),
            reason: "no checkpoint to load".into(),
        })?;
    read_run_state(&latest, &run)?;
    load_checkpoint(algo.as_mut(), &latest)?;
    Ok((run, algo))
}

/// `episodes` deterministic episodes on a fresh evaluation env, episode `i` reset with
/// [`eval_seed`]`(seed, i)`.
pub fn evaluate_algorithm(
    algo: &mut dyn Algorithm,
    seed: u64,
    episodes: usize,
) -> Result<Vec<f64>> {
    evaluate_episodes(algo, seed, episodes, EvalActions::Deterministic)
}

fn evaluate_episodes(
    algo: &mut dyn Algorithm,
    seed: u64,
    episodes: usize,
    actions: EvalActions,
) -> Result<Vec<f64>> {
    if !(1..=crate::config::MAX_EVAL_EPISODES).contains(&episodes) {
        return Err(RunError::Config(format!(
            "episodes must be in 1..={}, got {episodes}",
            crate::config::MAX_EVAL_EPISODES
        )));
    }
    let mut env = algo.eval_env()?;
    (0..episodes)
        .map(|i| {
            let seed = eval_seed(seed, i);
            run_episode(algo, env.as_mut(), seed, actions, |_, _| Ok(()))
        })
        .collect()
}

/// One episode of `algo` on `env` from `reset(Some(seed))`; `each` sees the env and the return
/// so far after the reset and after every step. Returns the episode's return.
pub(crate) fn run_episode(
    algo: &mut dyn Algorithm,
    env: &mut (dyn Env + Send),
    seed: u64,
    actions: EvalActions,
    mut each: impl FnMut(&dyn Env, f64) -> Result<()>,
) -> Result<f64> {
    // Continuous actions are clipped to the bounds, as training clips what it sends the env.
    let bounds = env
        .action_space()
        .as_box()
        .map(|b| (b.low().to_vec(), b.high().to_vec()));
    let mut obs = env.reset(Some(seed))?.to_vec();
    let mut total = 0.0;
    each(env, total)?;
    loop {
        let mut action = algo.act(&obs, actions == EvalActions::Deterministic)?;
        if let (OwnedAction::Continuous(a), Some((low, high))) = (&mut action, &bounds) {
            for (x, (lo, hi)) in a.iter_mut().zip(low.iter().zip(high)) {
                *x = x.clamp(*lo, *hi);
            }
        }
        let step = env.step(action.as_action())?;
        total += step.reward;
        let done = step.terminated || step.truncated;
        obs.clear();
        obs.extend_from_slice(step.observation);
        each(env, total)?;
        if done {
            return Ok(total);
        }
    }
}
