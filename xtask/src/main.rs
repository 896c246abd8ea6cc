//! `cargo xtask <command>`: the project's runner.
//!
//! - `cargo xtask bench [NAME ...] [--peers] [--json FILE]`: benchmarks, optionally side by side
//!   with the Python peers measured in the same run.

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a command-line tool reports on stdout/stderr"
)]

mod bench;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "The rl workspace's runner", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run benchmarks (all, or the named ones) and print a table.
    Bench(bench::BenchArgs),
}

/// The workspace's root folder (xtask's parent).
fn workspace_root() -> std::path::PathBuf {
    let xtask = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    xtask.parent().unwrap_or(xtask).to_path_buf()
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Bench(args) => bench::run(&args),
    }
}
