//! `cargo xtask regress`: train every row of the committed regression table (`xtask/regress.toml`)
//! for each of its seeds, judge each row by the ten-seed rule (at least 90% of its seeds reach the
//! threshold, and so does the interquartile mean over seeds; rliable's statistics, see
//! `rl_runner::stats`), compare with a previous report, and write `report.md`, `report.json` and
//! `curves.png`.
//!
//! `--shard I/N` trains a deterministic slice of the (row, seed) pairs and writes a partial
//! report; `cargo xtask regress merge REPORT...` joins the slices into the report one unsharded
//! run writes (CI runs the full tier as a matrix of shards, then merges).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use rl_runner::compare::RunCurves;
use rl_runner::plot::{Curve, Panel, Series, curve_grid};
use rl_runner::stats::{iqm, iqm_interval, median};
use rl_runner::{TrainOptions, parse_device, train};
use serde::{Deserialize, Serialize};

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct RegressArgs {
    #[command(subcommand)]
    command: Option<RegressCommand>,
    /// `smoke` (short budgets that still catch a broken learner; what CI runs), `full` (every
    /// classic-control row of the table with its seeds), `mujoco` (the MuJoCo rows) or
    /// `gymnasium` (Python Gymnasium envs through the bridge).
    #[arg(long, default_value = "smoke")]
    tier: String,
    /// Only the rows with these names (repeatable).
    #[arg(long = "only", value_name = "NAME")]
    only: Vec<String>,
    /// The table (default: xtask/regress.toml).
    #[arg(long)]
    table: Option<PathBuf>,
    /// Where runs and reports go (default: target/regress/<tier>, or
    /// target/regress/<tier>-shard-I-of-N with --shard).
    #[arg(long)]
    out: Option<PathBuf>,
    /// A previous `report.json`: a row whose IQM falls more than its tolerance below the
    /// previous IQM fails.
    #[arg(long)]
    baseline: Option<PathBuf>,
    /// Train only slice I of N (1 ≤ I ≤ N) of the tier's (row, seed) pairs, taken in table order
    /// and dealt round-robin, and write a partial report for `regress merge`.
    #[arg(long, value_name = "I/N")]
    shard: Option<String>,
    /// List the rows of the tier (with --shard: the pairs of the slice) and exit.
    #[arg(long)]
    list: bool,
}

#[derive(Subcommand)]
enum RegressCommand {
    /// Join the reports of `--shard` runs into one report (the one an unsharded run writes) and
    /// judge it.
    Merge {
        /// The shards' `report.json` files.
        #[arg(required = true)]
        reports: Vec<PathBuf>,
        /// Where the merged report goes (default: target/regress/<tier>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// A previous `report.json` to compare with, as for an unsharded run.
        #[arg(long)]
        baseline: Option<PathBuf>,
        /// Judge every row by this table's current criteria (threshold, need, tolerance, and its
        /// source) instead of those the shards recorded, so that shards trained before a row's
        /// criteria changed still merge. Each row must train in the table what it trained in
        /// the shards (algorithm, env, preset, overrides, steps, seeds).
        #[arg(long)]
        table: Option<PathBuf>,
    },
}

impl Row {
    /// The row as a report lists it before any seed is trained (its tolerance defaulting to
    /// 10% of |threshold|).
    fn untrained(&self) -> RunResult {
        RunResult {
            name: self.name.clone(),
            algo: self.algo.clone(),
            env: self.env.clone(),
            preset: self.preset.clone(),
            set: self.set.clone(),
            steps: self.steps,
            row_seeds: self.seeds.clone(),
            threshold: self.threshold,
            need: self.need,
            tolerance: self.tolerance.unwrap_or(0.1 * self.threshold.abs()),
            source: self.source.clone(),
            seeds: Vec::new(),
            verdict: None,
        }
    }
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
    /// What at least 90% of the seeds (or `need` of them), and the IQM over seeds, of the final
    /// deterministic evaluation must reach.
    threshold: f64,
    /// How many seeds must reach `threshold` (default: 90% of them, rounded up). Lower only for
    /// a learner whose final evaluation measurably collapses now and then without a bug; the
    /// row's `source` says how often.
    #[serde(default)]
    need: Option<usize>,
    /// How far below a baseline report's IQM the IQM may fall (default: 10% of |threshold|).
    #[serde(default)]
    tolerance: Option<f64>,
    /// Where the threshold comes from.
    source: String,
}

