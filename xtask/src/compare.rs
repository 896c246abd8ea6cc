//! `cargo xtask compare RUN...`: runs on one plot, a table of final returns, and with `--gif`
//! their episodes side by side. A RUN is a run folder, or a regress report whose seeds are read
//! as runs (`--row` picks its rows).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use clap::Args;
use rl_runner::compare::{RunCurves, compare_gif, compare_plot, groups};
use rl_runner::parse_device;
use rl_runner::stats::{iqm, iqm_interval, median};

use crate::regress::{report_rows, report_runs};

#[derive(Args)]
pub(crate) struct CompareArgs {
    /// Run folders written by `cargo xtask train`, or regress reports (a tier's `report.json` or
    /// a shard's), each trained seed of which counts as a run.
    #[arg(required = true)]
    runs: Vec<PathBuf>,
    /// Of the regress reports, only this row (by name; repeat for more). Default: every row.
    #[arg(long = "row", value_name = "NAME")]
    rows: Vec<String>,
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
    if args.gif.is_some()
        && let Some(report) = args.runs.iter().find(|p| p.is_file())
    {
        bail!(
            "--gif plays each run's final policy from its run folder, and {} is a regress report, which keeps none: give run folders",
            report.display()
        );
    }
    let runs = read_runs(&args.runs, &args.rows)?;
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
            // A regress report's seed keeps its mean only.
            if sd.is_finite() {
                (s, format!("{m:.1} ± {sd:.1}"))
            } else {
                (s, format!("{m:.1}"))
            }
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

/// The runs of `inputs`, in their order: a folder is one run; a file is a regress report, one
/// run per trained seed of its rows (of those `rows` names, or of all).
fn read_runs(inputs: &[PathBuf], rows: &[String]) -> Result<Vec<RunCurves>> {
    let reports: Vec<&PathBuf> = inputs.iter().filter(|p| p.is_file()).collect();
    if !rows.is_empty() {
        if reports.is_empty() {
            bail!(
                "--row picks rows of regress reports, and none of the inputs is one (a report is a JSON file, a run folder a directory)"
            );
        }
        let mut known = BTreeSet::new();
        for report in &reports {
            known.extend(report_rows(report)?);
        }
        let missing: Vec<&str> = rows
            .iter()
            .filter(|r| !known.contains(*r))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            bail!(
                "no report has a row named {}; their rows are {}",
                missing.join(", "),
                known.into_iter().collect::<Vec<_>>().join(", ")
            );
        }
    }
    let mut runs = Vec::new();
    // Where each (row, seed) came from: a seed in two reports (a shard run twice) would count twice.
    let mut seen: BTreeMap<(String, u64), &Path> = BTreeMap::new();
    for input in inputs {
        if !input.is_file() {
            runs.push(RunCurves::read(input)?);
            continue;
        }
        for (row, run) in report_runs(input, rows)? {
            if let Some(first) = seen.insert((row.clone(), run.seed), input) {
                bail!(
                    "row {row} seed {} is in both {} and {}: give each seed once",
                    run.seed,
                    first.display(),
                    input.display()
                );
            }
            runs.push(run);
        }
    }
    Ok(runs)
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
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        reason = "test code: a panic is a test failure"
    )]

    use std::path::{Path, PathBuf};

    use super::{CompareArgs, read_runs, run, seed_summary};

    /// A shard's report as `cargo xtask regress --shard` writes it: SAC v2 and SAC v1 (a preset)
    /// on Pendulum, two seeds and one trained here.
    fn shard(seeds_v2: &[u64]) -> serde_json::Value {
        let seed = |s: u64, last: f64| {
            serde_json::json!({
                "seed": s, "final_return": last, "wall_seconds": 1.0,
                "curve": [[1000.0, -1200.0], [2000.0, last]]
            })
        };
        let row = |name: &str, preset: Option<&str>, seeds: Vec<serde_json::Value>| {
            let mut row = serde_json::json!({
                "name": name, "algo": "sac", "env": "Pendulum-v1", "steps": 2000,
                "row_seeds": [0, 1], "threshold": -400.0, "tolerance": 40.0,
                "source": "test", "seeds": seeds, "verdict": null
            });
            if let Some(p) = preset {
                row["preset"] = serde_json::json!(p);
            }
            row
        };
        serde_json::json!({
            "tier": "full", "started": "2026-12-03T00:00:00Z", "wall_seconds": 2.0,
            "shard": "1/2", "passed": null, "machines": [], "commits": [],
            "runs": [
                row("sac-pendulum", None,
                    seeds_v2.iter().map(|&s| seed(s, -150.0 - s as f64)).collect()),
                row("sac-v1-pendulum", Some("Pendulum-v1-sac-v1"), vec![seed(1, -300.0)]),
            ]
        })
    }

    fn write(dir: &Path, name: &str, report: &serde_json::Value) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, report.to_string()).unwrap();
        path
    }

    #[test]
    fn a_regress_report_gives_one_run_per_trained_seed_with_its_rows_variant() {
        let dir = tempfile::tempdir().unwrap();
        let first = write(dir.path(), "shard-1.json", &shard(&[0]));
        // The other shard trained seed 1 of the first row only.
        let mut rest = shard(&[1]);
        rest["runs"][1]["seeds"] = serde_json::json!([]);
        let second = write(dir.path(), "shard-2.json", &rest);

        let runs = read_runs(&[first.clone(), second.clone()], &[]).unwrap();
        let shown: Vec<(String, u64, String)> = runs
            .iter()
            .map(|r| (r.dir.display().to_string(), r.seed, r.group()))
            .collect();
        let label = |p: &Path, row: &str| format!("{}#{row}", p.display());
        assert_eq!(
            shown,
            [
                (label(&first, "sac-pendulum"), 0, "SAC Pendulum-v1".into()),
                (
                    label(&first, "sac-v1-pendulum"),
                    1,
                    "SAC v1 Pendulum-v1".into()
                ),
                (label(&second, "sac-pendulum"), 1, "SAC Pendulum-v1".into()),
            ]
        );
        // The report's evaluation means; their spread and the training episodes it does not keep.
        let evals = &runs[2].curve.evals;
        assert_eq!(
            evals.iter().map(|e| (e.0, e.1)).collect::<Vec<_>>(),
            [(1000, -1200.0), (2000, -151.0)]
        );
        assert!(evals.iter().all(|e| e.2.is_nan()));
        assert!(runs[2].curve.episodes.is_empty());

        // They plot: one row's seeds as a group, the other's one seed as its means.
        let png = dir.path().join("compare.png");
        rl_runner::compare::compare_plot(&png, &runs).unwrap();
        assert!(std::fs::metadata(&png).unwrap().len() > 0);

        // --row keeps the rows named.
        let v2 = read_runs(&[first.clone(), second], &["sac-pendulum".into()]).unwrap();
        assert_eq!(v2.iter().map(|r| r.seed).collect::<Vec<_>>(), [0, 1]);
    }

    #[test]
    fn reports_that_cannot_be_compared_are_refused_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let report = write(dir.path(), "report.json", &shard(&[0, 1]));
        let message = |inputs: &[PathBuf], rows: &[&str]| {
            let rows: Vec<String> = rows.iter().map(|r| (*r).to_owned()).collect();
            format!("{:#}", read_runs(inputs, &rows).unwrap_err())
        };

        // The same seed twice (a shard given twice) would count twice.
        let twice = message(&[report.clone(), report.clone()], &[]);
        assert!(
            twice.contains("row sac-pendulum seed 0 is in both"),
            "{twice}"
        );
        // A row no report has, and the rows there are.
        let unknown = message(std::slice::from_ref(&report), &["sac-hopper"]);
        assert!(
            unknown.contains("no report has a row named sac-hopper")
                && unknown.contains("sac-pendulum, sac-v1-pendulum"),
            "{unknown}"
        );
        // --row without a report.
        let folder = dir.path().to_path_buf();
        let no_report = message(&[folder], &["sac-pendulum"]);
        assert!(
            no_report.contains("none of the inputs is one"),
            "{no_report}"
        );
        // A file that is not a report.
        let text = write(dir.path(), "notes.json", &serde_json::json!({"runs": 3}));
        let not_report = message(&[text], &[]);
        assert!(
            not_report.contains("is not a regress report"),
            "{not_report}"
        );

        // --gif needs the policies of run folders.
        let args = CompareArgs {
            runs: vec![report],
            rows: Vec::new(),
            out: dir.path().join("compare.png"),
            gif: Some(dir.path().join("episodes.gif")),
            device: "cpu".into(),
        };
        let gif = format!("{:#}", run(&args).unwrap_err());
        assert!(
            gif.contains("is a regress report, which keeps none"),
            "{gif}"
        );
        assert!(!dir.path().join("compare.png").exists());
    }

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
