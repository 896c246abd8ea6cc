//! The training run: its configuration, starting or resuming it, and the loop with logging,
//! evaluation, checkpoints, the final plot and summary (the checkpoints' contents are in
//! `checkpoints.rs`, evaluation in `evaluate.rs`, the run folder in `run_dir.rs`).

#![allow(
    clippy::print_stderr,
    reason = "a training run reports its progress on the console"
)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use candle_core::Device;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rl_nn::checkpoint::{CheckpointDir, write_json};
use serde::{Deserialize, Serialize};

use crate::algorithm::Algorithm;
use crate::checkpoints::{
    RunState, check_same_run, checkpoint, checkpoint_name, load_checkpoint, read_run_state,
};
use crate::config::{ConfigFile, RunConfig};
use crate::evaluate::evaluate_algorithm;
use crate::learners::{self, learner};
use crate::logs::{Logs, mean_std};
use crate::plot::learning_curve;
use crate::run_dir::{
    CONFIG_LIMIT, RunLock, check_new_dir, create_run_dir, default_run_dir, read_curve,
    read_run_config, read_text,
};
use crate::{Result, RunError};
/// What `cargo xtask train` asks for.
#[derive(Debug, Clone, Default)]
pub struct TrainOptions {
    /// The algorithm (`"sac"`).
    pub algo: String,
    /// The environment (default: the algorithm's default, or the config file's).
    pub env: Option<String>,
    /// A config file to use instead of the shipped preset.
    pub config: Option<PathBuf>,
    /// A shipped preset by name (default: the one named after the environment, if any).
    pub preset: Option<String>,
    /// `key=value` overrides, applied in order after the file or preset.
    pub sets: Vec<String>,
    /// Overrides `n_timesteps` (also when resuming: train on to this many steps).
    pub steps: Option<u64>,
    /// Overrides the seed.
    pub seed: Option<u64>,
    /// Save the replay buffer in checkpoints (exact resume).
    pub save_buffer: bool,
    /// The run folder (default: `runs/<algo>-<env>-seed<seed>-<time>`); it must not exist or be empty.
    pub out: Option<PathBuf>,
    /// Continue the run in this folder from its latest checkpoint instead of starting one.
    pub resume: Option<PathBuf>,
    /// Show a progress bar (when stderr is a terminal).
    pub progress: bool,
    /// After training, record the final policy's first evaluation episode as `episode.gif` in the
    /// run folder (the env must render: checked before anything is written).
    pub gif: bool,
    /// When set (by a Ctrl-C handler, say), training stops before its next step, writes a
    /// checkpoint at the step it reached and returns a summary marked `interrupted`.
    pub stop: Option<Arc<AtomicBool>>,
}

/// `summary.json`: what a finished run reports (scripts and CI read it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// The algorithm.
    pub algo: String,
    /// The environment id.
    pub env: String,
    /// The seed.
    pub seed: u64,
    /// Environment steps trained.
    pub env_steps: u64,
    /// Wall-clock seconds of training (summed over resumed sessions).
    pub wall_seconds: f64,
    /// `env_steps / wall_seconds`.
    pub steps_per_second: f64,
    /// Episodes in the final evaluation.
    pub eval_episodes: usize,
    /// Mean return of the final deterministic evaluation.
    pub eval_mean_return: f64,
    /// Standard deviation of those returns.
    pub eval_std_return: f64,
    /// Each evaluation episode's return.
    pub eval_returns: Vec<f64>,
    /// The device trained on.
    pub device: String,
    /// The last checkpoint, relative to the run folder.
    pub checkpoint: String,
    /// The run folder.
    pub run_dir: String,
    /// Training was stopped early through [`TrainOptions::stop`] (no final evaluation; the
    /// evaluation figures are the last periodic one's, or NaN). `summary.json` is written only
    /// by runs that finish.
    #[serde(default)]
    pub interrupted: bool,
}

