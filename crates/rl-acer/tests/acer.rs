//! ACER through its public API: the probes solved (discrete and continuous), bit-identical reruns,
//! exact resume with the replay memory, every ablation switch running, and bad input named.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

use candle_core::{Device, Tensor};
use rl_acer::{Acer, AcerConfig, AcerError, AcerMetrics, AcerTrainer};
use rl_buffer::{ActionSpec, Normalizer};
use rl_envs::probe::{Probe, ProbeEnv};

fn trainer(
    env: &str,
    obs_dim: usize,
    action: ActionSpec,
    config: AcerConfig,
    seed: u64,
) -> AcerTrainer {
    let agent = Acer::new(config, obs_dim, action, &Device::Cpu, seed).unwrap();
    AcerTrainer::with_factory(agent, || rl_envs::make(env), seed).unwrap()
}

/// The discount of a probe's run: 0.5 on the discounting probe, where `V(0) = γ` must then come
/// out as 0.5, far from the 1.0 of a learner that ignores γ and the 0.25 of one that applies it
/// twice (with γ = 0.99 all three lie within the tolerance); the learner's default elsewhere.
fn probe_gamma(probe: Probe, default: f64) -> f64 {
    if probe == Probe::DiscountedTwoStep {
        0.5
    } else {
        default
    }
}

/// Each probe (see `rl_envs::probe`) isolates one part of the learner: the critic's values and
/// the policy's best actions must come out as the probe's known answers.
#[test]
fn acer_solves_every_probe() {
    for continuous in [false, true] {
        for probe in Probe::ALL {
            let gamma = probe_gamma(probe, AcerConfig::default().gamma);
            let reference = ProbeEnv::new(probe, continuous);
            let action = if continuous {
                ActionSpec::Continuous { dim: 1 }
            } else {
                ActionSpec::Discrete { n: 2 }
            };
            let config = AcerConfig {
                n_envs: 4,
                n_steps: 5,
                learning_rate: 2e-3,
                replay_start: 100,
                net_arch: vec![32, 32],
                gamma,
                ..AcerConfig::default()
            };
            let mut tr = trainer(probe.id(continuous), 1, action, config, 0);
            for _ in 0..300 {
                tr.step().unwrap();
            }
            let observations: &[f32] = match probe {
                Probe::ObservationReward | Probe::ObservationActionReward => &[-1.0, 1.0],
                Probe::DiscountedTwoStep => &[0.0, 1.0],
                _ => &[0.0],
            };
            for &s in observations {
                let x = Tensor::new(&[[s]], &Device::Cpu).unwrap();
                let agent = tr.agent_mut();
                let v = f64::from(agent.values(&x).unwrap().to_vec1::<f32>().unwrap()[0]);
                let want = reference.expected_value(&[s], gamma);
                // A stochastic policy earns less than the deterministic optimum on the action
                // probes; they are checked through the action instead.
                if !matches!(probe, Probe::ActionReward | Probe::ObservationActionReward) {
                    assert!(
                        (v - want).abs() < 0.15,
                        "{probe:?} continuous={continuous} s={s}: V {v:.3}, expected {want:.3}"
                    );
                }
                let acted = agent.act_batch(&x, true).unwrap();
                match reference.optimal_action(&[s]) {
                    Some(rl_envs::OwnedAction::Discrete(best)) => {
                        assert_eq!(acted.actions[0] as usize, best, "{probe:?} s={s}")
                    }
                    Some(rl_envs::OwnedAction::Continuous(best)) => assert!(
                        (acted.actions[0] - best[0]).abs() < 0.15,
                        "{probe:?} s={s}: {} vs {}",
                        acted.actions[0],
                        best[0]
                    ),
                    None => {}
                }
            }
        }
    }
}

fn run(seed: u64, rollouts: usize, action: ActionSpec) -> (Vec<Vec<AcerMetrics>>, AcerTrainer) {
    let (env, obs_dim) = match action {
        ActionSpec::Discrete { .. } => ("CartPole-v1", 4),
        ActionSpec::Continuous { .. } => ("Pendulum-v1", 3),
    };
    let config = AcerConfig {
        n_envs: 4,
        n_steps: 10,
        replay_start: 200,
        normalize_obs: true,
        normalize_reward: true,
        ..AcerConfig::default()
    };
    let mut tr = trainer(env, obs_dim, action, config, seed);
    let updates = (0..rollouts).map(|_| tr.step().unwrap().updates).collect();
    (updates, tr)
}

