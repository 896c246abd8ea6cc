//! `cargo xtask bench`: our speed, and with `--peers` the Python peers' speed measured alternately
//! in the same run (A B A B ...), reported as ratios. Absolute times on shared machines drift;
//! ratios of interleaved runs do much less.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use serde::Serialize;

mod peers;
mod workloads;

use peers::{Peers, peer_python};
use workloads::{
    a2c_cartpole, env_step, env_step_ids, ppo_cartpole, replay_sample, sac_e2e, sac_update,
};

#[derive(Args)]
pub(crate) struct BenchArgs {
    /// Benchmarks to run (default: all). Known: env-step, replay-sample, sac-update,
    /// a2c-cartpole, ppo-cartpole, sac-e2e.
    names: Vec<String>,
    /// Also run the Python peers (needs the venv from ../shared/anchors/python/setup.sh).
    #[arg(long)]
    peers: bool,
    /// Interleaved repetitions (ours, peer, ours, peer, ...).
    #[arg(long, default_value_t = 3)]
    repeats: usize,
    /// Seconds each measurement of ours runs.
    #[arg(long, default_value_t = 1.0)]
    seconds: f64,
    /// Environment steps of the a2c-cartpole benchmark.
    #[arg(long, default_value_t = 500_000)]
    a2c_steps: u64,
    /// Environment steps of the ppo-cartpole benchmark.
    #[arg(long, default_value_t = 100_000)]
    ppo_steps: u64,
    /// Environment steps of the sac-e2e benchmark.
    #[arg(long, default_value_t = 20_000)]
    sac_steps: u64,
    /// env-step only: these environments (repeatable; default: the classic-control ones and
    /// HalfCheetah-v5, Hopper-v5, Ant-v5, Humanoid-v5, which need MuJoCo: see docs/mujoco.md).
    /// `gymnasium:<id>` measures the Python bridge against the same env stepped from Python.
    #[arg(long = "env", value_name = "ID")]
    envs: Vec<String>,
    /// Write the results as JSON (keys documented in docs/benchmarks.md).
    #[arg(long)]
    json: Option<PathBuf>,
    /// Folder of the anchor scripts (default: ../shared/anchors/python beside the workspace).
    #[arg(long, env = "RL_ANCHORS_DIR")]
    anchors: Option<PathBuf>,
    /// Python interpreter of the anchors' venv (default: $ANCHORS_VENV/bin/python, with
    /// ANCHORS_VENV defaulting to ~/.cache/rl-anchors-venv).
    #[arg(long)]
    python: Option<PathBuf>,
}

/// One benchmark's samples: ours, and the peer's when it ran.
#[derive(Serialize)]
struct Measurement {
    name: String,
    unit: &'static str,
    ours: Stats,
    #[serde(skip_serializing_if = "Option::is_none")]
    peer: Option<Stats>,
    /// ours / peer for each interleaved pair (higher is better for us).
    #[serde(skip_serializing_if = "Option::is_none")]
    ratio: Option<Stats>,
}

#[derive(Serialize)]
struct Stats {
    min: f64,
    median: f64,
    max: f64,
    samples: Vec<f64>,
}

impl Stats {
    fn of(mut samples: Vec<f64>) -> Self {
        samples.retain(|x| x.is_finite());
        let mut sorted = samples.clone();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median = match n {
            0 => f64::NAN,
            _ if n % 2 == 1 => sorted[n / 2],
            _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
        };
        Self {
            min: sorted.first().copied().unwrap_or(f64::NAN),
            median,
            max: sorted.last().copied().unwrap_or(f64::NAN),
            samples,
        }
    }
}

#[derive(Serialize)]
struct Report {
    schema: &'static str,
    started_utc: String,
    machine: Machine,
    results: Vec<Measurement>,
}

#[derive(Serialize)]
struct Machine {
    cpus: usize,
    loadavg_start: String,
    profile: &'static str,
}