impl Summary {
    /// The summary of the run in `dir` after `(steps, wall seconds)`, with the last evaluation's
    /// `returns` (mean and spread NaN without any) and its latest checkpoint.
    fn new(
        run: &RunConfig,
        dir: &Path,
        device: &Device,
        (step, wall_seconds): (u64, f64),
        returns: Vec<f64>,
        last_ckpt: &str,
        interrupted: bool,
    ) -> Self {
        let (mean, std) = if returns.is_empty() {
            (f64::NAN, f64::NAN)
        } else {
            mean_std(&returns)
        };
        Summary {
            algo: run.algo.clone(),
            env: run.env.clone(),
            seed: run.seed,
            env_steps: step,
            wall_seconds,
            steps_per_second: step as f64 / wall_seconds.max(1e-9),
            eval_episodes: returns.len(),
            eval_mean_return: mean,
            eval_std_return: std,
            eval_returns: returns,
            device: device_name(device),
            checkpoint: Path::new(last_ckpt)
                .strip_prefix(dir)
                .map_or(last_ckpt.to_owned(), |p| p.display().to_string()),
            run_dir: dir.display().to_string(),
            interrupted,
        }
    }
}

/// Resolves the configuration of a new run: preset (or `--config` file), `--set`s, then flags.
pub fn resolve(options: &TrainOptions) -> Result<(RunConfig, ConfigFile)> {
    let algo = options.algo.as_str();
    let mut file = match &options.config {
        Some(path) => ConfigFile::parse(&read_text(path, CONFIG_LIMIT)?)?,
        None => match &options.preset {
            Some(name) => match learner(algo)?.presets.get(name) {
                Some(text) => ConfigFile::parse(text)?,
                None => {
                    return Err(RunError::Config(format!(
                        "no {algo} preset {name:?}; the presets are {}",
                        learner(algo)?.presets.names().join(", ")
                    )));
                }
            },
            None => {
                let env = match &options.env {
                    Some(e) => e.clone(),
                    None => learner(algo)?.default_env.to_owned(),
                };
                match learner(algo)?.presets.get(&env) {
                    Some(text) => ConfigFile::parse(text)?,
                    None => ConfigFile::empty(),
                }
            }
        },
    };
    file.check_tables(algo)?;
    for s in &options.sets {
        file.set(s, algo)?;
    }
    let mut run = file.run()?;
    if !run.algo.is_empty() && run.algo != algo {
        return Err(RunError::Config(format!(
            "the config is for {}, not {algo}",
            run.algo
        )));
    }
    run.algo = algo.to_owned();
    if let Some(env) = &options.env {
        run.env = env.clone();
    }
    if run.env.is_empty() {
        run.env = learner(algo)?.default_env.to_owned();
    }
    if let Some(steps) = options.steps {
        run.n_timesteps = steps;
    }
    if let Some(seed) = options.seed {
        run.seed = seed;
    }
    run.save_buffer |= options.save_buffer;
    run.validate()?;
    Ok((run, file))
}

