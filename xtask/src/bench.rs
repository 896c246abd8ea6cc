//! `cargo xtask bench`: our speed, and with `--peers` the Python peers' speed measured alternately
//! in the same run (A B A B ...), reported as ratios. Absolute times on shared machines drift;
//! ratios of interleaved runs do much less.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Args;
use rand::SeedableRng;
use rl_envs::{Action, EnvRng, Space, make};
use serde::Serialize;

/// The classic-control envs whose `step()` rate is measured (the ones the Gymnasium script times).
const ENV_IDS: [&str; 5] = [
    "CartPole-v1",
    "Pendulum-v1",
    "MountainCarContinuous-v0",
    "MountainCar-v0",
    "Acrobot-v1",
];

#[derive(Args)]
pub(crate) struct BenchArgs {
    /// Benchmarks to run (default: all). Known: env-step, replay-sample, sac-update,
    /// a2c-cartpole, sac-e2e.
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

/// Raw `step()` throughput of each classic env, measured the way the anchor script measures
/// Gymnasium: `make(id)` (time limit included), `reset(seed=0)`, actions drawn up front, and a
/// `reset()` whenever an episode ends, counted in the time.
/// The MuJoCo tasks env-step measures (their peer is Gymnasium on the same MuJoCo, 3.17.0).
const MUJOCO_IDS: [&str; 4] = ["HalfCheetah-v5", "Hopper-v5", "Ant-v5", "Humanoid-v5"];

/// The environments env-step measures.
fn env_step_ids(args: &BenchArgs) -> Vec<String> {
    if args.envs.is_empty() {
        ENV_IDS
            .iter()
            .chain(&MUJOCO_IDS)
            .map(|s| (*s).to_owned())
            .collect()
    } else {
        args.envs.clone()
    }
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

fn env_step(args: &BenchArgs, peers: Option<&Peers>) -> Result<Vec<Measurement>> {
    let ids = env_step_ids(args);
    let (bridged, native): (Vec<&str>, Vec<&str>) = ids
        .iter()
        .map(String::as_str)
        .partition(|id| rl_gymnasium::is_bridged(id));
    let (mujoco, classic): (Vec<&str>, Vec<&str>) = native
        .into_iter()
        .partition(|id| crate::mujoco::is_mujoco(id));
    // The bridge's peer is the same env stepped from Python, in the bridge's own venv.
    let bridge_peer = match (peers, bridged.is_empty()) {
        (Some(p), false) => Some(Peers {
            python: crate::gymnasium::venv()?.join("bin/python"),
            anchors: p.anchors.clone(),
        }),
        _ => None,
    };
    let unbridged: Vec<&str> = bridged
        .iter()
        .filter_map(|id| id.split(':').next_back())
        .collect();
    // Gymnasium on MuJoCo 3.17.0 (the anchors' venv has another MuJoCo): a venv of its own.
    let mujoco_peer = match (peers, mujoco.is_empty()) {
        (Some(p), false) => Some(Peers {
            python: crate::mujoco::peer_python()?,
            anchors: p.anchors.clone(),
        }),
        _ => None,
    };
    let mut ours: Vec<Vec<f64>> = vec![Vec::new(); ids.len()];
    let mut peer: Vec<Vec<f64>> = vec![Vec::new(); ids.len()];
    for rep in 0..args.repeats {
        eprintln!("env-step: repeat {}/{}", rep + 1, args.repeats);
        for (i, id) in ids.iter().enumerate() {
            ours[i].push(env_steps_per_second(
                id,
                Duration::from_secs_f64(args.seconds),
            )?);
        }
        let mut rates = std::collections::HashMap::new();
        if let (Some(peers), false) = (peers, classic.is_empty()) {
            rates.extend(gymnasium_steps_per_second(peers, &classic)?);
        }
        if let Some(peers) = &mujoco_peer {
            rates.extend(gymnasium_steps_per_second(peers, &mujoco)?);
        }
        if let Some(peers) = &bridge_peer {
            for (id, rate) in gymnasium_steps_per_second(peers, &unbridged)? {
                rates.insert(format!("{}:{id}", rl_gymnasium::PREFIX), rate);
            }
        }
        for (i, id) in ids.iter().enumerate() {
            if peers.is_some() {
                peer[i].push(rates.get(id).copied().unwrap_or(f64::NAN));
            }
        }
    }
    Ok(ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let ratio = peers
                .map(|_| Stats::of(ours[i].iter().zip(&peer[i]).map(|(a, b)| a / b).collect()));
            Measurement {
                name: format!("env-step/{id}"),
                unit: "steps/s",
                ours: Stats::of(ours[i].clone()),
                peer: peers.map(|_| Stats::of(peer[i].clone())),
                ratio,
            }
        })
        .collect())
}