#[test]
fn the_same_seed_gives_bit_identical_updates() {
    for action in [
        ActionSpec::Discrete { n: 2 },
        ActionSpec::Continuous { dim: 1 },
    ] {
        let (a, _) = run(1, 30, action);
        let (b, _) = run(1, 30, action);
        let (c, _) = run(2, 30, action);
        assert_eq!(a, b);
        assert_ne!(a, c);
        // Replay started, and some rollouts replayed more than once.
        assert!(
            a.iter().any(|u| u.len() > 2),
            "{action:?}: no replayed updates"
        );
        assert!(a.iter().flatten().any(|m| m.off_policy && m.rho != 1.0));
    }
}

#[test]
fn a_resumed_trainer_continues_bit_for_bit() {
    for action in [
        ActionSpec::Discrete { n: 2 },
        ActionSpec::Continuous { dim: 1 },
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (_, mut straight) = run(3, 25, action);
        let (_, first) = run(3, 25, action);
        first.save(dir.path()).unwrap();
        let (_, mut resumed) = run(9, 0, action);
        resumed.load(dir.path()).unwrap();
        assert_eq!(resumed.replay().len(), straight.replay().len());
        for _ in 0..20 {
            assert_eq!(straight.step().unwrap(), resumed.step().unwrap());
        }
    }
}

/// With normalization on, the replay memory keeps what Pendulum-v1 returned, and each batch is
/// normalized when it is used, with the statistics of that moment: replayed segments normalized
/// at collection kept statistics that had since moved, and learning collapsed on most seeds
/// (docs/results.md). Stored observations are `(cos θ, sin θ, θ̇)`, so `cos² + sin² = 1`, and
/// stored rewards lie in `[−16.28, 0]`.
#[test]
fn the_replay_memory_keeps_unnormalized_values() {
    let (updates, tr) = run(4, 30, ActionSpec::Continuous { dim: 1 });
    // The on-policy update sees the fresh segments as the policy saw them: ρ = 1 up to rounding.
    for m in updates.iter().flatten().filter(|m| !m.off_policy) {
        assert!((m.rho - 1.0).abs() < 1e-5, "on-policy ρ {}", m.rho);
    }
    let mut rng = rl_math::SeededRng::new(0);
    let stored = tr.replay().sample(8, &mut rng, &Device::Cpu).unwrap();
    let obs = stored.obs.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    for row in obs.chunks(3) {
        let norm = row[0] * row[0] + row[1] * row[1];
        assert!((norm - 1.0).abs() < 1e-5, "a stored observation {row:?}");
    }
    let rewards = stored
        .rewards
        .flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    assert!(rewards.iter().all(|r| (-16.28..=0.0).contains(r)));
    assert!(rewards.iter().any(|&r| r < -0.5), "{rewards:?}");
    // What replayed batches go through: the env's normalization with its current statistics.
    let normalized = tr.env().normalize_obs(&obs);
    let mut through = obs.clone();
    tr.normalizer().observations(&mut through);
    assert_eq!(through, normalized);
    let mut scaled = rewards.clone();
    tr.normalizer().rewards(&mut scaled);
    for (s, r) in scaled.iter().zip(&rewards) {
        assert_eq!(*s, tr.env().normalize_reward(f64::from(*r)) as f32);
        assert_ne!(s, r);
    }
    assert_ne!(normalized, obs);
    assert!(
        normalized
            .chunks(3)
            .any(|row| (row[0] * row[0] + row[1] * row[1] - 1.0).abs() > 0.1)
    );

    // A checkpoint written before (no raw observations in trainer.json, a replay memory of
    // normalized values) is refused rather than normalized twice.
    let dir = tempfile::tempdir().unwrap();
    tr.save(dir.path()).unwrap();
    let path = dir.path().join("trainer.json");
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    json.as_object_mut().unwrap().remove("raw_obs");
    std::fs::write(&path, json.to_string()).unwrap();
    let (_, mut fresh) = run(4, 0, ActionSpec::Continuous { dim: 1 });
    let err = fresh.load(dir.path()).unwrap_err();
    assert!(
        matches!(&err, AcerError::Agent(rl_nn::AgentError::Checkpoint(m)) if m.contains("unnormalized")),
        "{err}"
    );
}

/// Every switch the paper ablates runs: no trust region, no bias correction, c = ∞, δ, on-policy
/// only (replay ratio 0), and the entropy added after the projection.
#[test]
fn every_ablation_runs() {
    let ablations = [
        AcerConfig {
            trust_region: false,
            ..AcerConfig::default()
        },
        AcerConfig {
            bias_correction: false,
            ..AcerConfig::default()
        },
        AcerConfig {
            correction_term: f64::INFINITY,
            ..AcerConfig::default()
        },
        AcerConfig {
            delta: 0.1,
            ..AcerConfig::default()
        },
        AcerConfig {
            replay_ratio: 0.0,
            ..AcerConfig::default()
        },
        AcerConfig {
            entropy_in_trust_region: false,
            ..AcerConfig::default()
        },
    ];
    for base in ablations {
        for (env, obs_dim, action) in [
            ("CartPole-v1", 4, ActionSpec::Discrete { n: 2 }),
            ("Pendulum-v1", 3, ActionSpec::Continuous { dim: 1 }),
        ] {
            let config = AcerConfig {
                n_envs: 2,
                replay_start: 0,
                ..base.clone()
            };
            let replay = config.replay_ratio > 0.0;
            let mut tr = trainer(env, obs_dim, action, config, 0);
            let mut replayed = 0;
            for _ in 0..10 {
                let report = tr.step().unwrap();
                replayed += report.updates.len() - 1;
                for m in &report.updates {
                    assert!(m.q_loss.is_finite() && m.policy_loss.is_finite(), "{m:?}");
                }
            }
            assert_eq!(replayed > 0, replay, "{base:?}");
        }
    }
}

