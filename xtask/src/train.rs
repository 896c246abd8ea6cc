//! `cargo xtask train` and `cargo xtask eval`: thin fronts over `rl-runner`.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::Result;
use clap::Args;
use rl_runner::{TrainOptions, evaluate_run, parse_device, train};

#[derive(Args)]
pub(crate) struct TrainArgs {
    /// The algorithm: sac.
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
    /// cpu, cuda or metal (the last two need a build with --features cuda / metal).
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
}

#[derive(Args)]
pub(crate) struct EvalArgs {
    /// A run folder written by `cargo xtask train`.
    run_dir: PathBuf,
    /// Deterministic episodes to run.
    #[arg(long, default_value_t = 10)]
    episodes: usize,
    /// cpu, cuda or metal.
    #[arg(long, default_value = "cpu")]
    device: String,
}

pub(crate) fn train_cmd(args: TrainArgs, stop: Arc<AtomicBool>) -> Result<()> {
    let device = parse_device(&args.device)?;
    let options = TrainOptions {
        algo: args.algo.to_lowercase(),
        env: args.env,
        config: args.config,
        preset: args.preset,
        sets: args.sets,
        steps: args.steps,
        seed: args.seed,
        save_buffer: args.save_buffer,
        out: args.out,
        resume: args.resume,
        progress: !args.no_progress,
        stop: Some(stop),
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
        std::process::exit(130);
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
    let returns = evaluate_run(&args.run_dir, args.episodes, &device)?;
    let (mean, std) = rl_runner::logs::mean_std(&returns);
    println!(
        "{}: {mean:.1} ± {std:.1} over {} deterministic episodes",
        args.run_dir.display(),
        returns.len()
    );
    Ok(())
}
