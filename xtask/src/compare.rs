//! `cargo xtask compare RUN...`: runs on one plot, a table of final returns, and with `--gif`
//! their episodes side by side.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;
use rl_runner::compare::{RunCurves, compare_gif, compare_plot, groups};
use rl_runner::parse_device;
use rl_runner::stats::{iqm, iqm_interval, median};

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
            println!("{name}: {}", seed_summary(&finals));
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

/// Final returns over seeds: mean ± std, and the median and IQM with its 95% bootstrap interval
/// as the regression report gives them (the same resamples and seed as `cargo xtask regress`).
fn seed_summary(finals: &[f64]) -> String {
    let (mean, std) = rl_runner::logs::mean_std(finals);
    let (low, high) = iqm_interval(&[finals.to_vec()], 0.95, crate::regress::BOOTSTRAP_REPS, 0);
    format!(
        "final eval {mean:.1} ± {std:.1} over {} seeds; median {:.1}, IQM {:.1} [{low:.1}, {high:.1}]",
        finals.len(),
        median(finals),
        iqm(finals)
    )
}

/// Whether `--gif` was asked for.
pub(crate) fn wants_gif(args: &CompareArgs) -> bool {
    args.gif.is_some()
}

/// The device `compare --gif` asks for.
pub(crate) fn device(args: &CompareArgs) -> &str {
    &args.device
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

#[cfg(test)]
mod tests {
    use super::seed_summary;

    #[test]
    fn the_seed_summary_gives_median_and_iqm_like_the_regression_report() {
        // Five seeds: the IQM drops one from each end (the mean of 2, 3 and 4).
        let line = seed_summary(&[1.0, 2.0, 3.0, 4.0, 100.0]);
        assert!(line.starts_with("final eval 22.0 ± "), "{line}");
        assert!(
            line.contains("over 5 seeds; median 3.0, IQM 3.0 ["),
            "{line}"
        );
    }
}
