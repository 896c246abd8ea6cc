//! `SyncVectorEnv`: lockstep stepping, SB3-style autoreset with the true final observation.

#![allow(clippy::unwrap_used, reason = "test code: a panic is a test failure")]

use rl_envs::{
    Action, Env, EnvError, NormalizeConfig, SyncVectorEnv, VecAction, VecNormalize, make,
};

#[test]
fn envs_are_seeded_seed_plus_index() {
    let mut vec_env = SyncVectorEnv::make("CartPole-v1", 3).unwrap();
    let obs = vec_env.reset(Some(10)).unwrap().to_vec();
    for i in 0..3 {
        let single = make("CartPole-v1")
            .unwrap()
            .reset(Some(10 + i as u64))
            .unwrap()
            .to_vec();
        assert_eq!(obs[i * 4..(i + 1) * 4], single[..]);
    }
}

#[test]
fn a_finished_env_is_reset_and_its_final_observation_kept() {
    // Reference: the same env stepped by hand.
    let mut single = make("CartPole-v1").unwrap();
    single.reset(Some(1)).unwrap();
    let mut vec_env = SyncVectorEnv::make("CartPole-v1", 2).unwrap();
    vec_env.reset(Some(1)).unwrap(); // env 0 gets seed 1

    loop {
        let step = single.step(Action::Discrete(1)).unwrap();
        let (obs, done) = (step.observation.to_vec(), step.done());
        let v = vec_env.step(VecAction::Discrete(&[1, 0])).unwrap();
        if done {
            assert!(v.terminated[0]);
            assert_eq!(v.final_observation(0).unwrap(), &obs[..]);
            let next = single.reset(None).unwrap();
            assert_eq!(
                v.observation(0),
                next,
                "autoreset continues the env's generator"
            );
            break;
        }
        assert_eq!(v.observation(0), &obs[..]);
        assert!(v.final_observation(0).is_none());
    }
}

#[test]
fn truncation_keeps_the_final_observation_for_bootstrapping() {
    let mut vec_env = SyncVectorEnv::make("Pendulum-v1", 2).unwrap();
    vec_env.reset(Some(0)).unwrap();
    for t in 1..=200 {
        let v = vec_env.step(VecAction::Continuous(&[0.0, 0.0])).unwrap();
        assert_eq!(v.truncated[0], t == 200);
        assert!(!v.terminated[0]);
        if t == 200 {
            let last = v.final_observation(1).unwrap();
            assert_ne!(
                last,
                v.observation(1),
                "the row holds the next episode's start"
            );
        }
    }
}

#[test]
fn wrong_action_counts_and_missing_reset_are_errors() {
    let mut vec_env = SyncVectorEnv::make("Pendulum-v1", 2).unwrap();
    assert_eq!(
        vec_env
            .step(VecAction::Continuous(&[0.0, 0.0]))
            .unwrap_err(),
        EnvError::ResetNeeded
    );
    vec_env.reset(Some(0)).unwrap();
    let err = vec_env.step(VecAction::Continuous(&[0.0])).unwrap_err();
    assert!(
        err.to_string().contains("2 envs need 2 action values"),
        "{err}"
    );
    assert!(SyncVectorEnv::new(Vec::<rl_envs::BoxedEnv>::new()).is_err());
    let mixed = vec![make("Pendulum-v1").unwrap(), make("CartPole-v1").unwrap()];
    assert!(SyncVectorEnv::new(mixed).is_err());
}

#[test]
fn a_restored_vector_env_continues_identically() {
    let mut a = SyncVectorEnv::make("CartPole-v1", 3).unwrap();
    a.reset(Some(4)).unwrap();
    let policy = |t: usize| [t % 2, (t / 3) % 2, 1];
    for t in 0..40 {
        a.step(VecAction::Discrete(&policy(t))).unwrap();
    }
    let snap: serde_json::Value = serde_json::from_str(&a.snapshot().unwrap().to_string()).unwrap();
    let mut b = SyncVectorEnv::make("CartPole-v1", 3).unwrap();
    b.restore(&snap).unwrap();
    assert_eq!(a.observations(), b.observations());
    for t in 40..400 {
        let va = a.step(VecAction::Discrete(&policy(t))).unwrap();
        let (oa, ra, ta) = (
            va.observations.to_vec(),
            va.rewards.to_vec(),
            va.terminated.to_vec(),
        );
        let vb = b.step(VecAction::Discrete(&policy(t))).unwrap();
        assert_eq!(
            (oa, ra, ta),
            (
                vb.observations.to_vec(),
                vb.rewards.to_vec(),
                vb.terminated.to_vec()
            )
        );
    }
    let mut c = SyncVectorEnv::make("CartPole-v1", 2).unwrap();
    assert!(c.restore(&snap).is_err());
}

