//! PPO: the loss terms by hand, gradients against autograd, minibatch orders, the KL early stop,
//! the schedules, the probes solved, bit-identical reruns and exact resume.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

use candle_core::{D, Device, Tensor};
use rl_buffer::{ActionSpec, RolloutBatch};
use rl_envs::probe::{Probe, ProbeEnv};
use rl_math::distributions::{Categorical, DiagGaussian, Gsde};
use rl_ppo::losses::{
    approx_kl, clip_fraction, clipped_surrogate_loss, entropy_loss, normalize_advantages, ratio,
    total_loss, value_loss,
};
use rl_ppo::{LrSchedule, Ppo, PpoConfig, PpoMetrics, PpoTrainer};

fn t(v: &[f64]) -> Tensor {
    Tensor::new(v, &Device::Cpu).unwrap()
}

fn value(x: &Tensor) -> f64 {
    x.to_scalar::<f64>().unwrap()
}

#[test]
fn loss_terms_by_hand() {
    // Ratios 0.5, 1.0, 1.5 with ε = 0.2: clipped to 0.8, 1.0, 1.2.
    let r = t(&[0.5, 1.0, 1.5]);
    // A = +1 everywhere: min(r, clip(r)) = 0.5, 1.0, 1.2 → −mean = −2.7 / 3.
    let l = clipped_surrogate_loss(&r, &t(&[1.0, 1.0, 1.0]), 0.2).unwrap();
    assert!((value(&l) + 2.7 / 3.0).abs() < 1e-12);
    // A = −1 everywhere: min(−r, −clip(r)) = −0.8, −1.0, −1.5 → 3.3 / 3 (the pessimistic bound).
    let l = clipped_surrogate_loss(&r, &t(&[-1.0, -1.0, -1.0]), 0.2).unwrap();
    assert!((value(&l) - 3.3 / 3.0).abs() < 1e-12);
    // r = exp(log π − log π_old).
    let r = ratio(&t(&[0.0, 2f64.ln()]), &t(&[0.0, 0.0])).unwrap();
    assert!((r.to_vec1::<f64>().unwrap()[1] - 2.0).abs() < 1e-12);
    assert!((clip_fraction(&t(&[0.5, 1.0, 1.1, 1.5]), 0.2).unwrap() - 0.5).abs() < 1e-12);
    // Value error, unclipped: mean((R − V)²) = mean(1, 4) = 2.5.
    let (v, old, ret) = (t(&[1.0, 0.0]), t(&[0.0, 0.0]), t(&[2.0, 2.0]));
    assert_eq!(value(&value_loss(&v, &old, &ret, None).unwrap()), 2.5);
    // Clipped to ±0.5 around V_old = 0: predictions 0.5 and 0 → mean(2.25, 4).
    assert_eq!(
        value(&value_loss(&v, &old, &ret, Some(0.5)).unwrap()),
        3.125
    );
    assert_eq!(value(&entropy_loss(&t(&[0.5, 1.5])).unwrap()), -1.0);
    let total = total_loss(
        &t(&[1.0]).squeeze(0).unwrap(),
        &t(&[-1.0]).squeeze(0).unwrap(),
        &t(&[2.0]).squeeze(0).unwrap(),
        0.01,
        0.5,
    )
    .unwrap();
    assert!((value(&total) - (1.0 - 0.01 + 1.0)).abs() < 1e-12);
    // k3 = mean((r − 1) − log r): 0 at r = 1; at r = 2, 1 − ln 2.
    assert_eq!(approx_kl(&t(&[0.0])).unwrap(), 0.0);
    assert!((approx_kl(&t(&[2f64.ln()])).unwrap() - (1.0 - 2f64.ln())).abs() < 1e-12);
    // Normalized advantages: mean 0, (Bessel) std 1.
    let n: Vec<f64> = normalize_advantages(&t(&[1.0, 2.0, 3.0]))
        .unwrap()
        .to_vec1()
        .unwrap();
    assert!((n[0] + 1.0).abs() < 1e-7 && n[1].abs() < 1e-12 && (n[2] - 1.0).abs() < 1e-7);
}

