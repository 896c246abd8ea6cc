//! `cargo xtask <command>`: the project's runner.
//!
//! - `cargo xtask train sac [--env ID] [--steps N] [--seed S] ...`: train, log, evaluate,
//!   checkpoint (see `cargo xtask train --help`).
//! - `cargo xtask eval RUN_DIR [--episodes N]`: evaluate a run's latest checkpoint.
//! - `cargo xtask bench [NAME ...] [--peers] [--json FILE]`: benchmarks, optionally side by side
//!   with the Python peers measured in the same run.
//! - `cargo xtask regress [--tier smoke|full] [--baseline report.json]`: the regression table
//!   (`xtask/regress.toml`) trained and judged; a markdown and JSON report and a PNG of curves.

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a command-line tool reports on stdout/stderr"
)]

/// mimalloc instead of glibc's allocator: candle allocates a fresh buffer for every tensor, and
/// glibc serves each buffer over 128 KiB (a 256×256 activation) with a new `mmap`, page-faulting
/// it in on first touch. With mimalloc a SAC update runs about 25% faster (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod bench;
mod compare;
mod mujoco;
mod regress;
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
}

/// Whether the command needs a build with MuJoCo (it names a MuJoCo task).
fn needs_mujoco(command: &Command) -> bool {
    match command {
        Command::Train(args) => train::env_of_train(args).is_some_and(|e| mujoco::is_mujoco(&e)),
        Command::Eval(args) => {
            train::env_of_run(train::eval_dir(args)).is_some_and(|e| mujoco::is_mujoco(&e))
        }
        Command::Bench(args) => bench::needs_mujoco(args),
        Command::Regress(args) => regress::needs_mujoco(args),
        Command::Compare(args) => compare::needs_mujoco(args),
        Command::WithMujoco { .. } => false,
    }
}

/// The workspace's root folder (xtask's parent).
fn workspace_root() -> std::path::PathBuf {
    let xtask = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    xtask.parent().unwrap_or(xtask).to_path_buf()
}

fn main() -> anyhow::Result<()> {
    let command = Cli::parse().command;
    if cfg!(feature = "mujoco") {
        #[cfg(feature = "mujoco")]
        rl_mujoco::register()?;
    } else if needs_mujoco(&command) {
        // This build has no MuJoCo: run the same command from one that has.
        return mujoco::reexec();
    }
    match command {
        Command::Train(args) => train::train_cmd(args, rl_runner::stop_on_signals()?),
        Command::Eval(args) => train::eval_cmd(args),
        Command::Bench(args) => bench::run(&args),
        Command::Regress(args) => regress::run(&args),
        Command::Compare(args) => compare::run(&args),
        Command::WithMujoco { args } => mujoco::cargo_with(&args),
    }
}