/// `VecNormalize` keeps what the envs returned beside what it hands out: the raw observations,
/// rewards and final observations equal an unwrapped vector env's stepped alike, and the
/// normalized ones are [`VecNormalize::normalize_obs`] and [`VecNormalize::normalize_reward`] of
/// them under the statistics of that step (what a replay memory needs to normalize stored raw
/// values later).
#[test]
fn vec_normalize_keeps_the_raw_values_beside_the_normalized_ones() {
    let mut plain = SyncVectorEnv::make("Pendulum-v1", 2).unwrap();
    let mut wrapped = VecNormalize::new(
        SyncVectorEnv::make("Pendulum-v1", 2).unwrap(),
        NormalizeConfig::default(),
    )
    .unwrap();
    let raw = plain.reset(Some(3)).unwrap().to_vec();
    let normalized = wrapped.reset(Some(3)).unwrap().to_vec();
    assert_eq!(wrapped.raw_observations(), &raw[..]);
    assert_eq!(wrapped.normalize_obs(&raw), normalized);
    let mut finals = 0;
    for t in 0..210 {
        let torque = [(t % 5) as f32 - 2.0, 1.5];
        let p = plain.step(VecAction::Continuous(&torque)).unwrap();
        let (p_obs, p_rewards) = (p.observations.to_vec(), p.rewards.to_vec());
        let p_finals: Vec<Option<Vec<f32>>> = (0..2)
            .map(|i| p.final_observation(i).map(<[f32]>::to_vec))
            .collect();
        let w = wrapped.step(VecAction::Continuous(&torque)).unwrap();
        let (w_obs, w_rewards) = (w.observations.to_vec(), w.rewards.to_vec());
        let w_ended: Vec<bool> = (0..2).map(|i| w.final_observation(i).is_some()).collect();
        assert_eq!(wrapped.raw_observations(), &p_obs[..]);
        assert_eq!(wrapped.raw_rewards(), &p_rewards[..]);
        assert_eq!(wrapped.normalize_obs(&p_obs), w_obs);
        for i in 0..2 {
            assert_eq!(wrapped.normalize_reward(p_rewards[i]), w_rewards[i]);
            assert_eq!(w_ended[i], p_finals[i].is_some());
            if let Some(o) = &p_finals[i] {
                assert_eq!(
                    &wrapped.raw_final_observations()[i * 3..(i + 1) * 3],
                    &o[..]
                );
                finals += 1;
            }
        }
    }
    // Pendulum-v1 truncates at 200 steps: both envs ended once.
    assert_eq!(finals, 2);
    // Normalization does change the values (the statistics are not the identity).
    assert_ne!(wrapped.normalize_obs(&raw), raw);
}

/// A snapshot whose statistics do not fit (here: rewards normalized, this env does not) is
/// refused before anything changes: the envs, statistics and observations stay as they were.
#[test]
fn a_vec_normalize_snapshot_that_does_not_fit_changes_nothing() {
    let both = NormalizeConfig::default();
    let obs_only = NormalizeConfig {
        reward: false,
        ..NormalizeConfig::default()
    };
    let make = |config| {
        let mut env =
            VecNormalize::new(SyncVectorEnv::make("Pendulum-v1", 2).unwrap(), config).unwrap();
        env.reset(Some(7)).unwrap();
        env
    };
    let mut other = make(both);
    for _ in 0..30 {
        other.step(VecAction::Continuous(&[1.0, -1.0])).unwrap();
    }
    let snapshot = other.snapshot().unwrap();
    let (mut env, mut twin) = (make(obs_only), make(obs_only));
    assert!(env.restore(&snapshot).is_err());
    for _ in 0..5 {
        let a = env
            .step(VecAction::Continuous(&[0.5, 0.5]))
            .unwrap()
            .observations
            .to_vec();
        let b = twin
            .step(VecAction::Continuous(&[0.5, 0.5]))
            .unwrap()
            .observations
            .to_vec();
        assert_eq!(a, b);
    }
}
