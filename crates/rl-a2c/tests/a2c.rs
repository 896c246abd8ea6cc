//! A2C: the loss terms by hand, gradients against autograd, the probes solved, one-step TD
//! actor-critic advantages, bit-identical reruns and exact resume, every preset parsed.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

use candle_core::{D, Device, Tensor};
use rl_a2c::losses::{entropy_loss, policy_loss, total_loss, value_loss};
use rl_a2c::{A2c, A2cConfig, A2cError, A2cMetrics, A2cTrainer, LrSchedule};
use rl_buffer::{ActionSpec, RolloutBuffer, RolloutStep};
use rl_envs::probe::{Probe, ProbeEnv};
use rl_math::distributions::Gsde;

fn t(v: &[f32]) -> Tensor {
    Tensor::new(v, &Device::Cpu).unwrap()
}

fn value(x: &Tensor) -> f64 {
    f64::from(x.to_scalar::<f32>().unwrap())
}

#[test]
fn loss_terms_by_hand() {
    // −mean([−1, −2] · [2, −1]) = −mean(−2, 2) = 0; then with advantages [1, 1]: 1.5.
    assert_eq!(
        value(&policy_loss(&t(&[-1.0, -2.0]), &t(&[2.0, -1.0])).unwrap()),
        0.0
    );
    assert_eq!(
        value(&policy_loss(&t(&[-1.0, -2.0]), &t(&[1.0, 1.0])).unwrap()),
        1.5
    );
    // mean((R − V)²) = mean(1, 4) = 2.5.
    assert_eq!(
        value(&value_loss(&t(&[1.0, 0.0]), &t(&[2.0, 2.0])).unwrap()),
        2.5
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
    assert!((value(&total) - (1.0 - 0.01 + 1.0)).abs() < 1e-6);
}

/// A rollout batch from random data, for gradient checks.
fn random_batch(agent: &A2c, rows: usize) -> rl_buffer::RolloutBatch {
    let mut rng = rl_math::SeededRng::new(5);
    let n = rows;
    let mut buf = RolloutBuffer::new(1, n, agent.obs_dim(), agent.action_spec()).unwrap();
    let obs = rng.normal_vec(n * agent.obs_dim());
    let actions: Vec<f32> = match agent.action_spec() {
        ActionSpec::Discrete { n: k } => (0..n).map(|i| (i % k) as f32).collect(),
        ActionSpec::Continuous { dim } => rng.normal_vec(n * dim),
    };
    let rewards: Vec<f64> = rng.normal_vec(n).iter().map(|&x| f64::from(x)).collect();
    let values: Vec<f64> = rng.normal_vec(n).iter().map(|&x| f64::from(x)).collect();
    buf.push(RolloutStep {
        obs: &obs,
        actions: &actions,
        rewards: &rewards,
        values: &values,
        log_probs: &vec![0.0; n],
        terminated: &vec![false; n],
        truncated: &vec![false; n],
        final_values: &vec![0.0; n],
    })
    .unwrap();
    buf.compute_returns_and_advantages(&vec![0.5; n], 0.99, 1.0)
        .unwrap();
    buf.batch(&Device::Cpu).unwrap()
}

/// The hand-written backward passes with autograd's small-tensor part equal candle's autograd
/// through the whole graph: categorical, Gaussian, and Gaussian with gSDE (whose σ depends on
/// the state through the detached last hidden features).
#[test]
fn gradients_equal_autograd_for_every_policy() {
    for (action, use_sde) in [
        (ActionSpec::Discrete { n: 3 }, false),
        (ActionSpec::Continuous { dim: 2 }, false),
        (ActionSpec::Continuous { dim: 2 }, true),
    ] {
        let config = A2cConfig {
            ent_coef: 0.01,
            net_arch: vec![16, 8],
            use_sde,
            log_std_init: -0.5,
            ..A2cConfig::default()
        };
        let agent = A2c::new(config, 4, action, &Device::Cpu, 3).unwrap();
        let batch = random_batch(&agent, 32);
        let (grads, _) = agent.gradients(&batch).unwrap();

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
                let pi = rl_math::distributions::Categorical::from_logits(&out).unwrap();
                (pi.log_prob(&batch.actions).unwrap(), pi.entropy().unwrap())
            }
            ActionSpec::Continuous { .. } => {
                let log_std = agent.params().get("log_std").unwrap();
                let log_std = if use_sde {
                    // The features enter detached, so taking them without autograd is exact.
                    let (_, trace) = agent.policy_net().forward_traced(&batch.obs).unwrap();
                    let features = trace.last_features().unwrap();
                    assert_eq!(features.dims(), [32, 8]);
                    assert_eq!(log_std.as_tensor().dims(), [8, 2]);
                    Gsde::log_std(features, log_std.as_tensor()).unwrap()
                } else {
                    log_std.as_tensor().clone()
                };
                let pi = rl_math::distributions::DiagGaussian::new(&out, &log_std).unwrap();
                (pi.log_prob(&batch.actions).unwrap(), pi.entropy().unwrap())
            }
        };
        let loss = total_loss(
            &policy_loss(&log_prob, &batch.advantages).unwrap(),
            &entropy_loss(&entropy).unwrap(),
            &value_loss(&v, &batch.returns).unwrap(),
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
fn one_step_td_actor_critic_advantages_are_td_errors() {
    let mut buf = RolloutBuffer::new(1, 2, 1, ActionSpec::Discrete { n: 2 }).unwrap();
    buf.push(RolloutStep {
        obs: &[0.0, 0.0],
        actions: &[0.0, 1.0],
        rewards: &[1.0, 1.0],
        values: &[0.5, 0.5],
        log_probs: &[0.0, 0.0],
        terminated: &[false, true],
        truncated: &[false, false],
        final_values: &[0.0, 0.0],
    })
    .unwrap();
    buf.compute_returns_and_advantages(&[2.0, 9.0], 0.9, 1.0)
        .unwrap();
    // δ = r + γ V(s') − V(s); no bootstrap after termination.
    assert_eq!(buf.advantages(), [1.0 + 0.9 * 2.0 - 0.5, 1.0 - 0.5]);
}

fn trainer(env: &str, action: ActionSpec, config: A2cConfig, seed: u64) -> A2cTrainer {
    let agent = A2c::new(config, 1, action, &Device::Cpu, seed).unwrap();
    A2cTrainer::with_factory(agent, || rl_envs::make(env), seed).unwrap()
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

#[test]
fn a2c_solves_every_probe() {
    for continuous in [false, true] {
        for probe in Probe::ALL {
            let gamma = probe_gamma(probe, A2cConfig::default().gamma);
            let reference = ProbeEnv::new(probe, continuous);
            let action = if continuous {
                ActionSpec::Continuous { dim: 1 }
            } else {
                ActionSpec::Discrete { n: 2 }
            };
            let config = A2cConfig {
                n_envs: 8,
                learning_rate: 3e-3,
                gamma,
                ..A2cConfig::default()
            };
            let mut tr = trainer(probe.id(continuous), action, config, 0);
            for _ in 0..400 {
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
                    Some(rl_envs::OwnedAction::Continuous(best)) => {
                        assert!(
                            (acted.actions[0] - best[0]).abs() < 0.15,
                            "{probe:?} s={s}: {} vs {}",
                            acted.actions[0],
                            best[0]
                        )
                    }
                    None => {}
                }
            }
        }
    }
}

fn metrics(seed: u64, rollouts: usize) -> (Vec<A2cMetrics>, A2cTrainer) {
    let config = A2cConfig {
        n_envs: 4,
        normalize_obs: true,
        normalize_reward: true,
        ..A2cConfig::default()
    };
    let agent = A2c::new(config, 4, ActionSpec::Discrete { n: 2 }, &Device::Cpu, seed).unwrap();
    let venv = rl_envs::SyncVectorEnv::make("CartPole-v1", 4).unwrap();
    let mut tr = A2cTrainer::new(agent, venv, seed).unwrap();
    (
        (0..rollouts).map(|_| tr.step().unwrap().metrics).collect(),
        tr,
    )
}

#[test]
fn the_same_seed_gives_bit_identical_metrics() {
    let (a, _) = metrics(1, 60);
    let (b, _) = metrics(1, 60);
    let (c, _) = metrics(2, 60);
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn a_resumed_trainer_continues_bit_for_bit() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut straight) = metrics(3, 40);
    let (_, first) = metrics(3, 40);
    first.save(dir.path()).unwrap();
    let (_, mut resumed) = metrics(9, 0);
    resumed.load(dir.path()).unwrap();
    for _ in 0..40 {
        assert_eq!(straight.step().unwrap(), resumed.step().unwrap());
    }
}

/// rl-baselines3-zoo's `lin_<lr>`: each update uses `lr · (1 − t / total)` with `t` the steps
/// taken so far, this rollout's included (SB3 updates the rate after collecting); `"constant"`
/// (SB3's default) keeps `lr`, and so does a trainer never told its total.
#[test]
fn a_linear_learning_rate_falls_to_zero_over_the_run() {
    let config = A2cConfig {
        n_envs: 2,
        n_steps: 5,
        net_arch: vec![8],
        lr_schedule: LrSchedule::Linear,
        ..A2cConfig::default()
    };
    let cartpole = |config: A2cConfig, seed: u64| {
        let agent = A2c::new(config, 4, ActionSpec::Discrete { n: 2 }, &Device::Cpu, seed).unwrap();
        A2cTrainer::with_factory(agent, || rl_envs::make("CartPole-v1"), seed).unwrap()
    };
    let lr = config.learning_rate;
    let mut tr = cartpole(config.clone(), 0);
    tr.set_total_timesteps(100);
    for k in 1..=10u32 {
        tr.step().unwrap();
        let expected = lr * (1.0 - f64::from(k) * 10.0 / 100.0);
        assert!(
            (tr.agent().learning_rate() - expected).abs() < 1e-15,
            "rollout {k}: {} vs {expected}",
            tr.agent().learning_rate()
        );
    }
    // Past the total: 0, not negative.
    tr.step().unwrap();
    assert_eq!(tr.agent().learning_rate(), 0.0);

    let constant = A2cConfig {
        lr_schedule: LrSchedule::Constant,
        ..config.clone()
    };
    let mut tr = cartpole(constant, 0);
    tr.set_total_timesteps(100);
    for _ in 0..5 {
        tr.step().unwrap();
        assert_eq!(tr.agent().learning_rate(), lr);
    }
    let mut untold = cartpole(config, 0);
    untold.step().unwrap();
    assert_eq!(untold.agent().learning_rate(), lr);
    assert_eq!(A2cConfig::default().lr_schedule, LrSchedule::Constant);
    let err = A2cConfig::from_toml("[a2c]\nlr_schedule = \"cosine\"").unwrap_err();
    assert!(err.to_string().contains("lr_schedule"), "{err}");
}

fn pendulum(config: A2cConfig, seed: u64) -> A2cTrainer {
    let agent = A2c::new(
        config,
        3,
        ActionSpec::Continuous { dim: 1 },
        &Device::Cpu,
        seed,
    )
    .unwrap();
    A2cTrainer::with_factory(agent, || rl_envs::make("Pendulum-v1"), seed).unwrap()
}

fn sde_config() -> A2cConfig {
    A2cConfig {
        n_envs: 2,
        n_steps: 8,
        use_sde: true,
        log_std_init: -2.0,
        normalize_obs: true,
        ..A2cConfig::default()
    }
}

/// gSDE's exploration (Raffin et al. 2021): while the exploration matrices are kept, the noise is
/// a function of the state, so the same state gets the same action (no per-step jitter), and
/// new matrices change it; the action's log-probability is that of `N(μ(s), σ(s)²)` with
/// `σ_d(s)² = Σ_l z_l(s)² exp(log_std[l, d])² + 1e-6`, worked here from the features.
#[test]
fn gsde_noise_is_a_function_of_the_state_until_it_is_redrawn() {
    let mut agent = A2c::new(
        sde_config(),
        3,
        ActionSpec::Continuous { dim: 1 },
        &Device::Cpu,
        0,
    )
    .unwrap();
    let obs = Tensor::new(&[[0.3f32, -0.9, 1.5], [0.3, -0.9, 1.5]], &Device::Cpu).unwrap();
    agent.reset_noise(2).unwrap();
    let first = agent.act_batch(&obs, false).unwrap();
    let again = agent.act_batch(&obs, false).unwrap();
    assert_eq!(first.actions, again.actions);
    // Each env has its own matrix: the same state, two actions.
    assert_ne!(first.actions[0], first.actions[1]);
    agent.reset_noise(2).unwrap();
    assert_ne!(agent.act_batch(&obs, false).unwrap().actions, first.actions);
    // A batch of another size is refused rather than given new matrices behind the caller's back.
    let one = obs.narrow(0, 0, 1).unwrap();
    let err = agent.act_batch(&one, false).unwrap_err();
    assert!(err.to_string().contains("reset_noise(1)"), "{err}");
    assert!(agent.act_batch(&one, true).is_ok());
    // Deterministic: the mean, whatever the matrices.
    let mean = agent.act_batch(&obs, true).unwrap();
    let out = agent.policy_net().forward_detached(&obs).unwrap();
    let out: Vec<f32> = out.flatten_all().unwrap().to_vec1().unwrap();
    assert_eq!(mean.actions, out);

    // The log-probability by hand.
    let (_, trace) = agent.policy_net().forward_traced(&obs).unwrap();
    let z: Vec<Vec<f32>> = trace.last_features().unwrap().to_vec2().unwrap();
    let log_std: Vec<Vec<f32>> = agent
        .params()
        .get("log_std")
        .unwrap()
        .as_tensor()
        .to_vec2()
        .unwrap();
    assert_eq!(log_std.len(), 64);
    assert!(log_std.iter().flatten().all(|&l| l == -2.0));
    let var: f64 = z[0]
        .iter()
        .zip(&log_std)
        .map(|(z, l)| f64::from(*z).powi(2) * (2.0 * f64::from(l[0])).exp())
        .sum::<f64>()
        + 1e-6;
    let x = f64::from(first.actions[0] - out[0]);
    let by_hand = -0.5 * x * x / var - 0.5 * var.ln() - 0.5 * (2.0 * std::f64::consts::PI).ln();
    assert!(
        (first.log_probs[0] - by_hand).abs() < 1e-5,
        "{} vs {by_hand}",
        first.log_probs[0]
    );
}

/// With gSDE a run is reproducible and resumes bit for bit (the matrices are drawn from the
/// agent's generator at each rollout's start, so a checkpoint between rollouts needs no more);
/// `sde_sample_freq` redraws them within a rollout too; bad settings are named.
#[test]
fn gsde_runs_reproduce_resume_and_refuse_bad_settings() {
    let dir = tempfile::tempdir().unwrap();
    let mut straight = pendulum(sde_config(), 3);
    let mut first = pendulum(sde_config(), 3);
    for _ in 0..30 {
        assert_eq!(straight.step().unwrap(), first.step().unwrap());
    }
    first.save(dir.path()).unwrap();
    let mut resumed = pendulum(sde_config(), 9);
    resumed.load(dir.path()).unwrap();
    for _ in 0..30 {
        assert_eq!(straight.step().unwrap(), resumed.step().unwrap());
    }
    let often = A2cConfig {
        sde_sample_freq: 2,
        ..sde_config()
    };
    let mut a = pendulum(sde_config(), 4);
    let mut b = pendulum(often, 4);
    assert_ne!(a.step().unwrap(), b.step().unwrap());

    let err = A2cConfig::from_toml("[a2c]\nsde_sample_freq = 0").unwrap_err();
    assert!(err.to_string().contains("sde_sample_freq"), "{err}");
    let err = A2c::new(
        sde_config(),
        4,
        ActionSpec::Discrete { n: 2 },
        &Device::Cpu,
        0,
    )
    .unwrap_err();
    assert!(
        matches!(&err, A2cError::Agent(rl_nn::AgentError::UnsupportedEnv(m)) if m.contains("use_sde")),
        "{err}"
    );
}

#[test]
fn every_preset_parses() {
    for name in rl_a2c::presets::PRESETS.names() {
        A2cConfig::preset(name).unwrap();
    }
    // The zoo's LunarLander settings, for the Python bridge's env id.
    let c = A2cConfig::preset("gymnasium:LunarLander-v3").unwrap();
    assert_eq!((c.n_envs, c.n_steps, c.gamma), (8, 5, 0.995));
    assert_eq!((c.learning_rate, c.ent_coef), (0.00083, 0.00001));
    assert_eq!(c.lr_schedule, LrSchedule::Linear);
}
