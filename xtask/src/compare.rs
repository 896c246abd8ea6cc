//! `cargo xtask compare RUN...`: runs on one plot, a table of final returns, and with `--gif`
//! their episodes side by side.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;
use rl_runner::compare::{RunCurves, compare_gif, compare_plot, groups};
use rl_runner::parse_device;

#[derive(Args)]
pub(crate) struct CompareArgs {
    /// Run folders written by `cargo xtask train`.
    #[arg(required = true)]
    runs: Vec<PathBuf>,
    /// The picture (default: compare.png).
    #[arg(long, default_value = "compare.png")]
    out: PathBuf,
    /// Also write one deterministic episode of each run, side by side, as an animated GIF.
    #[arg(long, value_name = "FILE")]
    gif: Option<PathBuf>,
    /// cpu, cuda or metal (for --gif).
    #[arg(long, default_value = "cpu")]
    device: String,
}

pub(crate) fn run(args: &CompareArgs) -> Result<()> {
    let mut runs = Vec::with_capacity(args.runs.len());
    for dir in &args.runs {
        runs.push(RunCurves::read(dir)?);
    }
    if runs
        .iter()
        .all(|r| r.curve.evals.is_empty() && r.curve.episodes.is_empty())
    {
        bail!("none of the runs has metrics to plot");
    }
    compare_plot(&args.out, &runs)?;
    println!("| run | algo | env | seed | steps | final eval |");
    println!("|---|---|---|---|---:|---|");
    for r in &runs {
        let (step, eval) = r.final_eval().map_or((0, "-".to_owned()), |(s, m, sd)| {
            (s, format!("{m:.1} ± {sd:.1}"))
        });
        println!(
            "| {} | {} | {} | {} | {step} | {eval} |",
            r.dir.display(),
            r.algo,
            r.env,
            r.seed
        );
    }
    for (name, members) in groups(&runs) {
        let finals: Vec<f64> = members
            .iter()
            .filter_map(|m| m.final_eval().map(|e| e.1))
            .collect();
        if finals.len() > 1 {
            let (mean, std) = rl_runner::logs::mean_std(&finals);
            println!(
                "{name}: final eval {mean:.1} ± {std:.1} over {} seeds",
                finals.len()
            );
        }
    }
    println!("plot: {}", args.out.display());
    if let Some(path) = &args.gif {
        let returns = compare_gif(path, &runs, &parse_device(&args.device)?)?;
        let shown: Vec<String> = returns.iter().map(|r| format!("{r:.1}")).collect();
        println!(
            "episodes side by side: {} (returns {})",
            path.display(),
            shown.join(", ")
        );
    }
    Ok(())
}

/// Whether `--gif` was asked for.
pub(crate) fn wants_gif(args: &CompareArgs) -> bool {
    args.gif.is_some()
}

/// The environments `--gif` runs episodes of (none without it: the plot reads files only).
pub(crate) fn envs(args: &CompareArgs) -> Vec<String> {
    if args.gif.is_none() {
        return Vec::new();
    }
    args.runs
        .iter()
        .filter_map(|d| crate::train::env_of_run(d))
        .collect()
}