fn env_steps_per_second(id: &str, budget: Duration) -> Result<f64> {
    let mut env = make(id)?;
    let mut rng = EnvRng::seed_from_u64(0);
    let space = env.action_space().clone();
    // Actions drawn up front and stored flat, so the loop times `step` (and resets) only.
    const N: usize = 65_536;
    let (indices, vectors): (Vec<usize>, Vec<f32>) = match &space {
        Space::Discrete(d) => ((0..N).map(|_| d.sample(&mut rng)).collect(), Vec::new()),
        Space::Box(b) => (
            Vec::new(),
            (0..N).flat_map(|_| b.sample(&mut rng)).collect(),
        ),
    };
    let dim = space.flat_dim();
    let action = |k: usize| match &space {
        Space::Discrete(_) => Action::Discrete(indices[k]),
        Space::Box(_) => Action::Continuous(&vectors[k * dim..(k + 1) * dim]),
    };
    env.reset(Some(0))?;
    let mut steps = 0_usize;
    let start = Instant::now();
    loop {
        for k in 0..N {
            let step = env.step(action(k))?;
            if step.terminated || step.truncated {
                env.reset(None)?;
            }
        }
        steps += N;
        if start.elapsed() >= budget {
            break;
        }
    }
    Ok(steps as f64 / start.elapsed().as_secs_f64())
}

/// Where the Python peers live.
struct Peers {
    python: PathBuf,
    anchors: PathBuf,
}

/// Batches of 256 transitions sampled per second from a full 1M-transition replay buffer, for
/// Pendulum's dimensions (3-dim observation, 1-dim action) and a 17-dim observation (6-dim action,
/// HalfCheetah's), tensors built on the CPU. No Python peer script measures this; ours only.
fn replay_sample(args: &BenchArgs) -> Result<Vec<Measurement>> {
    use rl_buffer::{ActionSpec, ReplayBuffer, Transition};
    use rl_math::SeededRng;
    let mut out = Vec::new();
    for (obs_dim, act_dim) in [(3, 1), (17, 6)] {
        let mut buf =
            ReplayBuffer::new(1_000_000, obs_dim, ActionSpec::Continuous { dim: act_dim })?;
        let mut rng = SeededRng::new(0);
        let obs = rng.normal_vec(obs_dim);
        let act = rng.normal_vec(act_dim);
        for i in 0..buf.capacity() {
            buf.push(Transition {
                obs: &obs,
                action: &act,
                reward: i as f64,
                next_obs: &obs,
                terminated: false,
                truncated: false,
            })?;
        }
        let device = candle_core::Device::Cpu;
        let mut samples = Vec::new();
        for _ in 0..args.repeats {
            let start = Instant::now();
            let mut batches = 0_u64;
            while start.elapsed().as_secs_f64() < args.seconds {
                std::hint::black_box(buf.sample(256, &mut rng, &device)?);
                batches += 1;
            }
            samples.push(batches as f64 / start.elapsed().as_secs_f64());
        }
        out.push(Measurement {
            name: format!("replay-sample/obs{obs_dim}-act{act_dim}-batch256"),
            unit: "batches/s",
            ours: Stats::of(samples),
            peer: None,
            ratio: None,
        });
    }
    Ok(out)
}

