//! `cargo xtask regress`: train every row of the committed regression table (`xtask/regress.toml`)
//! for its seeds, compare the median final evaluation with the row's threshold (and with a
//! previous report), and write `report.md`, `report.json` and `curves.png`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;
use rl_runner::plot::{Panel, Series, curve_grid};
use rl_runner::{TrainOptions, parse_device, train};
use serde::{Deserialize, Serialize};

#[derive(Args)]
pub(crate) struct RegressArgs {
    /// `smoke` (short budgets that still catch a broken learner; what CI runs), `full` (every
    /// classic-control row of the table with its seeds) or `mujoco` (the MuJoCo rows).
    #[arg(long, default_value = "smoke")]
    tier: String,
    /// Only the rows with these names (repeatable).
    #[arg(long = "only", value_name = "NAME")]
    only: Vec<String>,
    /// The table (default: xtask/regress.toml).
    #[arg(long)]
    table: Option<PathBuf>,
    /// Where runs and reports go (default: target/regress/<tier>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// A previous `report.json`: a row whose median falls more than its tolerance below the
    /// previous median fails.
    #[arg(long)]
    baseline: Option<PathBuf>,
    /// List the rows of the tier and exit.
    #[arg(long)]
    list: bool,
}

/// The committed table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    run: Vec<Row>,
}

/// One row: a training configuration and what it must reach.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Row {
    /// Unique name (also the run folder's).
    name: String,
    /// Tiers the row belongs to.
    tiers: Vec<String>,
    algo: String,
    env: String,
    /// A shipped preset other than the env's (e.g. `Pendulum-v1-sac-v1`).
    #[serde(default)]
    preset: Option<String>,
    /// Config overrides, as `--set`.
    #[serde(default)]
    set: Vec<String>,
    /// Environment steps.
    steps: u64,
    seeds: Vec<u64>,
    /// The median over seeds of the final deterministic evaluation must be at least this.
    threshold: f64,
    /// How far below a baseline report's median the median may fall (default: 10% of
    /// |threshold|).
    #[serde(default)]
    tolerance: Option<f64>,
    /// Where the threshold comes from.
    source: String,
}

/// `report.json`: keys are stable (scripts and the next run's `--baseline` read them).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Report {
    tier: String,
    started: String,
    wall_seconds: f64,
    passed: bool,
    runs: Vec<RunResult>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct RunResult {
    name: String,
    algo: String,
    env: String,
    steps: u64,
    seeds: Vec<u64>,
    /// Final deterministic evaluation mean return per seed.
    returns: Vec<f64>,
    median: f64,
    threshold: f64,
    /// Training wall seconds per seed.
    wall_seconds: Vec<f64>,
    passed_threshold: bool,
    baseline_median: Option<f64>,
    /// `None` without a baseline row.
    passed_baseline: Option<bool>,
    passed: bool,
    source: String,
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => 0.5 * (v[n / 2 - 1] + v[n / 2]),
    }
}

fn load_table(path: &Path) -> Result<Table> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let table: Table = toml::from_str(&text).with_context(|| format!("in {}", path.display()))?;
    let mut names = std::collections::HashSet::new();
    for row in &table.run {
        if !names.insert(row.name.as_str()) {
            bail!(
                "{}: the row name {:?} appears twice",
                path.display(),
                row.name
            );
        }
        if row.seeds.is_empty() {
            bail!("{}: row {:?} has no seeds", path.display(), row.name);
        }
    }
    Ok(table)
}

/// The evaluation curve `(step, mean)` of a run folder.
fn eval_curve(run_dir: &Path) -> Result<Vec<(f64, f64)>> {
    let path = run_dir.join("metrics/eval.csv");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let mut points = Vec::new();
    for line in text.lines().skip(1) {
        let mut cols = line.split(',');
        let step: f64 = cols.next().unwrap_or("").parse().context("eval.csv step")?;
        let mean: f64 = cols.next().unwrap_or("").parse().context("eval.csv mean")?;
        points.push((step, mean));
    }
    Ok(points)
}

/// The tiers of the table: `smoke` (CI), `full` (weekly), `mujoco` (the MuJoCo tasks, scheduled).
const TIERS: [&str; 3] = ["smoke", "full", "mujoco"];

/// The table and the rows `args` selects.
fn selected(args: &RegressArgs) -> Result<(PathBuf, Vec<Row>)> {
    let root = crate::workspace_root();
    let table_path = args
        .table
        .clone()
        .unwrap_or_else(|| root.join("xtask/regress.toml"));
    let table = load_table(&table_path)?;
    let rows = table
        .run
        .into_iter()
        .filter(|r| r.tiers.contains(&args.tier))
        .filter(|r| args.only.is_empty() || args.only.contains(&r.name))
        .collect();
    Ok((table_path, rows))
}

/// Whether a selected row trains on a MuJoCo task.
/// The environments of the selected rows.
pub(crate) fn envs(args: &RegressArgs) -> Vec<String> {
    selected(args).map_or_else(
        |_| Vec::new(),
        |(_, rows)| rows.into_iter().map(|r| r.env).collect(),
    )
}