/// `shared_body = false` and `ortho_init = true` build Stable-Baselines 2's `MlpPolicy` for
/// ACER: two networks of `net_arch` (policy, and `Q` on the value tower), hidden layers
/// orthogonal with gain √2 (`WᵀW = 2I` for a tall matrix), both heads with gain 0.01 (`WWᵀ =
/// 10⁻⁴ I`), zero biases; the paper's default keeps one body. A checkpoint of one layout is refused
/// by the other, and `ortho_init` is refused for continuous actions.
#[test]
fn sb2s_separate_orthogonal_networks_and_the_papers_shared_body() {
    use rl_acer::networks::{DiscreteLayout, DiscreteNet};
    use rl_nn::{Activation, ParamStore};
    let build = |shared_body: bool, ortho_init: bool| {
        let mut store = ParamStore::new(&Device::Cpu, candle_core::DType::F64);
        let mut rng = rl_math::SeededRng::new(0);
        let layout = DiscreteLayout {
            shared_body,
            ortho_init,
        };
        let net = DiscreteNet::new(
            &mut store,
            8,
            4,
            &[64, 64],
            Activation::Tanh,
            layout,
            &mut rng,
        )
        .unwrap();
        (store, net)
    };
    let names = |store: &ParamStore| -> Vec<String> {
        store.params().iter().map(|(n, _)| n.clone()).collect()
    };
    let (store, net) = build(false, true);
    assert!(net.body.is_none());
    let expected: Vec<String> = ["pi", "q"]
        .iter()
        .flat_map(|h| {
            (0..3).flat_map(move |i| [format!("{h}.{i}.weight"), format!("{h}.{i}.bias")])
        })
        .collect();
    let mut got = names(&store);
    got.sort();
    let mut want = expected.clone();
    want.sort();
    assert_eq!(got, want);
    let w = |name: &str| store.get(name).unwrap().as_tensor().clone();
    let gram = |m: &Tensor| m.matmul(&m.t().unwrap()).unwrap();
    let eye = |n: usize, scale: f64| {
        (Tensor::eye(n, candle_core::DType::F64, &Device::Cpu).unwrap() * scale).unwrap()
    };
    let max_abs = |a: &Tensor, b: &Tensor| -> f64 {
        (a - b)
            .unwrap()
            .abs()
            .unwrap()
            .max_all()
            .unwrap()
            .to_scalar()
            .unwrap()
    };
    for head in ["pi", "q"] {
        // [64, 8]: orthonormal columns, times √2.
        let first = w(&format!("{head}.0.weight"));
        assert!(max_abs(&first.t().unwrap().matmul(&first).unwrap(), &eye(8, 2.0)) < 1e-9);
        // [4, 64]: orthonormal rows, times 0.01.
        assert!(max_abs(&gram(&w(&format!("{head}.2.weight"))), &eye(4, 1e-4)) < 1e-12);
        let bias = w(&format!("{head}.0.bias"));
        assert_eq!(
            bias.abs()
                .unwrap()
                .max_all()
                .unwrap()
                .to_scalar::<f64>()
                .unwrap(),
            0.0
        );
    }
    let (store, net) = build(true, false);
    assert!(net.body.is_some());
    assert!(names(&store).iter().any(|n| n == "body.1.weight"));
    assert!(names(&store).iter().all(|n| !n.starts_with("pi.1")));
    // The average network and checkpoints bind by name: the layout comes with the store.
    assert!(
        DiscreteNet::bind(&build(false, false).0, Activation::Tanh)
            .unwrap()
            .body
            .is_none()
    );

    let sb2 = AcerConfig {
        n_envs: 2,
        shared_body: false,
        ortho_init: true,
        ..AcerConfig::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let shared = trainer(
        "CartPole-v1",
        4,
        ActionSpec::Discrete { n: 2 },
        AcerConfig {
            n_envs: 2,
            ..AcerConfig::default()
        },
        0,
    );
    shared.save(dir.path()).unwrap();
    let mut separate = trainer(
        "CartPole-v1",
        4,
        ActionSpec::Discrete { n: 2 },
        sb2.clone(),
        0,
    );
    assert!(separate.load(dir.path()).is_err());
    let err = Acer::new(sb2, 3, ActionSpec::Continuous { dim: 1 }, &Device::Cpu, 0).unwrap_err();
    assert!(err.to_string().contains("ortho_init"), "{err}");
}

#[test]
fn bad_configs_and_checkpoints_are_named() {
    let err = AcerConfig::from_toml("[acer]\ndelta = -1.0\n").unwrap_err();
    assert!(err.to_string().contains("delta"), "{err}");
    let err = AcerConfig::from_toml("[acer]\nreplay_ration = 2.0\n").unwrap_err();
    assert!(err.to_string().contains("replay_ration"), "{err}");
    let err = AcerConfig::from_toml("[acer]\nn_steps = \"20\"\n").unwrap_err();
    assert!(
        err.to_string().contains("n_steps") || err.to_string().contains("integer"),
        "{err}"
    );
    for name in rl_acer::presets::PRESETS.names() {
        AcerConfig::preset(name).unwrap();
    }
    assert!(AcerConfig::preset("Nope-v0").is_err());

    // A checkpoint for another network is refused, and the agent is left as it was.
    let dir = tempfile::tempdir().unwrap();
    let (_, tr) = run(0, 2, ActionSpec::Discrete { n: 2 });
    tr.save(dir.path()).unwrap();
    let config = AcerConfig {
        n_envs: 4,
        n_steps: 10,
        net_arch: vec![8],
        ..AcerConfig::default()
    };
    let mut other = trainer("CartPole-v1", 4, ActionSpec::Discrete { n: 2 }, config, 0);
    let err = other.load(dir.path()).unwrap_err();
    // The agent's own state refuses it (rl-nn's shared check), naming both shapes.
    assert!(
        matches!(&err, AcerError::Agent(rl_nn::AgentError::Nn(rl_nn::NnError::NotResumable(m))) if m.contains("[64, 64]")),
        "{err}"
    );
    // A corrupt replay file is named as such.
    std::fs::write(
        dir.path().join("replay.safetensors"),
        b"not a safetensors file",
    )
    .unwrap();
    let (_, mut same) = run(0, 0, ActionSpec::Discrete { n: 2 });
    let err = same.load(dir.path()).unwrap_err().to_string();
    assert!(err.contains("replay.safetensors"), "{err}");
    // An env that does not match the agent is refused.
    let agent = Acer::new(
        AcerConfig::default(),
        3,
        ActionSpec::Discrete { n: 2 },
        &Device::Cpu,
        0,
    )
    .unwrap();
    let err = AcerTrainer::with_factory(agent, || rl_envs::make("CartPole-v1"), 0).unwrap_err();
    assert!(err.to_string().contains("CartPole-v1"), "{err}");
}

/// SB2's default `lr_schedule = "linear"`: each rollout's updates use `lr · (1 − t / total)` with
/// `t` the steps before the rollout; `"constant"` keeps `lr`, and so does a trainer never told its
/// total.
#[test]
fn the_learning_rate_falls_linearly_to_zero_over_the_run() {
    let config = AcerConfig {
        n_envs: 2,
        n_steps: 5,
        replay_ratio: 0.0,
        net_arch: vec![8],
        ..AcerConfig::default()
    };
    let lr = config.learning_rate;
    let mut tr = trainer(
        "CartPole-v1",
        4,
        ActionSpec::Discrete { n: 2 },
        config.clone(),
        0,
    );
    tr.set_total_timesteps(100);
    for k in 0..10u32 {
        tr.step().unwrap();
        let expected = lr * (1.0 - f64::from(k) * 10.0 / 100.0);
        assert!(
            (tr.agent().learning_rate() - expected).abs() < 1e-15,
            "rollout {k}"
        );
    }
    // Past the total: 0, not negative.
    tr.step().unwrap();
    assert_eq!(tr.agent().learning_rate(), 0.0);

    let constant = AcerConfig {
        lr_schedule: rl_acer::LrSchedule::Constant,
        ..config.clone()
    };
    let mut tr = trainer("CartPole-v1", 4, ActionSpec::Discrete { n: 2 }, constant, 0);
    tr.set_total_timesteps(100);
    for _ in 0..5 {
        tr.step().unwrap();
        assert_eq!(tr.agent().learning_rate(), lr);
    }
    let mut untold = trainer("CartPole-v1", 4, ActionSpec::Discrete { n: 2 }, config, 0);
    untold.step().unwrap();
    assert_eq!(untold.agent().learning_rate(), lr);
    let err = AcerConfig::from_toml("[acer]\nlr_schedule = \"cosine\"").unwrap_err();
    assert!(err.to_string().contains("lr_schedule"), "{err}");
}