/// SAC gradient updates per second with Pendulum's dimensions (obs 3, action 1), 256-256
/// networks, batch 256, learning rate 1e-3, sampling from a 20k-transition buffer — the shapes and
/// steps of `torch_sac_update.py`, which is the peer (run at 1 and 2 threads; the ratio is
/// against the faster).
fn sac_update(args: &BenchArgs, peers: Option<&Peers>) -> Result<Vec<Measurement>> {
    use rl_buffer::{ActionSpec, ReplayBuffer, Transition};
    use rl_math::SeededRng;
    use rl_sac::{Sac, SacConfig};

    let device = candle_core::Device::Cpu;
    let config = SacConfig {
        learning_rate: 1e-3,
        ..SacConfig::default()
    };
    let mut agent = Sac::new(
        config,
        3,
        rl_sac::ActionSpec::Continuous { dim: 1 },
        &device,
        0,
    )?;
    let mut buf = ReplayBuffer::new(20_000, 3, ActionSpec::Continuous { dim: 1 })?;
    let mut rng = SeededRng::new(0);
    for _ in 0..20_000 {
        let obs = rng.normal_vec(3);
        let next = rng.normal_vec(3);
        let a = rng.normal_vec(1)[0].tanh();
        buf.push(Transition {
            obs: &obs,
            action: &[a],
            reward: f64::from(rng.normal_vec(1)[0]),
            next_obs: &next,
            terminated: false,
            truncated: false,
        })?;
    }
    let mut update = || -> Result<()> {
        let batch = buf.sample(256, &mut rng, &device)?;
        agent.update(&batch)?;
        Ok(())
    };
    for _ in 0..50 {
        update()?;
    }
    let mut ours = Vec::new();
    let mut peer = Vec::new();
    for rep in 0..args.repeats {
        eprintln!("sac-update: repeat {}/{}", rep + 1, args.repeats);
        let start = Instant::now();
        let mut n = 0_u64;
        while start.elapsed().as_secs_f64() < args.seconds.max(0.1) * 5.0 || n < 20 {
            update()?;
            n += 1;
        }
        ours.push(n as f64 / start.elapsed().as_secs_f64());
        if let Some(p) = peers {
            let best = [1, 2]
                .into_iter()
                .map(|threads| torch_updates_per_second(p, threads))
                .collect::<Result<Vec<f64>>>()?
                .into_iter()
                .fold(f64::NAN, f64::max);
            peer.push(best);
        }
    }
    Ok(vec![Measurement {
        name: "sac-update/pendulum-256x256-batch256".into(),
        unit: "updates/s",
        ratio: peers.map(|_| Stats::of(ours.iter().zip(&peer).map(|(a, b)| a / b).collect())),
        ours: Stats::of(ours),
        peer: peers.map(|_| Stats::of(peer)),
    }])
}

/// A2C training on CartPole-v1 with 8 envs for `--a2c-steps` (default 500k) steps, SB3's
/// defaults with ent_coef 0 (the zoo's settings; `sb3_a2c_cartpole.py` is the peer, with its
/// default 2 torch threads). Steps per second of training (no evaluation in either).
fn a2c_cartpole(args: &BenchArgs, peers: Option<&Peers>) -> Result<Vec<Measurement>> {
    use rl_a2c::{A2c, A2cConfig, A2cTrainer};
    let steps = args.a2c_steps;
    let mut ours = Vec::new();
    let mut peer = Vec::new();
    for rep in 0..args.repeats {
        eprintln!("a2c-cartpole: repeat {}/{}", rep + 1, args.repeats);
        let config = A2cConfig::preset("CartPole-v1")?;
        let agent = A2c::new(
            config,
            4,
            rl_buffer::ActionSpec::Discrete { n: 2 },
            &candle_core::Device::Cpu,
            rep as u64,
        )?;
        let mut trainer =
            A2cTrainer::with_factory(agent, || rl_envs::make("CartPole-v1"), rep as u64)?;
        let start = Instant::now();
        while trainer.num_timesteps() < steps {
            trainer.step()?;
        }
        ours.push(trainer.num_timesteps() as f64 / start.elapsed().as_secs_f64());
        if let Some(p) = peers {
            let json = peer_script(
                p,
                "sb3_a2c_cartpole.py",
                &[
                    "--timesteps",
                    &steps.to_string(),
                    "--seed",
                    &rep.to_string(),
                ],
            )?;
            peer.push(
                json["fps"]
                    .as_f64()
                    .context("sb3_a2c_cartpole.py: no fps")?,
            );
        }
    }
    Ok(vec![measurement(
        format!("a2c-cartpole/8envs-{steps}steps"),
        "env steps/s",
        ours,
        peers.map(|_| peer),
    )])
}