/// A random batch of `rows` for `agent` (old log-probabilities and values off the current ones,
/// so that some ratios and values are clipped).
fn random_batch(agent: &Ppo, rows: usize, seed: u64) -> RolloutBatch {
    let mut rng = rl_math::SeededRng::new(seed);
    let dev = Device::Cpu;
    let obs = Tensor::from_vec(
        rng.normal_vec(rows * agent.obs_dim()),
        (rows, agent.obs_dim()),
        &dev,
    )
    .unwrap();
    let actions = match agent.action_spec() {
        ActionSpec::Discrete { n } => Tensor::from_vec(
            (0..rows).map(|i| (i % n) as u32).collect::<Vec<_>>(),
            rows,
            &dev,
        )
        .unwrap(),
        ActionSpec::Continuous { dim } => {
            Tensor::from_vec(rng.normal_vec(rows * dim), (rows, dim), &dev).unwrap()
        }
    };
    let vec = |rng: &mut rl_math::SeededRng, scale: f64| {
        let v: Vec<f32> = rng
            .normal_vec(rows)
            .iter()
            .map(|x| x * scale as f32)
            .collect();
        Tensor::from_vec(v, rows, &dev).unwrap()
    };
    let acted_log_probs = {
        // log π of the batch's actions under the current policy, then moved by noise.
        let pi = agent.policy_net().forward(&obs).unwrap();
        let lp = match agent.action_spec() {
            ActionSpec::Discrete { .. } => Categorical::from_logits(&pi)
                .unwrap()
                .log_prob(&actions)
                .unwrap(),
            ActionSpec::Continuous { .. } => {
                let log_std = agent.params().get("log_std").unwrap().as_tensor().clone();
                let log_std = if agent.config().use_sde {
                    let (_, trace) = agent.policy_net().forward_traced(&obs).unwrap();
                    Gsde::log_std(trace.last_features().unwrap(), &log_std).unwrap()
                } else {
                    log_std
                };
                DiagGaussian::new(&pi, &log_std)
                    .unwrap()
                    .log_prob(&actions)
                    .unwrap()
            }
        };
        (lp + vec(&mut rng, 0.3)).unwrap()
    };
    RolloutBatch {
        obs,
        actions,
        values: vec(&mut rng, 1.0),
        log_probs: acted_log_probs,
        advantages: vec(&mut rng, 1.0),
        returns: vec(&mut rng, 1.5),
    }
}