/// Trains as `options` say (a new run, or a resumed one) and returns the summary.
///
/// The environment is any id registered with [`rl_envs::register`] (a user's own environment
/// included), checked with [`rl_envs::check_env`] before anything is written: an env that breaks
/// its contract fails here with `check_env`'s message, and a new run that fails before its first
/// step leaves no run folder behind.
pub fn train(options: &TrainOptions, device: &Device) -> Result<Summary> {
    // The lock is held until training (and the GIF) is done: one writer per run folder.
    // `created`: a new run's folder that did not exist before (removed again if the run fails
    // before its first step).
    let (run, run_dir, mut algo, resumed_from, lock, created) = match &options.resume {
        Some(dir) => {
            let changed = [
                ("--config", options.config.is_some()),
                ("--set", !options.sets.is_empty()),
                ("--env", options.env.is_some()),
                ("--seed", options.seed.is_some()),
                ("--preset", options.preset.is_some()),
                ("--out", options.out.is_some()),
                ("--save-buffer", options.save_buffer),
            ];
            if let Some((flag, _)) = changed.iter().find(|(_, given)| *given) {
                return Err(RunError::Config(format!(
                    "{flag} cannot be used with --resume: a resumed run keeps its folder and configuration; only --steps may change"
                )));
            }
            let file = ConfigFile::parse(&read_run_config(dir)?)?;
            let lock = RunLock::acquire(dir)?;
            let mut run = file.run()?;
            run.validate()?;
            if run.algo != options.algo {
                return Err(RunError::Config(format!(
                    "{} was trained with {}, not {}: resume it with cargo xtask train {} --resume {}",
                    dir.display(),
                    run.algo,
                    options.algo,
                    run.algo,
                    dir.display()
                )));
            }
            if let Some(steps) = options.steps {
                run.n_timesteps = steps;
            }
            check_env_of(&run, options.gif)?;
            let mut algo = learners::build(&run, &file, device)?;
            let ckpt = CheckpointDir::new(dir.join("checkpoints"));
            let latest = ckpt.latest()?.ok_or_else(|| RunError::RunDir {
                path: dir.display().to_string(),
                reason: "no checkpoint to resume from".into(),
            })?;
            let state = read_run_state(&latest, &run)?;
            if let Some(saved) = &state.run {
                check_same_run(saved, &run, &latest)?;
            }
            let lost = load_checkpoint(algo.as_mut(), &latest)?;
            if algo.num_timesteps() != state.step {
                return Err(RunError::RunDir {
                    path: latest.display().to_string(),
                    reason: "run.json and the algorithm's files disagree on the step".into(),
                });
            }
            if !lost.is_empty() {
                eprintln!(
                    "note: the run continues from {}, but not bit for bit: {}",
                    latest.display(),
                    lost.join("; ")
                );
            }
            (run, dir.clone(), algo, Some(state), lock, false)
        }
        None => {
            let (run, file) = resolve(options)?;
            let dir = options.out.clone().unwrap_or_else(|| default_run_dir(&run));
            check_new_dir(&dir)?;
            check_env_of(&run, options.gif)?;
            let algo = learners::build(&run, &file, device)?;
            let resolved = ConfigFile::resolved(&run, algo.name(), algo.config_table()?)?;
            let existed = dir.exists();
            let lock = create_run_dir(&dir, &resolved.to_text()?)?;
            (run, dir, algo, None, lock, !existed)
        }
    };
    let summary = match run_loop(
        &run,
        &run_dir,
        algo.as_mut(),
        resumed_from,
        device,
        (options.progress, options.stop.as_deref()),
    ) {
        Ok(summary) => summary,
        Err(e) => {
            // A new run that failed before its first step (its envs or agent broke at once)
            // leaves nothing behind: there is nothing in the folder to resume or look at.
            if created && algo.num_timesteps() == 0 {
                drop(lock);
                let _ = std::fs::remove_dir_all(&run_dir);
            }
            return Err(e);
        }
    };
    if options.gif && !summary.interrupted {
        let label = format!("{} {}", run.algo.to_uppercase(), run.env);
        let recording = crate::video::record_episodes(algo.as_mut(), run.seed, 1, &label)?;
        if let Some(r) = recording.first() {
            crate::video::write_gif(&run_dir.join(EPISODE_GIF), &r.frames)?;
        }
    }
    drop(lock);
    Ok(summary)
}

/// The GIF `train` writes with [`TrainOptions::gif`], in the run folder.
pub const EPISODE_GIF: &str = "episode.gif";

/// Steps `rl_envs::check_env` takes on the run's environment before training.
const CHECK_ENV_STEPS: usize = 1_000;

