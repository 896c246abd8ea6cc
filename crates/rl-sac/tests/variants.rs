//! SAC v1 and discrete SAC: each loss on a case small enough to check by hand, the probes solved
//! by both, and runs that repeat bit for bit.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

use candle_core::{Device, Tensor};
use rl_envs::OwnedAction;
use rl_envs::probe::{Probe, ProbeEnv};
use rl_sac::config::{EntCoef, Variant};
use rl_sac::losses::{
    actor_loss_v1, discrete_actor_loss, discrete_soft_value, discrete_temperature_loss, value_loss,
    value_td_target,
};
use rl_sac::networks::critic_input;
use rl_sac::{Sac, SacConfig, SacTrainer, UpdateMetrics};

fn t(v: &[f32]) -> Tensor {
    Tensor::new(v, &Device::Cpu).unwrap()
}

fn t2(v: &[[f32; 2]]) -> Tensor {
    Tensor::from_vec(v.concat(), (v.len(), 2), &Device::Cpu).unwrap()
}

fn t1(v: &[[f32; 1]]) -> Tensor {
    Tensor::from_vec(v.concat(), (v.len(), 1), &Device::Cpu).unwrap()
}

fn value(x: &Tensor) -> f64 {
    f64::from(x.to_scalar::<f32>().unwrap())
}

fn close(got: f64, want: f64) {
    assert!((got - want).abs() < 1e-5, "{got} vs {want}");
}

#[test]
fn v1_losses_by_hand() {
    // J_V: targets 2 − 0.5·0.5 = 1.75 and 2 + 0.5·1 = 2.5; ½ mean(0.75², 0.5²) = 0.203125.
    close(
        value(&value_loss(&t(&[1.0, 2.0]), &t(&[2.0, 2.0]), &t(&[0.5, -1.0]), 0.5).unwrap()),
        0.203125,
    );
    // y = r + γ (1 − d) V̄(s'): [1 + 0.5·3, 1].
    let y = value_td_target(&t(&[1.0, 1.0]), &t(&[0.0, 1.0]), &t(&[3.0, 5.0]), 0.5).unwrap();
    assert_eq!(y.to_vec1::<f32>().unwrap(), [2.5, 1.0]);
    // J_π = mean(0.5·[0.5, −1] − [2, 3]) + 0.1·(mean μ² + mean (log σ)²) = −2.625 + 0.1·1.
    let loss = actor_loss_v1(
        &t(&[0.5, -1.0]),
        &t(&[2.0, 3.0]),
        0.5,
        &t1(&[[1.0], [0.0]]),
        &t1(&[[0.0], [-1.0]]),
        0.1,
    )
    .unwrap();
    close(value(&loss), -2.525);
}

#[test]
fn discrete_losses_by_hand() {
    let half = 0.5f32.ln();
    // V(s') = Σ 0.5 (Q − 0.1 ln 0.5) over Q = 1, 3: 2 − 0.1 ln 0.5.
    let v = discrete_soft_value(
        &t2(&[[0.5, 0.5]]),
        &t2(&[[half, half]]),
        &t2(&[[1.0, 3.0]]),
        0.1,
    )
    .unwrap();
    close(
        f64::from(v.to_vec1::<f32>().unwrap()[0]),
        2.0 - 0.1 * 0.5f64.ln(),
    );
    // J_π = 0.25 (ln 0.25 − 1) + 0.75 (ln 0.75 − 2).
    let (p, q) = (0.25f32, 0.75f32);
    let loss = discrete_actor_loss(
        &t2(&[[p, q]]),
        &t2(&[[p.ln(), q.ln()]]),
        &t2(&[[1.0, 2.0]]),
        1.0,
    )
    .unwrap();
    close(
        value(&loss),
        0.25 * (0.25f64.ln() - 1.0) + 0.75 * (0.75f64.ln() - 2.0),
    );
    // J(α) = −ln α · Σ π (ln π + H̄) = −ln 2 · (ln 0.5 + 0.5).
    let log_alpha = t(&[2.0f32.ln()]);
    let loss = discrete_temperature_loss(&log_alpha, &t2(&[[0.5, 0.5]]), &t2(&[[half, half]]), 0.5)
        .unwrap();
    close(value(&loss), -(2.0f64.ln()) * (0.5f64.ln() + 0.5));
}