#[test]
fn gradients_equal_autograd_for_every_policy() {
    for (action, use_sde, clip_range_vf) in [
        (ActionSpec::Discrete { n: 3 }, false, None),
        (ActionSpec::Continuous { dim: 2 }, false, Some(0.2)),
        (ActionSpec::Continuous { dim: 2 }, true, None),
    ] {
        let config = PpoConfig {
            ent_coef: 0.01,
            net_arch: vec![16, 8],
            use_sde,
            clip_range_vf,
            log_std_init: -0.5,
            ..PpoConfig::default()
        };
        let agent = Ppo::new(config, 4, action, &Device::Cpu, 3).unwrap();
        let batch = random_batch(&agent, 32, 5);
        let (grads, m) = agent.gradients(&batch, 0.2).unwrap();
        assert!(m.clip_fraction > 0.0, "{action:?}: no ratio clipped");

        // The same loss through candle's autograd end to end.
        let out = agent.policy_net().forward(&batch.obs).unwrap();
        let v = agent
            .value_net()
            .forward(&batch.obs)
            .unwrap()
            .squeeze(D::Minus1)
            .unwrap();
        let (log_prob, entropy) = match action {
            ActionSpec::Discrete { .. } => {
                let pi = Categorical::from_logits(&out).unwrap();
                (pi.log_prob(&batch.actions).unwrap(), pi.entropy().unwrap())
            }
            ActionSpec::Continuous { .. } => {
                let log_std = agent.params().get("log_std").unwrap();
                let log_std = if use_sde {
                    // The features enter detached, so taking them without autograd is exact.
                    let (_, trace) = agent.policy_net().forward_traced(&batch.obs).unwrap();
                    Gsde::log_std(trace.last_features().unwrap(), log_std.as_tensor()).unwrap()
                } else {
                    log_std.as_tensor().clone()
                };
                let pi = DiagGaussian::new(&out, &log_std).unwrap();
                (pi.log_prob(&batch.actions).unwrap(), pi.entropy().unwrap())
            }
        };
        let r = ratio(&log_prob, &batch.log_probs).unwrap();
        let loss = total_loss(
            &clipped_surrogate_loss(&r, &normalize_advantages(&batch.advantages).unwrap(), 0.2)
                .unwrap(),
            &entropy_loss(&entropy).unwrap(),
            &value_loss(&v, &batch.values, &batch.returns, clip_range_vf).unwrap(),
            0.01,
            0.5,
        )
        .unwrap();
        let auto = loss.backward().unwrap();
        for ((name, var), g) in agent.params().params().iter().zip(&grads) {
            let a: Vec<f32> = g
                .as_ref()
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1()
                .unwrap();
            let b: Vec<f32> = auto
                .get(var)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1()
                .unwrap();
            let scale = b.iter().map(|x| x.abs()).fold(1e-6f32, f32::max);
            for (x, y) in a.iter().zip(&b) {
                assert!(
                    (x - y).abs() <= 1e-4 * scale,
                    "{action:?} (gSDE {use_sde}) {name}: {x} vs {y}"
                );
            }
        }
    }
}

#[test]
fn epochs_take_every_minibatch_and_orders_must_be_permutations() {
    let config = PpoConfig {
        n_epochs: 3,
        batch_size: 8,
        net_arch: vec![8],
        ..PpoConfig::default()
    };
    let mut agent = Ppo::new(config, 4, ActionSpec::Discrete { n: 2 }, &Device::Cpu, 0).unwrap();
    let batch = random_batch(&agent, 20, 1);
    // 20 rows in minibatches of 8: 8, 8, 4 → 3 steps per epoch.
    let m = agent.update(&batch, 0.2).unwrap();
    assert_eq!((m.epochs, m.gradient_steps, m.stopped_early), (3, 9, false));
    assert_eq!(agent.updates(), 3);
    for bad in [
        vec![0; 20],
        (0..19).collect(),
        (1..21).collect::<Vec<usize>>(),
    ] {
        let err = agent.update_in_order(&batch, 0.2, &[bad]).unwrap_err();
        assert!(
            err.to_string().contains("permutation of the 20 rows"),
            "{err}"
        );
    }
    // The same order twice from the same start is the same update.
    let order: Vec<usize> = (0..20).rev().collect();
    let fresh = || {
        Ppo::new(
            agent.config().clone(),
            4,
            ActionSpec::Discrete { n: 2 },
            &Device::Cpu,
            0,
        )
        .unwrap()
    };
    let (mut a, mut b) = (fresh(), fresh());
    assert_eq!(
        a.update_in_order(&batch, 0.2, std::slice::from_ref(&order))
            .unwrap(),
        b.update_in_order(&batch, 0.2, &[order]).unwrap()
    );
}