/// SAC on Pendulum-v1 end to end for `--sac-steps` (default 20k) steps: acting, stepping the env,
/// storing, sampling and one update per step with the zoo's settings (lr 1e-3, 256-256, batch
/// 256), `sb3_sac_pendulum.py` the peer (its default 2 torch threads). Steps per second of
/// training (no evaluation in either).
fn sac_e2e(args: &BenchArgs, peers: Option<&Peers>) -> Result<Vec<Measurement>> {
    use rl_sac::{Sac, SacConfig, SacTrainer};
    let steps = args.sac_steps;
    let mut ours = Vec::new();
    let mut peer = Vec::new();
    for rep in 0..args.repeats {
        eprintln!("sac-e2e: repeat {}/{}", rep + 1, args.repeats);
        let config = SacConfig::preset("Pendulum-v1")?;
        let agent = Sac::new(
            config,
            3,
            rl_sac::ActionSpec::Continuous { dim: 1 },
            &candle_core::Device::Cpu,
            rep as u64,
        )?;
        let mut trainer = SacTrainer::new(agent, make("Pendulum-v1")?, rep as u64)?;
        let start = Instant::now();
        while trainer.num_timesteps() < steps {
            trainer.step()?;
        }
        ours.push(trainer.num_timesteps() as f64 / start.elapsed().as_secs_f64());
        if let Some(p) = peers {
            let json = peer_script(
                p,
                "sb3_sac_pendulum.py",
                &[
                    "--timesteps",
                    &steps.to_string(),
                    "--seed",
                    &rep.to_string(),
                ],
            )?;
            peer.push(
                json["fps"]
                    .as_f64()
                    .context("sb3_sac_pendulum.py: no fps")?,
            );
        }
    }
    Ok(vec![measurement(
        format!("sac-e2e/pendulum-{steps}steps"),
        "env steps/s",
        ours,
        peers.map(|_| peer),
    )])
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

/// Runs an anchor script and parses the one JSON line it prints.
fn peer_script(peers: &Peers, script: &str, args: &[&str]) -> Result<serde_json::Value> {
    let out = Command::new(&peers.python)
        .current_dir(&peers.anchors)
        .arg(script)
        .args(args)
        .output()
        .with_context(|| format!("running {script}"))?;
    if !out.status.success() {
        bail!("{script} failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().last().unwrap_or("");
    serde_json::from_str(line.trim())
        .with_context(|| format!("{script} printed something other than a JSON line"))
}

/// `torch_sac_update.py --threads N`: the median updates/s of its repeats.
fn torch_updates_per_second(peers: &Peers, threads: usize) -> Result<f64> {
    let out = Command::new(&peers.python)
        .current_dir(&peers.anchors)
        .args([
            "torch_sac_update.py",
            "--updates",
            "300",
            "--repeats",
            "2",
            "--threads",
        ])
        .arg(threads.to_string())
        .output()
        .context("running torch_sac_update.py")?;
    if !out.status.success() {
        bail!(
            "torch_sac_update.py failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let json: serde_json::Value = serde_json::from_str(String::from_utf8_lossy(&out.stdout).trim())
        .context("torch_sac_update.py printed something other than one JSON line")?;
    json["updates_per_s_median"]
        .as_f64()
        .context("torch_sac_update.py: no updates_per_s_median")
}

fn peer_python(args: &BenchArgs, anchors: &std::path::Path) -> Result<PathBuf> {
    let python = match &args.python {
        Some(p) => p.clone(),
        None => {
            let venv = std::env::var_os("ANCHORS_VENV")
                .map(PathBuf::from)
                .unwrap_or_else(|| {
                    PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                        .join(".cache/rl-anchors-venv")
                });
            venv.join("bin/python")
        }
    };
    if !python.exists() {
        bail!(
            "--peers needs the Python peers' venv, and {} does not exist: run {}/setup.sh first",
            python.display(),
            anchors.display()
        );
    }
    Ok(python)
}

/// Gymnasium's "presampled" steps/s per env from the anchor script `env_throughput.py`.
fn gymnasium_steps_per_second(
    peers: &Peers,
    ids: &[&str],
) -> Result<std::collections::HashMap<String, f64>> {
    let anchors = &peers.anchors;
    let out = Command::new(&peers.python)
        .current_dir(anchors)
        .args([
            "env_throughput.py",
            "--max-steps",
            "200000",
            "--max-seconds",
            "3",
            "--envs",
        ])
        .args(ids)
        .output()
        .with_context(|| format!("running {}/env_throughput.py", anchors.display()))?;
    if !out.status.success() {
        bail!(
            "env_throughput.py failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let line = String::from_utf8_lossy(&out.stdout);
    let json: serde_json::Value = serde_json::from_str(line.trim())
        .context("env_throughput.py printed something other than one JSON line")?;
    Ok(ids
        .iter()
        .filter_map(|id| {
            let rate = json["results"][*id]["presampled"]["steps_per_s"].as_f64()?;
            Some(((*id).to_owned(), rate))
        })
        .collect())
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