/// `report.json`: keys are stable (scripts, `regress merge` and the next run's `--baseline` read
/// them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Report {
    tier: String,
    started: String,
    wall_seconds: f64,
    /// `I/N` for the partial report of a shard (not judged), `None` for a whole tier.
    shard: Option<String>,
    /// `None` for a shard's report.
    passed: Option<bool>,
    /// The machines that trained the runs ([`machine`]; a merge lists its shards' distinct ones):
    /// one seed's numbers repeat on one kind of CPU, while another SIMD level (gemm's AVX-512
    /// kernels against its AVX2 ones) moves their last bits and so the runs.
    #[serde(default)]
    machines: Vec<String>,
    /// The commits the runs were trained at ([`commit`]; a merge lists its shards' distinct
    /// ones): shards merged from two commits are one tier run only if nothing between them
    /// changed a learner.
    #[serde(default)]
    commits: Vec<String>,
    /// The table whose criteria judged a merged report, where `regress merge --table` put them in
    /// place of those the shards recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    criteria_from: Option<String>,
    runs: Vec<RunResult>,
}

/// `git rev-parse --short HEAD` of the workspace, `-dirty` when tracked files differ from it;
/// `unknown` outside a git checkout.
fn commit() -> String {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(crate::workspace_root())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    match git(&["rev-parse", "--short", "HEAD"]) {
        Some(head) => match git(&["status", "--porcelain", "--untracked-files=no"]) {
            Some(changes) if !changes.is_empty() => format!("{head}-dirty"),
            _ => head,
        },
        None => "unknown".into(),
    }
}

/// The CPU, its threads and the SIMD level that picks gemm's kernels, e.g. `AMD EPYC, 2 threads,
/// x86_64 with AVX-512`.
fn machine() -> String {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .and_then(|rest| rest.split_once(':'))
                .map(|(_, name)| name.trim().to_string())
        })
        .unwrap_or_else(|| "an unknown CPU".into());
    let threads = std::thread::available_parallelism().map_or(0, usize::from);
    let plural = if threads == 1 { "" } else { "s" };
    format!("{model}, {threads} thread{plural}, {}", simd_level())
}

#[cfg(target_arch = "x86_64")]
fn simd_level() -> &'static str {
    if std::arch::is_x86_feature_detected!("avx512f") {
        "x86_64 with AVX-512"
    } else if std::arch::is_x86_feature_detected!("avx2")
        && std::arch::is_x86_feature_detected!("fma")
    {
        "x86_64 with AVX2 and FMA, without AVX-512"
    } else {
        "x86_64 without AVX2"
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn simd_level() -> &'static str {
    std::env::consts::ARCH
}

/// A row of the report: the row as the table had it, its seeds' results and (for a whole tier)
/// the verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct RunResult {
    name: String,
    algo: String,
    env: String,
    /// The row's preset, where it names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    preset: Option<String>,
    /// The row's `--set` overrides, where it has them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    set: Vec<String>,
    steps: u64,
    /// All seeds of the row (a shard trains some of them).
    row_seeds: Vec<u64>,
    threshold: f64,
    /// The row's `need`, where it sets one (absent: 90% of the seeds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    need: Option<usize>,
    tolerance: f64,
    source: String,
    /// The seeds trained, in the row's order.
    seeds: Vec<SeedResult>,
    /// `None` in a shard's report.
    verdict: Option<Verdict>,
}

/// One trained seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct SeedResult {
    seed: u64,
    /// Final deterministic evaluation mean return.
    final_return: f64,
    /// Training wall seconds.
    wall_seconds: f64,
    /// The evaluation curve `(step, mean return)`.
    curve: Vec<(f64, f64)>,
}

/// How a row fared over all its seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Verdict {
    median: f64,
    /// Interquartile mean over seeds (`rl_runner::stats::iqm`).
    iqm: f64,
    /// 95% stratified bootstrap interval of the IQM (`BOOTSTRAP_REPS` resamples, seed 0).
    iqm_low: f64,
    iqm_high: f64,
    /// Seeds whose final return reaches the threshold, and how many must.
    seeds_reaching: usize,
    seeds_needed: usize,
    passed_threshold: bool,
    baseline_iqm: Option<f64>,
    /// `None` without a baseline row.
    passed_baseline: Option<bool>,
    passed: bool,
}