/// `rl_envs::check_env` on a fresh env of the run's id: a broken env fails at the start of the run
/// with the rule it breaks, not with a panic or a NaN thousands of steps in. Warnings are printed.
/// With `render`, the env must also draw a frame (for the run's GIF).
fn check_env_of(run: &RunConfig, render: bool) -> Result<()> {
    let mut env = rl_envs::make(&run.env)?;
    let report = rl_envs::check_env(env.as_mut(), run.seed, CHECK_ENV_STEPS)?;
    for warning in &report.warnings {
        eprintln!("note: check_env({}): {warning}", run.env);
    }
    if render {
        env.reset(Some(run.seed))?;
        env.render()
            .map_err(|e| RunError::Config(format!("--gif: {e}")))?;
    }
    Ok(())
}

fn run_loop(
    run: &RunConfig,
    dir: &Path,
    algo: &mut dyn Algorithm,
    resumed: Option<RunState>,
    device: &Device,
    (progress, stop): (bool, Option<&AtomicBool>),
) -> Result<Summary> {
    let start_step = algo.num_timesteps();
    let mut logs = Logs::open(dir, resumed.as_ref().map(|s| s.step))?;
    let ckpt = CheckpointDir::new(dir.join("checkpoints"));
    let mut episodes = resumed.as_ref().map_or(0, |s| s.episodes);
    let wall_before = resumed.as_ref().map_or(0.0, |s| s.wall_seconds);
    let started = Instant::now();
    let wall = || wall_before + started.elapsed().as_secs_f64();
    let mut last_ckpt = ckpt
        .latest()?
        .map_or("none".to_owned(), |p| p.display().to_string());
    let mut total_updates = resumed.as_ref().map_or(0, |s| s.updates);
    let mut last_eval: Option<(u64, Vec<f64>)> = None;

    let bar = progress_bar(run, start_step, progress);
    let next_multiple = |step: u64, every: u64| (every > 0).then(|| (step / every + 1) * every);
    let mut next_eval = next_multiple(start_step, run.eval_freq);
    let mut next_ckpt = next_multiple(start_step, run.checkpoint_freq);
    let mut next_log = next_multiple(start_step, run.log_interval.max(1));

    let mut interrupted = false;
    while algo.num_timesteps() < run.n_timesteps {
        if stop.is_some_and(|s| s.load(Ordering::SeqCst)) {
            report(
                &bar,
                &format!(
                    "{}: stopping at step {}, writing a checkpoint (send it again to quit at once)",
                    crate::signals::signal_name(crate::signals::stop_signal()),
                    algo.num_timesteps()
                ),
            );
            interrupted = true;
            break;
        }
        let progress = algo.train_step().map_err(|e| RunError::Stopped {
            step: algo.num_timesteps(),
            checkpoint: last_ckpt.clone(),
            source: Box::new(e),
        })?;
        let step = algo.num_timesteps();
        for e in &progress.episodes {
            episodes += 1;
            logs.episode(step, episodes, e.episode_return, e.length)?;
        }
        for u in &progress.updates {
            logs.update(u);
            total_updates += 1;
        }
        if next_log.is_some_and(|n| step >= n) {
            logs.flush_train(step, total_updates, wall())?;
            next_log = next_multiple(step, run.log_interval.max(1));
        }
        if next_eval.is_some_and(|n| step >= n) {
            let returns = evaluate_algorithm(algo, run.seed, run.eval_episodes)?;
            let (mean, std) = logs.eval(step, &returns)?;
            report(
                &bar,
                &format!(
                    "step {step}: eval {mean:.1} ± {std:.1} over {} episodes",
                    returns.len()
                ),
            );
            last_eval = Some((step, returns));
            next_eval = next_multiple(step, run.eval_freq);
        }
        if next_ckpt.is_some_and(|n| step >= n) {
            logs.flush()?;
            let counters = (step, episodes, total_updates, wall());
            last_ckpt = checkpoint(&ckpt, run, algo, counters)?;
            next_ckpt = next_multiple(step, run.checkpoint_freq);
        }
        bar.set_position(step);
        if !progress.episodes.is_empty() {
            let recent = logs.recent_return(10).unwrap_or(f64::NAN);
            let eval = last_eval
                .as_ref()
                .map(|(_, r)| mean_std(r))
                .map_or(String::new(), |(m, s)| format!(" | eval {m:.1} ± {s:.1}"));
            bar.set_message(format!(
                "episodes {episodes} | return {recent:.1} (last 10){eval}"
            ));
        }
    }

    let step = algo.num_timesteps();
    logs.flush_train(step, total_updates, wall())?;
    if interrupted {
        logs.flush()?;
        if !last_ckpt.ends_with(&checkpoint_name(step)) {
            last_ckpt = checkpoint(&ckpt, run, algo, (step, episodes, total_updates, wall()))?;
        }
        bar.finish_and_clear();
        let returns = last_eval.map(|(_, r)| r).unwrap_or_default();
        return Ok(Summary::new(
            run,
            dir,
            device,
            (step, wall()),
            returns,
            &last_ckpt,
            true,
        ));
    }
    let returns = match last_eval {
        Some((s, r)) if s == step => r,
        _ => {
            let r = evaluate_algorithm(algo, run.seed, run.eval_episodes)?;
            logs.eval(step, &r)?;
            r
        }
    };
    logs.flush()?;
    if !last_ckpt.ends_with(&checkpoint_name(step)) {
        last_ckpt = checkpoint(&ckpt, run, algo, (step, episodes, total_updates, wall()))?;
    }
    bar.finish_and_clear();

    let curve = read_curve(dir)?;
    let title = format!(
        "{} on {} (seed {})",
        algo.name().to_uppercase(),
        run.env,
        run.seed
    );
    learning_curve(&dir.join("learning_curve.png"), &title, &curve)?;

    let summary = Summary::new(run, dir, device, (step, wall()), returns, &last_ckpt, false);
    let json = serde_json::to_value(&summary).map_err(|e| RunError::Config(e.to_string()))?;
    write_json(&dir.join("summary.json"), &json)?;
    Ok(summary)
}

