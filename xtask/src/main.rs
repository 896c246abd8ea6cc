//! `cargo xtask <command>`: the project's runner.
//!
//! - `cargo xtask train sac [--env ID] [--steps N] [--seed S] ...`: train, log, evaluate,
//!   checkpoint (see `cargo xtask train --help`).
//! - `cargo xtask eval RUN_DIR [--episodes N]`: evaluate a run's latest checkpoint.
//! - `cargo xtask bench [NAME ...] [--peers] [--json FILE]`: benchmarks, optionally side by side
//!   with the Python peers measured in the same run.
//! - `cargo xtask regress [--tier smoke|full|mujoco|gymnasium] [--baseline report.json]
//!   [--shard I/N]`: the regression table (`xtask/regress.toml`) trained and judged; a markdown
//!   and JSON report and a PNG of curves. `cargo xtask regress merge REPORT...` joins shards.

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a command-line tool reports on stdout/stderr"
)]
#![allow(
    rustdoc::invalid_html_tags,
    reason = "doc comments are clap's --help text, whose placeholders (`target/regress/<tier>`) read as HTML tags to rustdoc"
)]

/// mimalloc instead of glibc's allocator: candle allocates a fresh buffer for every tensor, and
/// glibc serves each buffer over 128 KiB (a 256×256 activation) with a new `mmap`, page-faulting
/// it in on first touch. With mimalloc a SAC update runs about 25% faster (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod bench;
mod compare;
mod cuda;
mod gymnasium;
mod mujoco;
mod python;
mod regress;
mod rerun;
mod train;

use std::ffi::OsString;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "The rl workspace's runner", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train an agent (default: SAC on Pendulum-v1 with the shipped preset).
    Train(train::TrainArgs),
    /// Evaluate the latest checkpoint of a run folder.
    Eval(train::EvalArgs),
    /// Run benchmarks (all, or the named ones) and print a table.
    Bench(bench::BenchArgs),
    /// Train the regression table's rows and check them against their thresholds.
    Regress(regress::RegressArgs),
    /// Plot runs together (mean and spread across seeds), tabulate their final returns, and with
    /// --gif show their episodes side by side.
    Compare(compare::CompareArgs),
    /// Run `cargo ARGS...` with MuJoCo's library available (fetched on first use), e.g.
    /// `cargo xtask with-mujoco test -p rl-mujoco --features native`; with no ARGS, print the
    /// environment variables that make it available.
    WithMujoco {
        /// The cargo command line.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<OsString>,
    },
    /// Run `cargo ARGS...` with the Python bridge's interpreter and packages
    /// (`target/gymnasium/venv`, made on first use), e.g. `cargo xtask with-gymnasium test -p
    /// rl-gymnasium --features python`; with no ARGS, print the environment variables.
    WithGymnasium {
        /// The cargo command line.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<OsString>,
    },
    /// Run `cargo ARGS...` with a CUDA compiler at hand (yours, or NVIDIA's fetched from PyPI on
    /// first use), e.g. `cargo xtask with-cuda build -p xtask --features cuda`; with no ARGS,
    /// print the environment variables.
    WithCuda {
        /// The cargo command line.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<OsString>,
    },
}

/// Whether the command draws episodes (`--gif`).
fn wants_frames(command: &Command) -> bool {
    match command {
        Command::Train(args) => train::wants_gif(args),
        Command::Eval(args) => train::eval_wants_gif(args),
        Command::Compare(args) => compare::wants_gif(args),
        _ => false,
    }
}

/// The environment ids the command builds (to know which optional parts it needs).
fn envs(command: &Command) -> Vec<String> {
    match command {
        Command::Train(args) => train::env_of_train(args).into_iter().collect(),
        Command::Eval(args) => train::env_of_run(train::eval_dir(args))
            .into_iter()
            .collect(),
        Command::Bench(args) => bench::envs(args),
        Command::Regress(args) => regress::envs(args),
        Command::Compare(args) => compare::envs(args),
        Command::WithMujoco { .. } | Command::WithGymnasium { .. } | Command::WithCuda { .. } => {
            Vec::new()
        }
    }
}