#[test]
fn target_kl_stops_the_update_before_the_step_that_would_exceed_it() {
    let config = PpoConfig {
        n_epochs: 10,
        batch_size: 8,
        learning_rate: 0.05,
        net_arch: vec![8],
        target_kl: Some(1e-3),
        ..PpoConfig::default()
    };
    let mut agent = Ppo::new(config, 4, ActionSpec::Discrete { n: 2 }, &Device::Cpu, 0).unwrap();
    let mut batch = random_batch(&agent, 32, 2);
    // The collecting policy is the current one: the first minibatch's KL is 0, so at least one
    // step is taken; the large rate then moves the policy past 1.5 × target_kl.
    let (_, m) = agent.gradients(&batch, 0.2).unwrap();
    assert!(m.approx_kl.is_finite());
    batch.log_probs = {
        let out = agent.policy_net().forward(&batch.obs).unwrap();
        Categorical::from_logits(&out)
            .unwrap()
            .log_prob(&batch.actions)
            .unwrap()
    };
    let before: Vec<f32> = agent
        .params()
        .get("pi.0.weight")
        .unwrap()
        .as_tensor()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap();
    let m: PpoMetrics = agent.update(&batch, 0.2).unwrap();
    assert!(m.stopped_early, "{m:?}");
    assert!(m.gradient_steps >= 1 && m.gradient_steps < 40, "{m:?}");
    assert!(m.approx_kl > 0.0);
    assert_eq!(agent.updates(), m.epochs as u64);
    let after: Vec<f32> = agent
        .params()
        .get("pi.0.weight")
        .unwrap()
        .as_tensor()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap();
    assert_ne!(before, after);
}

fn trainer(env: &str, action: ActionSpec, config: PpoConfig, seed: u64) -> PpoTrainer {
    let agent = Ppo::new(config, 1, action, &Device::Cpu, seed).unwrap();
    PpoTrainer::with_factory(agent, || rl_envs::make(env), seed).unwrap()
}