pub(crate) fn run(args: &RegressArgs) -> Result<()> {
    if !TIERS.contains(&args.tier.as_str()) {
        bail!("--tier must be one of {TIERS:?}, got {:?}", args.tier);
    }
    let root = crate::workspace_root();
    let (table_path, rows) = selected(args)?;
    if rows.is_empty() {
        bail!(
            "no rows of {} in tier {:?} (--only {:?})",
            table_path.display(),
            args.tier,
            args.only
        );
    }
    if args.list {
        for r in &rows {
            println!(
                "{:<28} {} {} {} steps, seeds {:?}, threshold {}",
                r.name, r.algo, r.env, r.steps, r.seeds, r.threshold
            );
        }
        return Ok(());
    }
    let baseline: Option<Report> = match &args.baseline {
        Some(p) => Some(
            serde_json::from_str(
                &std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?,
            )
            .with_context(|| format!("{} is not a regress report", p.display()))?,
        ),
        None => None,
    };
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| root.join("target/regress").join(&args.tier));
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let device = parse_device("cpu")?;
    let started = Instant::now();
    let mut results = Vec::new();
    let mut panels = Vec::new();
    for row in &rows {
        let mut returns = Vec::new();
        let mut walls = Vec::new();
        let mut series = Vec::new();
        for &seed in &row.seeds {
            let dir = out.join(format!("{}-seed{seed}", row.name));
            if dir.exists() {
                std::fs::remove_dir_all(&dir)
                    .with_context(|| format!("clearing {}", dir.display()))?;
            }
            let options = TrainOptions {
                algo: row.algo.clone(),
                env: Some(row.env.clone()),
                config: None,
                preset: row.preset.clone(),
                sets: row.set.clone(),
                steps: Some(row.steps),
                seed: Some(seed),
                save_buffer: false,
                out: Some(dir.clone()),
                resume: None,
                progress: false,
                gif: false,
                stop: None,
            };
            let s = train(&options, &device)
                .with_context(|| format!("regress row {:?}, seed {seed}", row.name))?;
            eprintln!(
                "{} seed {seed}: {:.1} after {} steps in {:.1} s",
                row.name, s.eval_mean_return, s.env_steps, s.wall_seconds
            );
            returns.push(s.eval_mean_return);
            walls.push(s.wall_seconds);
            series.push(Series {
                label: format!("seed {seed}"),
                points: eval_curve(&dir)?,
            });
        }
        let med = median(&returns);
        let passed_threshold = med >= row.threshold;
        let baseline_median = baseline
            .as_ref()
            .and_then(|b| b.runs.iter().find(|r| r.name == row.name))
            .map(|r| r.median);
        let tolerance = row.tolerance.unwrap_or(0.1 * row.threshold.abs());
        let passed_baseline = baseline_median.map(|b| med >= b - tolerance);
        let passed = passed_threshold && passed_baseline.unwrap_or(true);
        panels.push(Panel {
            title: format!(
                "{} ({} {}): median {med:.1} {}",
                row.name,
                row.algo,
                row.env,
                if passed { "pass" } else { "FAIL" }
            ),
            series,
            threshold: Some(row.threshold),
        });
        results.push(RunResult {
            name: row.name.clone(),
            algo: row.algo.clone(),
            env: row.env.clone(),
            steps: row.steps,
            seeds: row.seeds.clone(),
            returns,
            median: med,
            threshold: row.threshold,
            wall_seconds: walls,
            passed_threshold,
            baseline_median,
            passed_baseline,
            passed,
            source: row.source.clone(),
        });
    }
    let report = Report {
        tier: args.tier.clone(),
        started: crate::bench::utc_now(),
        wall_seconds: started.elapsed().as_secs_f64(),
        passed: results.iter().all(|r| r.passed),
        runs: results,
    };
    std::fs::write(
        out.join("report.json"),
        serde_json::to_string_pretty(&report)?,
    )?;
    let md = markdown(&report);
    std::fs::write(out.join("report.md"), &md)?;
    curve_grid(&out.join("curves.png"), &panels)?;
    println!("{md}");
    println!(
        "reports: {} and report.json, curves.png",
        out.join("report.md").display()
    );
    if !report.passed {
        let failed: Vec<&str> = report
            .runs
            .iter()
            .filter(|r| !r.passed)
            .map(|r| r.name.as_str())
            .collect();
        bail!(
            "regression tier {} failed: {}",
            report.tier,
            failed.join(", ")
        );
    }
    Ok(())
}

fn markdown(report: &Report) -> String {
    let mut s = format!(
        "## Regression report: tier `{}` ({}, {:.0} s)\n\n\
         | run | algo | env | steps | seeds | returns | median | threshold | baseline | wall s (per seed) | result |\n\
         |---|---|---|---|---|---|---|---|---|---|---|\n",
        report.tier, report.started, report.wall_seconds
    );
    for r in &report.runs {
        let returns: Vec<String> = r.returns.iter().map(|x| format!("{x:.1}")).collect();
        let walls: Vec<String> = r.wall_seconds.iter().map(|x| format!("{x:.0}")).collect();
        s += &format!(
            "| {} | {} | {} | {} | {:?} | {} | {:.1} | {} | {} | {} | {} |\n",
            r.name,
            r.algo,
            r.env,
            r.steps,
            r.seeds,
            returns.join(", "),
            r.median,
            r.threshold,
            r.baseline_median.map_or("—".into(), |b| format!("{b:.1}")),
            walls.join(", "),
            if r.passed { "pass" } else { "**FAIL**" }
        );
    }
    s += &format!(
        "\n{}\n",
        if report.passed {
            "All rows passed."
        } else {
            "**Some rows failed.**"
        }
    );
    s
}