/// Bootstrap resamples for the IQM's interval (rliable's default is 50 000).
pub(crate) const BOOTSTRAP_REPS: usize = 50_000;

/// Seeds of `n` that must reach the threshold: 90%, rounded up (9 of 10, 1 of 1, 3 of 3).
fn seeds_needed(n: usize) -> usize {
    (9 * n).div_ceil(10)
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
        if let Some(need) = row.need
            && !(1..=row.seeds.len()).contains(&need)
        {
            bail!(
                "{}: row {:?} needs {need} seeds but has {} (need is 1 to the number of seeds)",
                path.display(),
                row.name,
                row.seeds.len()
            );
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

/// The tiers of the table: `smoke` (CI), `full` (weekly), `mujoco` (the MuJoCo tasks, scheduled),
/// `gymnasium` (Python envs through the bridge, scheduled).
const TIERS: [&str; 4] = ["smoke", "full", "mujoco", "gymnasium"];

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

/// The environments of the selected rows.
pub(crate) fn envs(args: &RegressArgs) -> Vec<String> {
    if args.command.is_some() {
        return Vec::new();
    }
    selected(args).map_or_else(
        |_| Vec::new(),
        |(_, rows)| rows.into_iter().map(|r| r.env).collect(),
    )
}

/// `I/N` → `(I, N)` with 1 ≤ I ≤ N.
fn parse_shard(text: &str) -> Result<(usize, usize)> {
    let parsed = text
        .split_once('/')
        .and_then(|(i, n)| Some((i.trim().parse().ok()?, n.trim().parse().ok()?)));
    match parsed {
        Some((i, n)) if 1 <= i && i <= n => Ok((i, n)),
        _ => bail!("--shard takes I/N with 1 <= I <= N (e.g. 2/4), got {text:?}"),
    }
}

/// The (row index, seed) pairs of a tier, in table order, and those of slice `shard` (dealt
/// round-robin, so every slice gets a share of each expensive row).
fn pairs(rows: &[Row], shard: Option<(usize, usize)>) -> Vec<(usize, u64)> {
    rows.iter()
        .enumerate()
        .flat_map(|(r, row)| row.seeds.iter().map(move |&seed| (r, seed)))
        .enumerate()
        .filter(|(k, _)| shard.is_none_or(|(i, n)| k % n == i - 1))
        .map(|(_, pair)| pair)
        .collect()
}

fn read_report(path: &Path) -> Result<Report> {
    serde_json::from_str(
        &std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?,
    )
    .with_context(|| format!("{} is not a regress report", path.display()))
}

/// The seeds of the regress report at `path` (a tier's `report.json` or a shard's) as runs for
/// `cargo xtask compare`, one per trained seed of the rows named in `rows` (of every row when it
/// is empty), each with its row's name and labelled `PATH#ROW`. A report keeps each evaluation's
/// mean return but neither its spread (NaN here) nor the training episodes (none here). A row's
/// preset and overrides give its variant (SAC v1 rows fall in their own group), as a run
/// folder's config does.
pub(crate) fn report_runs(path: &Path, rows: &[String]) -> Result<Vec<(String, RunCurves)>> {
    let report = read_report(path)?;
    let mut out = Vec::new();
    for row in report
        .runs
        .iter()
        .filter(|r| rows.is_empty() || rows.contains(&r.name))
    {
        let options = TrainOptions {
            algo: row.algo.clone(),
            env: Some(row.env.clone()),
            preset: row.preset.clone(),
            sets: row.set.clone(),
            ..TrainOptions::default()
        };
        let (_, config) = rl_runner::resolve(&options).with_context(|| {
            format!(
                "row {} of {}: its configuration does not resolve",
                row.name,
                path.display()
            )
        })?;
        let variant = RunCurves::variant_of(&config, &row.algo)?;
        for seed in &row.seeds {
            let run = RunCurves {
                dir: PathBuf::from(format!("{}#{}", path.display(), row.name)),
                algo: row.algo.clone(),
                env: row.env.clone(),
                seed: seed.seed,
                variant: variant.clone(),
                curve: Curve {
                    episodes: Vec::new(),
                    // Steps are whole numbers the report writes as floats.
                    evals: seed
                        .curve
                        .iter()
                        .map(|&(step, mean)| (step.round() as u64, mean, f64::NAN))
                        .collect(),
                },
            };
            out.push((row.name.clone(), run));
        }
    }
    Ok(out)
}

/// The names of the rows in the regress report at `path`.
pub(crate) fn report_rows(path: &Path) -> Result<Vec<String>> {
    Ok(read_report(path)?
        .runs
        .into_iter()
        .map(|r| r.name)
        .collect())
}

/// A previous report's IQM per row (older reports, without IQMs, give their medians).
fn read_baseline(path: &Path) -> Result<BTreeMap<String, f64>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a regress report", path.display()))?;
    let runs = value["runs"]
        .as_array()
        .with_context(|| format!("{} is not a regress report (no runs)", path.display()))?;
    let mut out = BTreeMap::new();
    for run in runs {
        let (Some(name), Some(score)) = (
            run["name"].as_str(),
            run["verdict"]["iqm"].as_f64().or(run["median"].as_f64()),
        ) else {
            continue;
        };
        out.insert(name.to_string(), score);
    }
    Ok(out)
}

pub(crate) fn run(args: &RegressArgs) -> Result<()> {
    if let Some(RegressCommand::Merge {
        reports,
        out,
        baseline,
        table,
    }) = &args.command
    {
        return merge(
            reports,
            out.as_deref(),
            baseline.as_deref(),
            table.as_deref(),
        );
    }
    if !TIERS.contains(&args.tier.as_str()) {
        bail!("--tier must be one of {TIERS:?}, got {:?}", args.tier);
    }
    let shard = args.shard.as_deref().map(parse_shard).transpose()?;
    if shard.is_some() && args.baseline.is_some() {
        bail!("--baseline applies to whole tiers: pass it to `regress merge` instead of --shard");
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
    let todo = pairs(&rows, shard);
    if args.list {
        if shard.is_some() {
            for &(r, seed) in &todo {
                println!("{:<28} seed {seed}", rows[r].name);
            }
        } else {
            for r in &rows {
                println!(
                    "{:<28} {} {} {} steps, seeds {:?}, threshold {}",
                    r.name, r.algo, r.env, r.steps, r.seeds, r.threshold
                );
            }
        }
        return Ok(());
    }
    let baseline = args.baseline.as_deref().map(read_baseline).transpose()?;
    let out = args.out.clone().unwrap_or_else(|| {
        let name = match shard {
            Some((i, n)) => format!("{}-shard-{i}-of-{n}", args.tier),
            None => args.tier.clone(),
        };
        root.join("target/regress").join(name)
    });
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let device = parse_device("cpu")?;
    let started = Instant::now();
    // Taken before training, so that edits while a long tier runs are not credited to it.
    let (machines, commits) = (vec![machine()], vec![commit()]);
    let mut results: Vec<RunResult> = rows.iter().map(Row::untrained).collect();
    for &(r, seed) in &todo {
        let row = &rows[r];
        let dir = out.join(format!("{}-seed{seed}", row.name));
        if dir.exists() {
            std::fs::remove_dir_all(&dir).with_context(|| format!("clearing {}", dir.display()))?;
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
        results[r].seeds.push(SeedResult {
            seed,
            final_return: s.eval_mean_return,
            wall_seconds: s.wall_seconds,
            curve: eval_curve(&dir)?,
        });
    }
    // A shard's report lists every row of the tier, trained or not, so merged rows keep the
    // table's order.
    let mut report = Report {
        tier: args.tier.clone(),
        started: crate::bench::utc_now(),
        wall_seconds: started.elapsed().as_secs_f64(),
        shard: args.shard.clone(),
        passed: None,
        machines,
        commits,
        criteria_from: None,
        runs: results,
    };
    if shard.is_none() {
        judge(&mut report, baseline.as_ref());
    }
    publish(&report, &out)
}

/// What a row trains: shards' rows must agree on it to be one row.
fn trains(r: &RunResult) -> (&str, &str, &Option<String>, &[String], u64, &[u64]) {
    (&r.algo, &r.env, &r.preset, &r.set, r.steps, &r.row_seeds)
}

/// How a row is judged.
fn criteria(r: &RunResult) -> (u64, Option<usize>, u64) {
    (r.threshold.to_bits(), r.need, r.tolerance.to_bits())
}

/// Joins shards' reports into the whole tier's report, judges it (by `table`'s criteria where
/// given, else by those the shards recorded) and writes it to `out`.
fn merge(
    paths: &[PathBuf],
    out: Option<&Path>,
    baseline: Option<&Path>,
    table: Option<&Path>,
) -> Result<()> {
    let baseline = baseline.map(read_baseline).transpose()?;
    // Read first, so that a bad table fails before anything is merged.
    let table = table
        .map(|t| Ok::<_, anyhow::Error>((t, load_table(t)?)))
        .transpose()?;
    let mut tier: Option<String> = None;
    let mut started: Option<String> = None;
    let mut wall = 0.0f64;
    let mut machines: Vec<String> = Vec::new();
    let mut commits: Vec<String> = Vec::new();
    let mut rows: Vec<RunResult> = Vec::new();
    for path in paths {
        let part = read_report(path)?;
        // A report from before these fields says so, rather than leaving the lists looking whole.
        let unrecorded = vec![format!("not recorded ({})", path.display())];
        for (all, these) in [
            (&mut machines, &part.machines),
            (&mut commits, &part.commits),
        ] {
            let these = if these.is_empty() { &unrecorded } else { these };
            for m in these {
                if !all.contains(m) {
                    all.push(m.clone());
                }
            }
        }
        match &tier {
            Some(t) if *t != part.tier => bail!(
                "{} is a report of tier {:?}, the others of {t:?}",
                path.display(),
                part.tier
            ),
            _ => tier = Some(part.tier.clone()),
        }
        // The merged run started with its earliest shard and took as long as its longest.
        started = Some(match started {
            Some(s) if s <= part.started => s,
            _ => part.started.clone(),
        });
        wall = wall.max(part.wall_seconds);
        for run in part.runs {
            match rows.iter_mut().find(|r| r.name == run.name) {
                None => rows.push(RunResult {
                    verdict: None,
                    ..run
                }),
                Some(row) => {
                    // What the row trains, and how it is judged unless the table judges; its
                    // `source` (documentation) is the first report's.
                    if trains(row) != trains(&run) {
                        bail!(
                            "{}: row {:?} differs from the same row in another report (were the shards run from one table?)",
                            path.display(),
                            run.name
                        );
                    }
                    if table.is_none() && criteria(row) != criteria(&run) {
                        bail!(
                            "{}: row {:?} is judged by another threshold, need or tolerance than in another report; \
                             `regress merge --table xtask/regress.toml` judges every row by the table's current criteria",
                            path.display(),
                            run.name
                        );
                    }
                    for seed in run.seeds {
                        if row.seeds.iter().any(|s| s.seed == seed.seed) {
                            bail!(
                                "{}: row {:?} seed {} is in two reports",
                                path.display(),
                                run.name,
                                seed.seed
                            );
                        }
                        row.seeds.push(seed);
                    }
                }
            }
        }
    }
    let tier = tier.context("no reports to merge")?;
    if commits.len() > 1 {
        eprintln!(
            "warning: the shards were trained at {} commits ({}): they are one tier run only if \
             no learner changed between them (`git diff A B -- crates/`)",
            commits.len(),
            commits.join(", ")
        );
    }
    for row in &mut rows {
        let order = |seed: u64| row.row_seeds.iter().position(|&s| s == seed);
        let missing: Vec<u64> = row
            .row_seeds
            .iter()
            .copied()
            .filter(|&s| !row.seeds.iter().any(|r| r.seed == s))
            .collect();
        if !missing.is_empty() {
            bail!(
                "row {:?}: no report has seeds {missing:?} (is a shard's report missing?)",
                row.name
            );
        }
        row.seeds.sort_by_key(|s| order(s.seed));
    }
    if let Some((path, table)) = &table {
        if let Some(absent) = table
            .run
            .iter()
            .find(|r| r.tiers.contains(&tier) && !rows.iter().any(|x| x.name == r.name))
        {
            bail!(
                "row {:?} of tier {tier:?} in {} is in none of the reports (train it, or merge \
                 without --table)",
                absent.name,
                path.display()
            );
        }
        for row in &mut rows {
            let Some(current) = table.run.iter().find(|r| r.name == row.name) else {
                bail!(
                    "row {:?} of the reports is not in {} (pass the table the shards ran from)",
                    row.name,
                    path.display()
                );
            };
            let current = current.untrained();
            if trains(&current) != trains(row) {
                bail!(
                    "row {:?} trains something else in {} than in the reports (algorithm, env, \
                     preset, overrides, steps or seeds): its shards must be trained again",
                    row.name,
                    path.display()
                );
            }
            row.threshold = current.threshold;
            row.need = current.need;
            row.tolerance = current.tolerance;
            row.source = current.source;
        }
    }
    let mut report = Report {
        tier: tier.clone(),
        started: started.unwrap_or_default(),
        wall_seconds: wall,
        shard: None,
        passed: None,
        machines,
        commits,
        criteria_from: table.map(|(path, _)| path.display().to_string()),
        runs: rows,
    };
    judge(&mut report, baseline.as_ref());
    let out = out.map_or_else(
        || crate::workspace_root().join("target/regress").join(&tier),
        Path::to_path_buf,
    );
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    publish(&report, &out)
}

/// Gives every row of a whole tier its verdict, and the report its own.
fn judge(report: &mut Report, baseline: Option<&BTreeMap<String, f64>>) {
    for run in &mut report.runs {
        let returns: Vec<f64> = run.seeds.iter().map(|s| s.final_return).collect();
        let centre = iqm(&returns);
        let (low, high) = iqm_interval(std::slice::from_ref(&returns), 0.95, BOOTSTRAP_REPS, 0);
        let reaching = returns.iter().filter(|&&r| r >= run.threshold).count();
        let needed = run.need.unwrap_or_else(|| seeds_needed(returns.len()));
        let passed_threshold = reaching >= needed && centre >= run.threshold;
        let baseline_iqm = baseline.and_then(|b| b.get(&run.name).copied());
        let passed_baseline = baseline_iqm.map(|b| centre >= b - run.tolerance);
        run.verdict = Some(Verdict {
            median: median(&returns),
            iqm: centre,
            iqm_low: low,
            iqm_high: high,
            seeds_reaching: reaching,
            seeds_needed: needed,
            passed_threshold,
            baseline_iqm,
            passed_baseline,
            passed: passed_threshold && passed_baseline.unwrap_or(true),
        });
    }
    report.passed = Some(
        report
            .runs
            .iter()
            .all(|r| r.verdict.as_ref().is_some_and(|v| v.passed)),
    );
}

/// Writes `report.json`, `report.md` and `curves.png` into `out`, prints the markdown, and fails
/// if a judged row failed.
fn publish(report: &Report, out: &Path) -> Result<()> {
    std::fs::write(
        out.join("report.json"),
        serde_json::to_string_pretty(report)?,
    )?;
    let md = markdown(report);
    std::fs::write(out.join("report.md"), &md)?;
    let panels: Vec<Panel> = report
        .runs
        .iter()
        .map(|run| Panel {
            title: match &run.verdict {
                Some(v) => format!(
                    "{} ({} {}): IQM {:.1}, {}/{} seeds {}",
                    run.name,
                    run.algo,
                    run.env,
                    v.iqm,
                    v.seeds_reaching,
                    run.seeds.len(),
                    if v.passed { "pass" } else { "FAIL" }
                ),
                None => format!("{} ({} {})", run.name, run.algo, run.env),
            },
            series: run
                .seeds
                .iter()
                .map(|s| Series {
                    label: format!("seed {}", s.seed),
                    points: s.curve.clone(),
                })
                .collect(),
            threshold: Some(run.threshold),
        })
        .collect();
    curve_grid(&out.join("curves.png"), &panels)?;
    println!("{md}");
    println!(
        "reports: {} and report.json, curves.png",
        out.join("report.md").display()
    );
    if report.passed == Some(false) {
        let failed: Vec<&str> = report
            .runs
            .iter()
            .filter(|r| !r.verdict.as_ref().is_some_and(|v| v.passed))
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

/// `items` joined by `sep`, or `not recorded` for a report that predates them.
fn listed(items: &[String], sep: &str) -> String {
    if items.is_empty() {
        "not recorded".into()
    } else {
        items.join(sep)
    }
}

fn markdown(report: &Report) -> String {
    let title = match &report.shard {
        Some(shard) => format!(
            "tier `{}`, shard {shard} (not judged: merge the shards)",
            report.tier
        ),
        None => format!("tier `{}`", report.tier),
    };
    let mut s = format!(
        "## Regression report: {title} ({}, {:.0} s)\n\n\
         Trained on: {}. At commit: {}.\n\n",
        report.started,
        report.wall_seconds,
        listed(&report.machines, "; "),
        listed(&report.commits, ", ")
    );
    if let Some(table) = &report.criteria_from {
        s += &format!(
            "Judged by the thresholds, needs and tolerances of {table} at merge time, in place of \
             those the shards recorded.\n\n"
        );
    }
    s += "A row passes when at least 90% of its seeds (9 of 10; a row's `need` may ask fewer) and \
         the interquartile mean over seeds reach the threshold (and, with a baseline, the IQM is within the row's tolerance \
         of the baseline's).\n\n\
         | run | algo | env | steps | seeds | final returns | median | IQM [95% CI] | seeds ≥ threshold | threshold | baseline IQM | wall s (per seed) | result |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
    for r in &report.runs {
        let seeds: Vec<u64> = r.seeds.iter().map(|x| x.seed).collect();
        let returns: Vec<String> = r
            .seeds
            .iter()
            .map(|x| format!("{:.1}", x.final_return))
            .collect();
        let walls: Vec<String> = r
            .seeds
            .iter()
            .map(|x| format!("{:.0}", x.wall_seconds))
            .collect();
        let (med, iqm, reaching, baseline, result) = match &r.verdict {
            Some(v) => (
                format!("{:.1}", v.median),
                format!("{:.1} [{:.1}, {:.1}]", v.iqm, v.iqm_low, v.iqm_high),
                format!(
                    "{}/{} (need {})",
                    v.seeds_reaching,
                    seeds.len(),
                    v.seeds_needed
                ),
                v.baseline_iqm.map_or("—".into(), |b| format!("{b:.1}")),
                if v.passed { "pass" } else { "**FAIL**" }.to_string(),
            ),
            None => ("—".into(), "—".into(), "—".into(), "—".into(), "—".into()),
        };
        s += &format!(
            "| {} | {} | {} | {} | {:?} | {} | {med} | {iqm} | {reaching} | {} | {baseline} | {} | {result} |\n",
            r.name,
            r.algo,
            r.env,
            r.steps,
            seeds,
            returns.join(", "),
            r.threshold,
            walls.join(", "),
        );
    }
    s += match report.passed {
        Some(true) => "\nAll rows passed.\n",
        Some(false) => "\n**Some rows failed.**\n",
        None => "\nA shard's partial report: `cargo xtask regress merge` judges the whole tier.\n",
    };
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, seeds: &[u64]) -> Row {
        Row {
            name: name.into(),
            tiers: vec!["full".into()],
            algo: "a2c".into(),
            env: "CartPole-v1".into(),
            preset: None,
            set: Vec::new(),
            steps: 1,
            seeds: seeds.to_vec(),
            threshold: 0.0,
            need: None,
            tolerance: None,
            source: String::new(),
        }
    }

    #[test]
    fn shards_partition_the_pairs() {
        let rows = [
            row("a", &[0, 1, 2, 3, 4]),
            row("b", &[0, 1, 2]),
            row("c", &[7]),
        ];
        let all = pairs(&rows, None);
        assert_eq!(all.len(), 9);
        for n in 1..=4 {
            let mut joined: Vec<(usize, u64)> =
                (1..=n).flat_map(|i| pairs(&rows, Some((i, n)))).collect();
            joined.sort_unstable();
            let mut expected = all.clone();
            expected.sort_unstable();
            assert_eq!(joined, expected, "{n} shards");
            // Round-robin: slice sizes differ by at most one.
            let sizes: Vec<usize> = (1..=n).map(|i| pairs(&rows, Some((i, n))).len()).collect();
            assert!(sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1);
        }
        assert_eq!(pairs(&rows, Some((2, 4))), vec![(0, 1), (1, 0)]);
        assert_eq!(pairs(&rows, Some((1, 4))), vec![(0, 0), (0, 4), (2, 7)]);
    }

    #[test]
    fn shard_argument_is_checked() {
        assert_eq!(parse_shard("2/4").unwrap(), (2, 4));
        for bad in ["0/4", "5/4", "2", "a/b", "1/0", ""] {
            let err = parse_shard(bad).unwrap_err().to_string();
            assert!(err.contains("--shard takes I/N"), "{bad}: {err}");
        }
    }

    #[test]
    fn ninety_percent_of_the_seeds() {
        assert_eq!(seeds_needed(10), 9);
        assert_eq!(seeds_needed(1), 1);
        assert_eq!(seeds_needed(3), 3);
        assert_eq!(seeds_needed(20), 18);
    }

    fn report(returns: &[f64], threshold: f64) -> Report {
        Report {
            tier: "full".into(),
            started: String::new(),
            wall_seconds: 0.0,
            shard: None,
            passed: None,
            machines: Vec::new(),
            commits: Vec::new(),
            criteria_from: None,
            runs: vec![RunResult {
                name: "r".into(),
                algo: "acer".into(),
                env: "CartPole-v1".into(),
                preset: None,
                set: Vec::new(),
                steps: 1,
                row_seeds: (0..returns.len() as u64).collect(),
                threshold,
                need: None,
                tolerance: 10.0,
                source: String::new(),
                seeds: returns
                    .iter()
                    .enumerate()
                    .map(|(i, &r)| SeedResult {
                        seed: i as u64,
                        final_return: r,
                        wall_seconds: 0.0,
                        curve: Vec::new(),
                    })
                    .collect(),
                verdict: None,
            }],
        }
    }

    #[test]
    fn ten_seed_rule() {
        // One seed of ten below: passes. Two: fails, although median and IQM are 500.
        let mut one = report(
            &[500., 500., 128., 500., 500., 500., 500., 500., 500., 500.],
            475.0,
        );
        judge(&mut one, None);
        assert_eq!(one.passed, Some(true));
        let mut two = report(
            &[500., 500., 128., 500., 500., 500., 500., 130., 500., 500.],
            475.0,
        );
        judge(&mut two, None);
        let v = two.runs[0].verdict.clone().unwrap();
        assert_eq!(
            (v.seeds_reaching, v.seeds_needed, v.median, v.iqm),
            (8, 9, 500.0, 500.0)
        );
        assert_eq!(two.passed, Some(false));
        // Nine of ten reaching means the middle six reach too, so for ten seeds the IQM clause
        // never decides alone; the verdict still reports it.
        let mut nine = report(
            &[476., 476., 476., 476., 476., 476., 476., 476., 476., -1e4],
            475.0,
        );
        judge(&mut nine, None);
        let v = nine.runs[0].verdict.clone().unwrap();
        assert!(v.iqm >= 475.0 && v.iqm_low <= v.iqm && v.iqm <= v.iqm_high);
        assert_eq!(nine.passed, Some(true));
        // A baseline IQM more than the tolerance above fails the row.
        let mut base = report(&[500.0; 10], 475.0);
        judge(&mut base, Some(&BTreeMap::from([("r".to_string(), 511.0)])));
        assert_eq!(base.passed, Some(false));
        judge(&mut base, Some(&BTreeMap::from([("r".to_string(), 509.0)])));
        assert_eq!(base.passed, Some(true));
    }

    #[test]
    fn a_row_may_need_fewer_seeds() {
        // Three collapsed seeds of ten: fails the 90% rule, passes a row that needs seven.
        let returns = [500., -459., 500., 500., 56., 500., 500., 20., 500., -300.];
        let mut default = report(&returns, 50.0);
        judge(&mut default, None);
        assert_eq!(default.passed, Some(false));
        let mut seven = report(&returns, 50.0);
        seven.runs[0].need = Some(7);
        judge(&mut seven, None);
        let v = seven.runs[0].verdict.clone().unwrap();
        assert_eq!((v.seeds_reaching, v.seeds_needed), (7, 7));
        assert_eq!(seven.passed, Some(true));
        // The IQM clause still applies: seven reaching with a low IQM fails.
        let mut low = report(&[60., 60., 60., 60., 60., 60., 60., -1e4, -1e4, -1e4], 50.0);
        low.runs[0].need = Some(7);
        judge(&mut low, None);
        assert!(low.runs[0].verdict.as_ref().unwrap().iqm < 50.0);
        assert_eq!(low.passed, Some(false));
    }

    #[test]
    fn a_table_refuses_a_need_beyond_its_seeds() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("table.toml");
        let table = |need: usize| {
            format!(
                "[[run]]\nname = \"r\"\ntiers = [\"full\"]\nalgo = \"a2c\"\nenv = \"CartPole-v1\"\n\
                 steps = 1\nseeds = [0, 1, 2]\nthreshold = 0.0\nneed = {need}\nsource = \"\"\n"
            )
        };
        std::fs::write(&path, table(3)).unwrap();
        assert_eq!(load_table(&path).unwrap().run[0].need, Some(3));
        for bad in [0, 4] {
            std::fs::write(&path, table(bad)).unwrap();
            let err = load_table(&path).unwrap_err().to_string();
            assert!(
                err.contains(&format!("needs {bad} seeds but has 3")),
                "{err}"
            );
        }
    }
}
