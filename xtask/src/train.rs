//! `cargo xtask train` and `cargo xtask eval`: thin fronts over `rl-runner`.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::Result;
use clap::Args;
use rl_runner::{EvalActions, TrainOptions, evaluate_run_with, parse_device, train};

#[derive(Args)]
pub(crate) struct TrainArgs {
    /// The algorithm: sac, a2c, acer or ppo.
    algo: String,
    /// Environment id (default: the algorithm's default, Pendulum-v1 for SAC).
    #[arg(long)]
    env: Option<String>,
    /// A TOML config file (a run table and the algorithm's table) instead of the shipped preset.
    #[arg(long)]
    config: Option<PathBuf>,
    /// A shipped preset by name (default: the one for --env), e.g. Pendulum-v1-sac-v1.
    #[arg(long, conflicts_with = "config")]
    preset: Option<String>,
    /// Environment steps to train for (overrides n_timesteps; with --resume, the new total).
    #[arg(long)]
    steps: Option<u64>,
    /// Seed of every random draw.
    #[arg(long)]
    seed: Option<u64>,
    /// cpu, cuda or metal (for cuda, cargo xtask re-runs itself built with CUDA: docs/cuda.md; metal
    /// needs --features metal).
    #[arg(long, default_value = "cpu")]
    device: String,
    /// Run folder (default: runs/<algo>-<env>-seed<seed>-<unix time>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Override a config value, e.g. --set learning_rate=3e-4 --set run.eval_freq=5000.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    sets: Vec<String>,
    /// Save the replay buffer in checkpoints, so --resume continues bit for bit.
    #[arg(long)]
    save_buffer: bool,
    /// Continue the run in RUN_DIR from its latest checkpoint.
    #[arg(long, value_name = "RUN_DIR")]
    resume: Option<PathBuf>,
    /// No progress bar (it is also hidden when stderr is not a terminal).
    #[arg(long)]
    no_progress: bool,
    /// After training, write the final policy's first evaluation episode as an animated GIF,
    /// `episode.gif` in the run folder.
    #[arg(long)]
    gif: bool,
}

#[derive(Args)]
pub(crate) struct EvalArgs {
    /// A run folder written by `cargo xtask train`.
    run_dir: PathBuf,
    /// Episodes to run.
    #[arg(long, default_value_t = 10)]
    episodes: usize,
    /// Sample actions from the policy instead of taking its deterministic action (Stable-Baselines
    /// 2's zoo evaluated A2C, ACER and PPO2 so).
    #[arg(long)]
    stochastic: bool,
    /// cpu, cuda or metal.
    #[arg(long, default_value = "cpu")]
    device: String,
    /// Also write episodes as an animated GIF to FILE: the evaluation's seeded episodes from the
    /// first on (with `--stochastic`, sampled actions as in the evaluation).
    #[arg(long, value_name = "FILE")]
    gif: Option<PathBuf>,
    /// Episodes in the GIF (the first of the run's evaluation episodes).
    #[arg(long, default_value_t = 1)]
    gif_episodes: usize,
}

fn options(args: &TrainArgs) -> TrainOptions {
    TrainOptions {
        algo: args.algo.to_lowercase(),
        env: args.env.clone(),
        config: args.config.clone(),
        preset: args.preset.clone(),
        sets: args.sets.clone(),
        steps: args.steps,
        seed: args.seed,
        save_buffer: args.save_buffer,
        out: args.out.clone(),
        resume: args.resume.clone(),
        progress: !args.no_progress,
        gif: args.gif,
        stop: None,
    }
}

/// The environment the command trains on (`None` if its configuration does not resolve: the
/// command itself then reports why).
pub(crate) fn env_of_train(args: &TrainArgs) -> Option<String> {
    match &args.resume {
        Some(dir) => env_of_run(dir),
        None => rl_runner::resolve(&options(args))
            .ok()
            .map(|(run, _)| run.env),
    }
}

/// The environment of the run folder `dir`, from its `config.toml`.
pub(crate) fn env_of_run(dir: &std::path::Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("config.toml")).ok()?;
    rl_runner::ConfigFile::parse(&text)
        .ok()?
        .run()
        .ok()
        .map(|r| r.env)
}

/// Whether `train` writes an episode GIF.
pub(crate) fn wants_gif(args: &TrainArgs) -> bool {
    args.gif
}

/// Whether `eval` writes an episode GIF.
pub(crate) fn eval_wants_gif(args: &EvalArgs) -> bool {
    args.gif.is_some()
}

/// The run folder `cargo xtask eval` evaluates.
pub(crate) fn eval_dir(args: &EvalArgs) -> &std::path::Path {
    &args.run_dir
}

/// The device `train` asks for.
pub(crate) fn device_of_train(args: &TrainArgs) -> &str {
    &args.device
}

/// The device `eval` asks for.
pub(crate) fn device_of_eval(args: &EvalArgs) -> &str {
    &args.device
}

pub(crate) fn train_cmd(args: TrainArgs, stop: Arc<AtomicBool>) -> Result<()> {
    let device = parse_device(&args.device)?;
    let options = TrainOptions {
        stop: Some(stop),
        ..options(&args)
    };
    let s = train(&options, &device)?;
    if s.interrupted {
        println!(
            "{} {} seed {}: interrupted at step {} after {:.1} s; checkpoint {} in {}; continue with: cargo xtask train {} --resume {}",
            s.algo.to_uppercase(),
            s.env,
            s.seed,
            s.env_steps,
            s.wall_seconds,
            s.checkpoint,
            s.run_dir,
            s.algo,
            s.run_dir
        );
        // 128 + the signal, as a shell reports a process it stopped: 130 for Ctrl-C, 143 for
        // SIGTERM, 129 for SIGHUP.
        std::process::exit(128 + rl_runner::stop_signal().unwrap_or(2));
    }
    if args.gif {
        println!("episode GIF: {}/{}", s.run_dir, rl_runner::EPISODE_GIF);
    }
    println!(
        "{} {} seed {}: {} steps in {:.1} s ({:.0} steps/s); eval {:.1} ± {:.1} over {} episodes; results in {}",
        s.algo.to_uppercase(),
        s.env,
        s.seed,
        s.env_steps,
        s.wall_seconds,
        s.steps_per_second,
        s.eval_mean_return,
        s.eval_std_return,
        s.eval_episodes,
        s.run_dir
    );
    Ok(())
}

pub(crate) fn eval_cmd(args: EvalArgs) -> Result<()> {
    let device = parse_device(&args.device)?;
    let (actions, kind) = if args.stochastic {
        (EvalActions::Stochastic, "stochastic")
    } else {
        (EvalActions::Deterministic, "deterministic")
    };
    let returns = evaluate_run_with(&args.run_dir, args.episodes, &device, actions)?;
    let (mean, std) = rl_runner::logs::mean_std(&returns);
    println!(
        "{}: {mean:.1} ± {std:.1} over {} {kind} episodes",
        args.run_dir.display(),
        returns.len()
    );
    if let Some(path) = &args.gif {
        let recordings =
            rl_runner::video::record_run_with(&args.run_dir, args.gif_episodes, &device, actions)?;
        let frames: Vec<_> = recordings
            .iter()
            .flat_map(|r| r.frames.iter().cloned())
            .collect();
        rl_runner::video::write_gif(path, &frames)?;
        let returns: Vec<String> = recordings
            .iter()
            .map(|r| format!("{:.1}", r.episode_return))
            .collect();
        println!(
            "{}: {} frames, episode returns {}",
            path.display(),
            frames.len(),
            returns.join(", ")
        );
    }
    Ok(())
}
