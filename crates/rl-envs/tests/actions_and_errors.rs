//! Bad input gets an error that names the problem, never a panic; out-of-bounds continuous actions
//! get what Gymnasium does with them.

#![allow(clippy::unwrap_used, reason = "test code: a panic is a test failure")]

use rl_envs::classic::{MountainCarContinuous, Pendulum};
use rl_envs::{Action, Env, EnvError, make};

const CLASSIC: [&str; 5] = [
    "CartPole-v1",
    "Pendulum-v1",
    "MountainCarContinuous-v0",
    "MountainCar-v0",
    "Acrobot-v1",
];

#[test]
fn discrete_index_out_of_range_is_an_error_naming_the_space() {
    for (id, n) in [("CartPole-v1", 2), ("MountainCar-v0", 3), ("Acrobot-v1", 3)] {
        let mut env = make(id).unwrap();
        env.reset(Some(0)).unwrap();
        let err = env.step(Action::Discrete(n)).unwrap_err();
        assert_eq!(err, EnvError::ActionOutOfRange { index: n, n });
        assert!(err.to_string().contains(&format!("Discrete({n})")), "{err}");
    }
}

#[test]
fn continuous_action_of_wrong_length_is_an_error() {
    for id in ["Pendulum-v1", "MountainCarContinuous-v0"] {
        let mut env = make(id).unwrap();
        env.reset(Some(0)).unwrap();
        for bad in [&[][..], &[0.0, 0.0][..]] {
            let err = env.step(Action::Continuous(bad)).unwrap_err();
            assert_eq!(
                err,
                EnvError::ActionLength {
                    got: bad.len(),
                    expected: 1
                }
            );
        }
    }
}

#[test]
fn nan_and_infinite_actions_are_errors() {
    for id in ["Pendulum-v1", "MountainCarContinuous-v0"] {
        let mut env = make(id).unwrap();
        env.reset(Some(0)).unwrap();
        for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            let err = env.step(Action::Continuous(&[bad])).unwrap_err();
            assert!(
                matches!(err, EnvError::NonFiniteAction { index: 0, .. }),
                "{err}"
            );
            assert!(err.to_string().contains("finite"), "{err}");
        }
        // The failed steps changed nothing: the episode goes on.
        assert!(env.step(Action::Continuous(&[0.0])).is_ok());
    }
}

#[test]
fn the_wrong_kind_of_action_is_an_error() {
    for id in CLASSIC {
        let mut env = make(id).unwrap();
        env.reset(Some(0)).unwrap();
        let wrong = match env.action_space().as_discrete() {
            Some(_) => Action::Continuous(&[0.0]),
            None => Action::Discrete(0),
        };
        let err = env.step(wrong).unwrap_err();
        assert!(matches!(err, EnvError::ActionKind { .. }), "{id}: {err}");
        assert!(err.to_string().contains(id), "{err}");
    }
}

#[test]
fn stepping_before_reset_is_an_error() {
    for id in CLASSIC {
        let mut env = make(id).unwrap();
        let action = env.action_space().sample(&mut rand::rng());
        assert_eq!(
            env.step(action.as_action()).unwrap_err(),
            EnvError::ResetNeeded
        );
    }
}

#[test]
fn unknown_ids_list_the_known_ones() {
    let err = make("Pendulum-v0").unwrap_err();
    let msg = err.to_string();
    for id in CLASSIC {
        assert!(msg.contains(id), "{msg}");
    }
    assert!(msg.contains("ProbeConstantReward-v0"), "{msg}");
}

#[test]
fn set_state_checks_length_and_finiteness() {
    let mut env = make("CartPole-v1").unwrap();
    env.reset(Some(0)).unwrap();
    assert!(matches!(
        env.set_state(&[0.0; 3]).unwrap_err(),
        EnvError::InvalidState { .. }
    ));
    let err = env.set_state(&[0.0, f64::NAN, 0.0, 0.0]).unwrap_err();
    assert!(err.to_string().contains("NaN"), "{err}");
}

#[test]
fn pendulum_clips_torque_to_its_bounds_as_gymnasium_does() {
    let run = |u: f32| {
        let mut env = Pendulum::new();
        env.reset(Some(1)).unwrap();
        let s = env.step(Action::Continuous(&[u])).unwrap();
        (s.observation.to_vec(), s.reward)
    };
    assert_eq!(run(7.5), run(2.0));
    assert_eq!(run(-1e30), run(-2.0));
    assert_ne!(run(1.0), run(2.0));
}

#[test]
fn mountain_car_continuous_clips_force_but_charges_the_unclipped_action() {
    let run = |a: f32| {
        let mut env = MountainCarContinuous::new();
        env.reset(Some(1)).unwrap();
        let s = env.step(Action::Continuous(&[a])).unwrap();
        (s.observation.to_vec(), s.reward)
    };
    let (obs_big, reward_big) = run(3.0);
    let (obs_one, reward_one) = run(1.0);
    assert_eq!(obs_big, obs_one);
    assert_eq!(reward_big, -0.1 * 9.0);
    assert_eq!(reward_one, -0.1);
}

#[test]
fn the_same_seed_gives_the_same_episode_and_reset_without_seed_continues() {
    for id in CLASSIC {
        let first: Vec<f32> = make(id).unwrap().reset(Some(5)).unwrap().to_vec();
        let again: Vec<f32> = make(id).unwrap().reset(Some(5)).unwrap().to_vec();
        let other: Vec<f32> = make(id).unwrap().reset(Some(6)).unwrap().to_vec();
        assert_eq!(first, again, "{id}");
        assert_ne!(first, other, "{id}");

        let mut env = make(id).unwrap();
        env.reset(Some(5)).unwrap();
        let second = env.reset(None).unwrap().to_vec();
        assert_ne!(second, first, "{id}: reset(None) must draw a new start");
        assert!(
            env.observation_space().as_box().unwrap().contains(&second),
            "{id}"
        );
    }
}

#[test]
fn every_registered_env_runs_random_episodes_within_its_spaces() {
    use rand::SeedableRng;
    let mut rng = rl_envs::EnvRng::seed_from_u64(0);
    for id in rl_envs::known_ids() {
        let mut env = make(&id).unwrap();
        let obs_space = env.observation_space().clone();
        let act_space = env.action_space().clone();
        let obs = env.reset(Some(0)).unwrap().to_vec();
        assert_eq!(obs.len(), obs_space.flat_dim(), "{id}");
        for _ in 0..3 {
            loop {
                let action = act_space.sample(&mut rng);
                assert!(act_space.contains(action.as_action()), "{id}");
                let step = env.step(action.as_action()).unwrap();
                assert!(step.reward.is_finite(), "{id}");
                assert_eq!(step.observation.len(), obs_space.flat_dim(), "{id}");
                if step.done() {
                    break;
                }
            }
            env.reset(None).unwrap();
        }
    }
}