fn progress_bar(run: &RunConfig, start: u64, show: bool) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(run.n_timesteps), ProgressDrawTarget::stderr());
    if !show {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    if let Ok(style) = ProgressStyle::with_template(
        "{elapsed_precise} [{bar:25}] {pos}/{len} steps ({per_sec}, ETA {eta}) {msg}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_position(start);
    bar
}

/// A line for the console: above the bar on a terminal, plain on stderr otherwise (CI logs).
fn report(bar: &ProgressBar, line: &str) {
    if bar.is_hidden() {
        eprintln!("{line}");
    } else {
        bar.println(line);
    }
}

fn device_name(device: &Device) -> String {
    match device {
        Device::Cpu => "cpu".into(),
        Device::Cuda(_) => "cuda".into(),
        Device::Metal(_) => "metal".into(),
    }
}

/// The device named `cpu`, `cuda` or `metal`, if this build supports it.
pub fn parse_device(name: &str) -> Result<Device> {
    match name {
        "cpu" => Ok(Device::Cpu),
        "cuda" if cfg!(feature = "cuda") => {
            Device::new_cuda(0).map_err(|e| RunError::Device(format!("CUDA device 0: {e}")))
        }
        "metal" if cfg!(feature = "metal") => {
            Device::new_metal(0).map_err(|e| RunError::Device(format!("Metal device 0: {e}")))
        }
        "cuda" => Err(RunError::Device(
            "this build has no cuda support: build it with the `cuda` feature of rl-runner (cargo xtask turns on xtask's for --device cuda)".into(),
        )),
        "metal" => Err(RunError::Device(
            "this build has no metal support: build it with the `metal` feature of rl-runner (cargo xtask: --features metal)".into(),
        )),
        other => Err(RunError::Device(format!(
            "unknown device {other:?}: use cpu, cuda or metal"
        ))),
    }
}