pub(crate) fn run(args: &BenchArgs) -> Result<()> {
    let known = [
        "env-step",
        "replay-sample",
        "sac-update",
        "a2c-cartpole",
        "ppo-cartpole",
        "sac-e2e",
    ];
    let names: Vec<&str> = if args.names.is_empty() {
        known.to_vec()
    } else {
        args.names.iter().map(String::as_str).collect()
    };
    if let Some(bad) = names.iter().find(|n| !known.contains(n)) {
        bail!("unknown benchmark {bad:?}; known: {}", known.join(", "));
    }
    let anchors = args
        .anchors
        .clone()
        .unwrap_or_else(|| crate::workspace_root().join("../shared/anchors/python"));
    // The anchors' venv, unless only MuJoCo rows are asked for (their peer has its own venv).
    let needs_anchors = names.iter().any(|n| *n != "env-step")
        || env_step_ids(args)
            .iter()
            .any(|id| !crate::mujoco::is_mujoco(id));
    let peers = match (args.peers, needs_anchors) {
        (false, _) => None,
        (true, true) => Some(Peers {
            python: peer_python(args, &anchors)?,
            anchors,
        }),
        (true, false) => Some(Peers {
            python: PathBuf::new(),
            anchors,
        }),
    };
    if cfg!(debug_assertions) {
        eprintln!(
            "note: built with debug assertions (the dev profile); figures include their cost"
        );
    }

    let report = Report {
        schema: "rl-bench/1",
        started_utc: utc_now(),
        machine: Machine {
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            loadavg_start: std::fs::read_to_string("/proc/loadavg")
                .unwrap_or_default()
                .trim()
                .to_owned(),
            profile: if cfg!(debug_assertions) {
                "dev"
            } else {
                "release"
            },
        },
        results: Vec::new(),
    };
    let mut report = report;
    for name in &names {
        match *name {
            "env-step" => report.results.extend(env_step(args, peers.as_ref())?),
            "replay-sample" => report.results.extend(replay_sample(args)?),
            "sac-update" => report.results.extend(sac_update(args, peers.as_ref())?),
            "a2c-cartpole" => report.results.extend(a2c_cartpole(args, peers.as_ref())?),
            "ppo-cartpole" => report.results.extend(ppo_cartpole(args, peers.as_ref())?),
            "sac-e2e" => report.results.extend(sac_e2e(args, peers.as_ref())?),
            _ => unreachable!("checked above"),
        }
    }

    print_table(&report.results);
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&report)? + "\n")
            .with_context(|| format!("writing {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// Whether the benchmarks asked for include a MuJoCo env-step row.
/// The environments the benchmarks asked for step (env-step's).
pub(crate) fn envs(args: &BenchArgs) -> Vec<String> {
    let env_step = args.names.is_empty() || args.names.iter().any(|n| n == "env-step");
    if env_step {
        env_step_ids(args)
    } else {
        Vec::new()
    }
}

/// A measurement with the pairwise ratios `ours[i] / peer[i]`.
fn measurement(
    name: String,
    unit: &'static str,
    ours: Vec<f64>,
    peer: Option<Vec<f64>>,
) -> Measurement {
    Measurement {
        name,
        unit,
        ratio: peer
            .as_ref()
            .map(|p| Stats::of(ours.iter().zip(p).map(|(a, b)| a / b).collect())),
        ours: Stats::of(ours),
        peer: peer.map(Stats::of),
    }
}

fn print_table(results: &[Measurement]) {
    println!("| benchmark | unit | ours (median) | peer (median) | ratio min / median / max |");
    println!("|---|---|---:|---:|---|");
    for m in results {
        let peer = m
            .peer
            .as_ref()
            .map_or("-".to_owned(), |p| format!("{:.0}", p.median));
        let ratio = m.ratio.as_ref().map_or("-".to_owned(), |r| {
            format!("{:.1}x / {:.1}x / {:.1}x", r.min, r.median, r.max)
        });
        println!(
            "| {} | {} | {:.0} | {} | {} |",
            m.name, m.unit, m.ours.median, peer, ratio
        );
    }
}

/// The current time as `YYYY-MM-DDTHH:MM:SSZ`.
pub(crate) fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}
