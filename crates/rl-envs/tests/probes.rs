//! The probe environments give exactly the returns their documentation promises.

#![allow(clippy::unwrap_used, reason = "test code: a panic is a test failure")]

use rl_envs::probe::{Probe, ProbeEnv};
use rl_envs::{Action, Env, OwnedAction};

/// Plays one episode with `policy` and returns the discounted return from the first observation.
fn episode(
    env: &mut ProbeEnv,
    seed: u64,
    gamma: f64,
    policy: impl Fn(&[f32]) -> OwnedAction,
) -> (Vec<f32>, f64) {
    let first = env.reset(Some(seed)).unwrap().to_vec();
    let mut obs = first.clone();
    let (mut ret, mut discount) = (0.0, 1.0);
    loop {
        let step = env.step(policy(&obs).as_action()).unwrap();
        ret += discount * step.reward;
        discount *= gamma;
        obs = step.observation.to_vec();
        if step.done() {
            assert!(step.terminated && !step.truncated);
            return (first, ret);
        }
    }
}

#[test]
fn optimal_policies_earn_the_documented_values() {
    let gamma = 0.9;
    for continuous in [false, true] {
        for probe in Probe::ALL {
            let mut env = ProbeEnv::new(probe, continuous);
            let any = if continuous {
                OwnedAction::Continuous(vec![0.0])
            } else {
                OwnedAction::Discrete(0)
            };
            let reference = env.clone();
            let mut seen = std::collections::BTreeSet::new();
            for seed in 0..20 {
                let (first, ret) = episode(&mut env, seed, gamma, |obs| {
                    reference.optimal_action(obs).unwrap_or_else(|| any.clone())
                });
                let want = env.expected_value(&first, gamma);
                assert!(
                    (ret - want).abs() < 1e-6,
                    "{probe:?} continuous={continuous}: {ret} vs {want}"
                );
                seen.insert(first[0].to_bits());
            }
            let random_obs = matches!(
                probe,
                Probe::ObservationReward | Probe::ObservationActionReward
            );
            assert_eq!(seen.len(), if random_obs { 2 } else { 1 }, "{probe:?}");
        }
    }
}

#[test]
fn wrong_actions_earn_less_on_action_dependent_probes() {
    for continuous in [false, true] {
        for probe in [Probe::ActionReward, Probe::ObservationActionReward] {
            let mut env = ProbeEnv::new(probe, continuous);
            for seed in 0..10 {
                let obs = env.reset(Some(seed)).unwrap().to_vec();
                let best = env.optimal_action(&obs).unwrap();
                let worst = match &best {
                    OwnedAction::Discrete(a) => OwnedAction::Discrete(1 - a),
                    OwnedAction::Continuous(a) => OwnedAction::Continuous(vec![-a[0]]),
                };
                let r_worst = env.step(worst.as_action()).unwrap().reward;
                env.reset(Some(seed)).unwrap();
                let r_best = env.step(best.as_action()).unwrap().reward;
                assert!(r_best > r_worst, "{probe:?}");
            }
        }
    }
}

#[test]
fn the_two_step_probe_bootstraps_from_its_second_observation() {
    let mut env = ProbeEnv::new(Probe::DiscountedTwoStep, false);
    assert_eq!(env.reset(Some(0)).unwrap(), &[0.0]);
    let first = env.step(Action::Discrete(0)).unwrap();
    assert_eq!(
        (first.observation, first.reward, first.terminated),
        (&[1.0][..], 0.0, false)
    );
    assert!((env.expected_value(&[1.0], 0.5) - 1.0).abs() < 1e-12);
    assert!((env.expected_value(&[0.0], 0.5) - 0.5).abs() < 1e-12);
}