/// Whether the command asks for a CUDA device.
fn wants_cuda(command: &Command) -> bool {
    let device = match command {
        Command::Train(args) => train::device_of_train(args),
        Command::Eval(args) => train::device_of_eval(args),
        // Without --gif, compare only reads files.
        Command::Compare(args) if compare::wants_gif(args) => compare::device(args),
        _ => "cpu",
    };
    device == "cuda"
}

/// The workspace's root folder (xtask's parent).
fn workspace_root() -> std::path::PathBuf {
    let xtask = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    xtask.parent().unwrap_or(xtask).to_path_buf()
}

/// Before building CUDA for a command that needs it: an error unless `driver` finds the NVIDIA
/// driver's library, which a CUDA build links and does not start without.
fn cuda_runs_here(
    needed: rerun::Parts,
    built: rerun::Parts,
    driver: impl FnOnce() -> bool,
) -> anyhow::Result<()> {
    if needed.cuda && !built.cuda && !driver() {
        anyhow::bail!(
            "--device cuda: this machine has no NVIDIA driver (no libcuda.so.1 where the loader looks), so it has no CUDA GPU to run on; use --device cpu (docs/cuda.md)"
        );
    }
    Ok(())
}

/// The one part `set` turns on.
fn part(set: impl FnOnce(&mut rerun::Parts)) -> rerun::Parts {
    let mut parts = rerun::Parts::default();
    set(&mut parts);
    parts
}

fn main() -> anyhow::Result<()> {
    let command = Cli::parse().command;
    let envs = envs(&command);
    let needed = rerun::Parts {
        mujoco: envs.iter().any(|e| mujoco::is_mujoco(e)),
        gymnasium: envs.iter().any(|e| rl_gymnasium::is_bridged(e)),
        cuda: wants_cuda(&command),
    };
    let built = rerun::Parts::built();
    cuda_runs_here(needed, built, || cuda::driver_dir().is_some())?;
    if !needed.within(built) {
        // This build lacks a part the command needs: run it from one that has it.
        return rerun::with(needed.union(built));
    }
    #[cfg(feature = "mujoco")]
    rl_mujoco::register()?;
    #[cfg(feature = "gymnasium")]
    rl_gymnasium::register()?;
    rl_gymnasium::render_frames(wants_frames(&command));
    match command {
        Command::Train(args) => train::train_cmd(args, rl_runner::stop_on_signals()?),
        Command::Eval(args) => train::eval_cmd(args),
        Command::Bench(args) => bench::run(&args),
        Command::Regress(args) => regress::run(&args),
        Command::Compare(args) => compare::run(&args),
        Command::WithMujoco { args } => rerun::cargo_with(&args, part(|p| p.mujoco = true)),
        Command::WithGymnasium { args } => rerun::cargo_with(&args, part(|p| p.gymnasium = true)),
        Command::WithCuda { args } => rerun::cargo_with(&args, part(|p| p.cuda = true)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuda_without_a_driver_is_refused_before_building() {
        let cuda = part(|p| p.cuda = true);
        let err = cuda_runs_here(cuda, rerun::Parts::default(), || false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("no NVIDIA driver"), "{err}");
        assert!(cuda_runs_here(cuda, rerun::Parts::default(), || true).is_ok());
        // A CUDA build asked for it reports Candle's own error instead (`device: CUDA device 0`).
        assert!(cuda_runs_here(cuda, cuda, || false).is_ok());
        assert!(cuda_runs_here(rerun::Parts::default(), rerun::Parts::default(), || false).is_ok());
    }

    #[test]
    fn device_cuda_asks_for_the_cuda_part() {
        let cli = Cli::parse_from(["cargo xtask", "train", "sac", "--device", "cuda"]);
        assert!(wants_cuda(&cli.command));
        let cli = Cli::parse_from(["cargo xtask", "train", "sac"]);
        assert!(!wants_cuda(&cli.command));
    }
}
