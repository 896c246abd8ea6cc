//! What `cargo xtask bench` times: env steps, replay sampling, SAC updates and end-to-end
//! trainings, each with its peer when `--peers` is given.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use rand::SeedableRng;
use rl_envs::{Action, EnvRng, Space, make};

use super::peers::{Peers, gymnasium_steps_per_second, peer_script, torch_updates_per_second};
use super::{BenchArgs, Measurement, Stats, measurement};

/// The classic-control envs whose `step()` rate is measured (the ones the Gymnasium script times).
pub(super) const ENV_IDS: [&str; 5] = [
    "CartPole-v1",
    "Pendulum-v1",
    "MountainCarContinuous-v0",
    "MountainCar-v0",
    "Acrobot-v1",
];

/// Raw `step()` throughput of each classic env, measured the way the anchor script measures
/// Gymnasium: `make(id)` (time limit included), `reset(seed=0)`, actions drawn up front, and a
/// `reset()` whenever an episode ends, counted in the time.
/// The MuJoCo tasks env-step measures (their peer is Gymnasium on the same MuJoCo, 3.17.0).
pub(super) const MUJOCO_IDS: [&str; 4] = ["HalfCheetah-v5", "Hopper-v5", "Ant-v5", "Humanoid-v5"];

/// The environments env-step measures.
pub(super) fn env_step_ids(args: &BenchArgs) -> Vec<String> {
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

pub(super) fn env_step(args: &BenchArgs, peers: Option<&Peers>) -> Result<Vec<Measurement>> {
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

pub(super) fn env_steps_per_second(id: &str, budget: Duration) -> Result<f64> {
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

/// Batches of 256 transitions sampled per second from a full 1M-transition replay buffer, for
/// Pendulum's dimensions (3-dim observation, 1-dim action) and a 17-dim observation (6-dim action,
/// HalfCheetah's), tensors built on the CPU. No Python peer script measures this; ours only.
pub(super) fn replay_sample(args: &BenchArgs) -> Result<Vec<Measurement>> {
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
pub(super) fn sac_update(args: &BenchArgs, peers: Option<&Peers>) -> Result<Vec<Measurement>> {
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
pub(super) fn a2c_cartpole(args: &BenchArgs, peers: Option<&Peers>) -> Result<Vec<Measurement>> {
    use rl_a2c::{A2c, A2cConfig, A2cTrainer};
    let steps = args.a2c_steps;
    let name = format!("a2c-cartpole/8envs-{steps}steps");
    end_to_end(args, peers, &name, "sb3_a2c_cartpole.py", steps, |rep| {
        let config = A2cConfig::preset("CartPole-v1")?;
        let agent = A2c::new(
            config,
            4,
            rl_buffer::ActionSpec::Discrete { n: 2 },
            &candle_core::Device::Cpu,
            rep,
        )?;
        let mut trainer = A2cTrainer::with_factory(agent, || rl_envs::make("CartPole-v1"), rep)?;
        let start = Instant::now();
        while trainer.num_timesteps() < steps {
            trainer.step()?;
        }
        Ok(trainer.num_timesteps() as f64 / start.elapsed().as_secs_f64())
    })
}

/// PPO training on CartPole-v1 for `--ppo-steps` (default 100k) steps with the zoo's settings
/// (8 envs × 32 steps, 20 epochs of minibatches of 256, linear schedules; the preset), the peer
/// `xtask/peers/sb3_ppo_cartpole.py` (SB3's PPO with the same settings, its default 2 torch
/// threads). Steps per second of training (no evaluation in either).
pub(super) fn ppo_cartpole(args: &BenchArgs, peers: Option<&Peers>) -> Result<Vec<Measurement>> {
    use rl_ppo::{Ppo, PpoConfig, PpoTrainer};
    let steps = args.ppo_steps;
    let name = format!("ppo-cartpole/8envs-{steps}steps");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/peers/sb3_ppo_cartpole.py");
    end_to_end(args, peers, &name, script, steps, |rep| {
        let config = PpoConfig::preset("CartPole-v1")?;
        let agent = Ppo::new(
            config,
            4,
            rl_buffer::ActionSpec::Discrete { n: 2 },
            &candle_core::Device::Cpu,
            rep,
        )?;
        let mut trainer = PpoTrainer::with_factory(agent, || rl_envs::make("CartPole-v1"), rep)?;
        trainer.set_total_timesteps(steps);
        let start = Instant::now();
        while trainer.num_timesteps() < steps {
            trainer.step()?;
        }
        Ok(trainer.num_timesteps() as f64 / start.elapsed().as_secs_f64())
    })
}

/// SAC on Pendulum-v1 end to end for `--sac-steps` (default 20k) steps: acting, stepping the env,
/// storing, sampling and one update per step with the zoo's settings (lr 1e-3, 256-256, batch
/// 256), `sb3_sac_pendulum.py` the peer (its default 2 torch threads). Steps per second of
/// training (no evaluation in either).
pub(super) fn sac_e2e(args: &BenchArgs, peers: Option<&Peers>) -> Result<Vec<Measurement>> {
    use rl_sac::{Sac, SacConfig, SacTrainer};
    let steps = args.sac_steps;
    let name = format!("sac-e2e/pendulum-{steps}steps");
    end_to_end(args, peers, &name, "sb3_sac_pendulum.py", steps, |rep| {
        let config = SacConfig::preset("Pendulum-v1")?;
        let agent = Sac::new(
            config,
            3,
            rl_sac::ActionSpec::Continuous { dim: 1 },
            &candle_core::Device::Cpu,
            rep,
        )?;
        let mut trainer = SacTrainer::new(agent, make("Pendulum-v1")?, rep)?;
        let start = Instant::now();
        while trainer.num_timesteps() < steps {
            trainer.step()?;
        }
        Ok(trainer.num_timesteps() as f64 / start.elapsed().as_secs_f64())
    })
}

/// `--repeats` end-to-end trainings of `steps` environment steps: ours (`train(repeat)`, its
/// steps per second), then the peer's `script` with the same length and seed, alternating.
pub(super) fn end_to_end(
    args: &BenchArgs,
    peers: Option<&Peers>,
    name: &str,
    script: &str,
    steps: u64,
    mut train: impl FnMut(u64) -> Result<f64>,
) -> Result<Vec<Measurement>> {
    let mut ours = Vec::new();
    let mut peer = Vec::new();
    for rep in 0..args.repeats {
        eprintln!("{name}: repeat {}/{}", rep + 1, args.repeats);
        ours.push(train(rep as u64)?);
        if let Some(p) = peers {
            let json = peer_script(
                p,
                script,
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
                    .with_context(|| format!("{script}: no fps"))?,
            );
        }
    }
    Ok(vec![measurement(
        name.to_owned(),
        "env steps/s",
        ours,
        peers.map(|_| peer),
    )])
}