fn config(variant: Variant) -> SacConfig {
    SacConfig {
        variant,
        ent_coef: EntCoef::Fixed(0.01),
        net_arch: vec![32, 32],
        batch_size: 64,
        learning_starts: 100,
        learning_rate: 1e-3,
        ..SacConfig::default()
    }
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

fn train_probe(
    probe: Probe,
    continuous: bool,
    variant: Variant,
    steps: usize,
) -> SacTrainer<ProbeEnv> {
    let env = ProbeEnv::new(probe, continuous);
    let config = SacConfig {
        gamma: probe_gamma(probe, SacConfig::default().gamma),
        ..config(variant)
    };
    let agent = Sac::for_env(config, &env, &Device::Cpu, 1).unwrap();
    let mut trainer = SacTrainer::new(agent, env, 1).unwrap();
    for _ in 0..steps {
        trainer.step().unwrap();
    }
    trainer
}

fn observations(probe: Probe) -> &'static [f32] {
    match probe {
        Probe::ObservationReward | Probe::ObservationActionReward => &[-1.0, 1.0],
        Probe::DiscountedTwoStep => &[0.0, 1.0],
        _ => &[0.0],
    }
}

#[test]
fn sac_v1_solves_every_continuous_probe() {
    for probe in Probe::ALL {
        let gamma = probe_gamma(probe, SacConfig::default().gamma);
        let mut trainer = train_probe(probe, true, Variant::V1, 1500);
        let reference = ProbeEnv::new(probe, true);
        for &s in observations(probe) {
            let OwnedAction::Continuous(a) = trainer.agent_mut().act(&[s], true).unwrap() else {
                panic!("continuous")
            };
            let x = critic_input(
                &Tensor::new(&[[s]], &Device::Cpu).unwrap(),
                &Tensor::new(&[[a[0]]], &Device::Cpu).unwrap(),
            )
            .unwrap();
            let q = f64::from(
                trainer
                    .agent()
                    .critics()
                    .forward(0, &x)
                    .unwrap()
                    .flatten_all()
                    .unwrap()
                    .to_vec1::<f32>()
                    .unwrap()[0],
            );
            let want = reference.expected_value(&[s], gamma);
            assert!(
                (q - want).abs() < 0.1,
                "{probe:?} s={s}: Q {q:.3}, expected {want:.3}"
            );
            if let Some(OwnedAction::Continuous(best)) = reference.optimal_action(&[s]) {
                assert!(
                    (a[0] - best[0]).abs() < 0.1,
                    "{probe:?} s={s}: action {}, expected {}",
                    a[0],
                    best[0]
                );
            }
        }
    }
}

#[test]
fn discrete_sac_solves_every_discrete_probe() {
    for probe in Probe::ALL {
        let gamma = probe_gamma(probe, SacConfig::default().gamma);
        let mut trainer = train_probe(probe, false, Variant::V2, 1200);
        let reference = ProbeEnv::new(probe, false);
        for &s in observations(probe) {
            let OwnedAction::Discrete(a) = trainer.agent_mut().act(&[s], true).unwrap() else {
                panic!("discrete")
            };
            let q = trainer
                .agent()
                .critics()
                .forward(0, &Tensor::new(&[[s]], &Device::Cpu).unwrap())
                .unwrap();
            let q: Vec<f32> = q.flatten_all().unwrap().to_vec1().unwrap();
            let want = reference.expected_value(&[s], gamma);
            assert!(
                (f64::from(q[a]) - want).abs() < 0.1,
                "{probe:?} s={s}: Q {q:?}, expected {want:.3}"
            );
            if let Some(OwnedAction::Discrete(best)) = reference.optimal_action(&[s]) {
                assert_eq!(a, best, "{probe:?} s={s}");
            }
        }
    }
}

fn metrics(env: &str, variant: Variant, seed: u64) -> Vec<UpdateMetrics> {
    let env = rl_envs::make(env).unwrap();
    let config = SacConfig {
        ent_coef: if variant == Variant::V1 {
            EntCoef::Fixed(0.1)
        } else {
            EntCoef::Auto { init: 1.0 }
        },
        ..config(variant)
    };
    let agent = Sac::for_env(config, &env, &Device::Cpu, seed).unwrap();
    let mut trainer = SacTrainer::new(agent, env, seed).unwrap();
    (0..300)
        .flat_map(|_| trainer.step().unwrap().updates)
        .collect()
}

#[test]
fn v1_and_discrete_runs_repeat_bit_for_bit() {
    for (env, variant) in [("Pendulum-v1", Variant::V1), ("CartPole-v1", Variant::V2)] {
        let a = metrics(env, variant, 2);
        assert_eq!(a.len(), 200);
        assert_eq!(a, metrics(env, variant, 2), "{env}");
        assert_ne!(a, metrics(env, variant, 3), "{env}");
        assert_eq!(a[0].value_loss.is_some(), variant == Variant::V1);
    }
}