#[test]
fn ppo_solves_every_probe() {
    for continuous in [false, true] {
        for probe in Probe::ALL {
            // The discounting probe at γ = 0.5, where V(0) = γ tells the discount apart.
            let gamma = if probe == Probe::DiscountedTwoStep {
                0.5
            } else {
                0.99
            };
            let reference = ProbeEnv::new(probe, continuous);
            let action = if continuous {
                ActionSpec::Continuous { dim: 1 }
            } else {
                ActionSpec::Discrete { n: 2 }
            };
            let config = PpoConfig {
                n_envs: 4,
                n_steps: 32,
                batch_size: 32,
                n_epochs: 4,
                learning_rate: 3e-3,
                gamma,
                gae_lambda: 1.0,
                ..PpoConfig::default()
            };
            let mut tr = trainer(probe.id(continuous), action, config, 0);
            for _ in 0..60 {
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
                let v = agent.values(&x).unwrap()[0];
                let want = reference.expected_value(&[s], gamma);
                // A stochastic Gaussian policy earns less than the deterministic optimum on the
                // continuous action probes; its value is checked through the action instead.
                if !(continuous
                    && matches!(probe, Probe::ActionReward | Probe::ObservationActionReward))
                {
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
                        (acted.actions[0] - best[0]).abs() < 0.2,
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

fn metrics(
    config: &PpoConfig,
    env: &str,
    seed: u64,
    rollouts: usize,
) -> (Vec<PpoMetrics>, PpoTrainer) {
    let (obs, action) = match env {
        "Pendulum-v1" => (3, ActionSpec::Continuous { dim: 1 }),
        _ => (4, ActionSpec::Discrete { n: 2 }),
    };
    let agent = Ppo::new(config.clone(), obs, action, &Device::Cpu, seed).unwrap();
    let venv = rl_envs::SyncVectorEnv::make(env, config.n_envs).unwrap();
    let mut tr = PpoTrainer::new(agent, venv, seed).unwrap();
    tr.set_total_timesteps(20_000);
    (
        (0..rollouts).map(|_| tr.step().unwrap().metrics).collect(),
        tr,
    )
}

fn small(use_sde: bool) -> PpoConfig {
    PpoConfig {
        n_envs: 4,
        n_steps: 32,
        batch_size: 32,
        n_epochs: 2,
        normalize_obs: true,
        normalize_reward: true,
        use_sde,
        sde_sample_freq: if use_sde { 4 } else { -1 },
        lr_schedule: LrSchedule::Linear,
        clip_range_schedule: LrSchedule::Linear,
        ..PpoConfig::default()
    }
}

#[test]
fn the_same_seed_gives_bit_identical_metrics() {
    for (env, sde) in [("CartPole-v1", false), ("Pendulum-v1", true)] {
        let (a, _) = metrics(&small(sde), env, 1, 20);
        let (b, _) = metrics(&small(sde), env, 1, 20);
        let (c, _) = metrics(&small(sde), env, 2, 20);
        assert_eq!(a, b, "{env}");
        assert_ne!(a, c, "{env}");
    }
}

#[test]
fn a_resumed_trainer_continues_bit_for_bit() {
    for (env, sde) in [("CartPole-v1", false), ("Pendulum-v1", true)] {
        let dir = tempfile::tempdir().unwrap();
        let (_, mut straight) = metrics(&small(sde), env, 3, 15);
        let (_, first) = metrics(&small(sde), env, 3, 15);
        first.save(dir.path()).unwrap();
        let (_, mut resumed) = metrics(&small(sde), env, 9, 0);
        assert!(resumed.load(dir.path()).unwrap());
        for _ in 0..15 {
            assert_eq!(straight.step().unwrap(), resumed.step().unwrap(), "{env}");
        }
    }
}

#[test]
fn a_checkpoint_for_another_configuration_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (_, tr) = metrics(&small(false), "CartPole-v1", 3, 1);
    tr.save(dir.path()).unwrap();
    let other = PpoConfig {
        clip_range: 0.1,
        ..small(false)
    };
    let (_, mut resumed) = metrics(&other, "CartPole-v1", 3, 0);
    let err = resumed.load(dir.path()).unwrap_err().to_string();
    assert!(err.contains("clip_range"), "{err}");
}

#[test]
fn linear_schedules_fall_with_the_steps_taken() {
    // 20 000 steps in the run, 128 per rollout: after rollout k, ε = 0.2 · (1 − 128 k / 20 000).
    let (m, tr) = metrics(&small(false), "CartPole-v1", 4, 5);
    for (k, m) in m.iter().enumerate() {
        let want = 0.2 * (1.0 - 128.0 * (k + 1) as f64 / 20_000.0);
        assert!(
            (m.clip_range - want).abs() < 1e-12,
            "{} vs {want}",
            m.clip_range
        );
    }
    let lr = tr.agent().learning_rate();
    assert!((lr - 3e-4 * (1.0 - 640.0 / 20_000.0)).abs() < 1e-12, "{lr}");
}

#[test]
fn bad_configurations_are_refused_with_their_key() {
    for (text, key) in [
        ("[ppo]\nbatch_size = 0\n", "batch_size"),
        ("[ppo]\nclip_range = -0.2\n", "clip_range"),
        ("[ppo]\ntarget_kl = 0.0\n", "target_kl"),
        ("[ppo]\nclip_range_vf = nan\n", "clip_range_vf"),
        ("[ppo]\nn_epoch = 3\n", "n_epoch"),
        ("[ppo]\nsde_sample_freq = 0\n", "sde_sample_freq"),
    ] {
        let err = PpoConfig::from_toml(text).unwrap_err().to_string();
        assert!(
            err.starts_with("PPO config: ") && err.contains(key),
            "{text}: {err}"
        );
    }
    let err = Ppo::new(
        PpoConfig {
            use_sde: true,
            ..PpoConfig::default()
        },
        4,
        ActionSpec::Discrete { n: 2 },
        &Device::Cpu,
        0,
    )
    .unwrap_err();
    assert!(err.to_string().contains("continuous actions"), "{err}");
}

#[test]
fn every_preset_parses() {
    for name in rl_ppo::presets::PRESETS.names() {
        PpoConfig::preset(name).unwrap();
    }
    let c = PpoConfig::preset("CartPole-v1").unwrap();
    assert_eq!(
        (c.n_envs, c.n_steps, c.batch_size, c.n_epochs),
        (8, 32, 256, 20)
    );
    assert_eq!(c.lr_schedule, LrSchedule::Linear);
}
