//! The wrappers' behaviour, with golden values from Gymnasium's own wrappers
//! (`tests/fixtures/gymnasium/wrappers.json`, written by `tests/fixtures/record_gymnasium.py`).

#![allow(clippy::unwrap_used, reason = "test code: a panic is a test failure")]

use rl_envs::classic::{CartPole, Pendulum};
use rl_envs::wrappers::{
    NormalizeObservation, RecordEpisodeStatistics, RescaleAction, RunningMeanStd, TimeLimit,
};
use rl_envs::{Action, Env, EnvError, make};
use serde::Deserialize;

#[derive(Deserialize)]
struct Golden {
    normalize_observation: NormalizeGolden,
    rescale_action: RescaleGolden,
}

#[derive(Deserialize)]
struct NormalizeGolden {
    raw: Vec<Vec<f32>>,
    normalized: Vec<Vec<f32>>,
    mean: Vec<f64>,
    var: Vec<f64>,
    count: f64,
}

#[derive(Deserialize)]
struct RescaleGolden {
    actions: Vec<f32>,
    inner_actions: Vec<f32>,
}

fn golden() -> Golden {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/gymnasium/wrappers.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Gymnasium's `NormalizeObservation` keeps its statistics in float32; ours are float64 (as SB3's
/// `VecNormalize`), so the two agree to float32 precision.
#[test]
fn running_statistics_and_outputs_match_gymnasiums_normalize_observation() {
    let g = golden().normalize_observation;
    let mut stats = RunningMeanStd::new(4);
    let mut out = [0.0_f32; 4];
    for (raw, want) in g.raw.iter().zip(&g.normalized) {
        stats.update(raw).unwrap();
        stats.normalize_into(raw, 1e-8, None, &mut out);
        for (o, w) in out.iter().zip(want) {
            assert!(
                (o - w).abs() <= 1e-5 * w.abs().max(1.0),
                "{out:?} vs {want:?}"
            );
        }
    }
    for (got, want) in stats.mean().iter().zip(&g.mean) {
        assert!((got - want).abs() <= 1e-6, "mean {got} vs {want}");
    }
    for (got, want) in stats.var().iter().zip(&g.var) {
        assert!((got - want).abs() <= 1e-5 * want, "var {got} vs {want}");
    }
    assert!((stats.count() - g.count).abs() < 1e-9);
}

#[test]
fn rescale_action_maps_like_gymnasiums_rescale_action() {
    let g = golden().rescale_action;
    let env = RescaleAction::new(Pendulum::new()).unwrap();
    let bounds = env.action_space().as_box().unwrap();
    assert_eq!((bounds.low(), bounds.high()), (&[-1.0][..], &[1.0][..]));
    for (a, want) in g.actions.iter().zip(&g.inner_actions) {
        let got = env.rescale(&[*a])[0];
        assert!((got - want).abs() <= 1e-6, "{a} -> {got}, Gymnasium {want}");
    }
}

#[test]
fn rescaled_actions_reach_the_inner_env() {
    let mut plain = Pendulum::new();
    let mut rescaled = RescaleAction::new(Pendulum::new()).unwrap();
    plain.reset(Some(3)).unwrap();
    rescaled.reset(Some(3)).unwrap();
    let a = plain.step(Action::Continuous(&[1.0])).unwrap().reward;
    let b = rescaled.step(Action::Continuous(&[0.5])).unwrap().reward;
    assert_eq!(a, b);
    assert!(RescaleAction::new(CartPole::new()).is_err());
}

#[test]
fn normalization_statistics_survive_a_save_and_restore() {
    let mut env = NormalizeObservation::new(make("CartPole-v1").unwrap());
    env.reset(Some(0)).unwrap();
    for t in 0..30 {
        if env.step(Action::Discrete(t % 2)).unwrap().done() {
            env.reset(None).unwrap();
        }
    }
    let saved = serde_json::to_string(env.stats()).unwrap();

    let mut restored = NormalizeObservation::new(make("CartPole-v1").unwrap());
    restored
        .set_stats(serde_json::from_str(&saved).unwrap())
        .unwrap();
    env.set_update(false);
    restored.set_update(false);
    let a = env.reset(Some(9)).unwrap().to_vec();
    let b = restored.reset(Some(9)).unwrap().to_vec();
    assert_eq!(a, b);
    assert_eq!(env.stats(), restored.stats());

    let wrong = RunningMeanStd::new(3);
    assert!(matches!(
        restored.set_stats(wrong),
        Err(EnvError::InvalidConfig(_))
    ));
    assert!(RunningMeanStd::from_parts(vec![0.0], vec![-1.0], 1.0).is_err());
}

#[test]
fn normalized_observations_can_be_clipped() {
    let mut env = NormalizeObservation::new(make("MountainCar-v0").unwrap())
        .with_clip(0.5)
        .unwrap();
    env.reset(Some(0)).unwrap();
    for _ in 0..50 {
        let step = env.step(Action::Discrete(2)).unwrap();
        assert!(step.observation.iter().all(|v| v.abs() <= 0.5));
    }
    assert!(
        NormalizeObservation::new(make("MountainCar-v0").unwrap())
            .with_clip(0.0)
            .is_err()
    );
}

#[test]
fn time_limit_truncates_on_the_limit_step() {
    let mut env = TimeLimit::new(Pendulum::new(), 3).unwrap();
    env.reset(Some(0)).unwrap();
    let flags: Vec<bool> = (0..3)
        .map(|_| env.step(Action::Continuous(&[0.0])).unwrap().truncated)
        .collect();
    assert_eq!(flags, [false, false, true]);
    env.reset(None).unwrap();
    assert_eq!(env.elapsed_steps(), 0);
    assert!(TimeLimit::new(Pendulum::new(), 0).is_err());
}

#[test]
fn time_limit_truncates_even_when_the_step_also_terminates() {
    let mut env = TimeLimit::new(CartPole::new(), 1).unwrap();
    env.reset(Some(0)).unwrap();
    env.set_state(&[2.39, 5.0, 0.0, 0.0]).unwrap();
    let step = env.step(Action::Discrete(1)).unwrap();
    assert!(step.terminated && step.truncated);
}

#[test]
fn episode_statistics_record_return_and_length() {
    let mut env = RecordEpisodeStatistics::with_capacity(make("CartPole-v1").unwrap(), 2);
    env.reset(Some(0)).unwrap();
    let mut lengths = Vec::new();
    while lengths.len() < 3 {
        let done = env.step(Action::Discrete(1)).unwrap().done();
        if done {
            let stats = env.finished().unwrap();
            assert_eq!(stats.episode_return, stats.length as f64); // +1 per step
            lengths.push(stats.length);
            env.reset(None).unwrap();
        } else {
            assert!(env.finished().is_none());
        }
    }
    assert_eq!(env.total_episodes(), 3);
    let recent: Vec<usize> = env.recent().iter().map(|e| e.length).collect();
    assert_eq!(recent, lengths[1..]);
}

#[test]
fn pendulum_episodes_through_make_last_200_steps() {
    let mut env = RecordEpisodeStatistics::new(make("Pendulum-v1").unwrap());
    env.reset(Some(0)).unwrap();
    let mut steps = 0;
    while !env.step(Action::Continuous(&[0.0])).unwrap().done() {
        steps += 1;
    }
    assert_eq!(steps + 1, 200);
    assert_eq!(env.finished().unwrap().length, 200);
}

#[test]
fn a_restored_snapshot_continues_identically_through_every_wrapper() {
    let build = || {
        RecordEpisodeStatistics::new(NormalizeObservation::new(
            RescaleAction::new(make("Pendulum-v1").unwrap()).unwrap(),
        ))
    };
    {
        let mut a = build();
        a.reset(Some(3)).unwrap();
        for t in 0..150 {
            a.step(Action::Continuous(&[(t as f32 * 0.1).sin()]))
                .unwrap();
        }
        let snap = a.snapshot().unwrap();
        // Through JSON text, as a checkpoint stores it.
        let snap: serde_json::Value = serde_json::from_str(&snap.to_string()).unwrap();
        let mut b = build();
        b.restore(&snap).unwrap();
        for t in 0..120 {
            let action = [(t as f32 * 0.37).cos()];
            let sa = a.step(Action::Continuous(&action)).unwrap();
            let (oa, ra, da) = (sa.observation.to_vec(), sa.reward, sa.done());
            let sb = b.step(Action::Continuous(&action)).unwrap();
            assert_eq!(
                (oa, ra, da),
                (sb.observation.to_vec(), sb.reward, sb.done())
            );
            if da {
                assert_eq!(a.finished(), b.finished());
                let ra = a.reset(None).unwrap().to_vec();
                assert_eq!(
                    ra,
                    b.reset(None).unwrap().to_vec(),
                    "the generator was restored"
                );
            }
        }
    }
    // Every classic env, and a snapshot refused by the wrong env.
    for id in rl_envs::known_ids() {
        let mut env = make(&id).unwrap();
        env.reset(Some(1)).unwrap();
        let snap = env.snapshot().unwrap();
        let mut other = make(&id).unwrap();
        other.restore(&snap).unwrap();
        assert_eq!(other.state(), env.state(), "{id}");
    }
    let cartpole = make("CartPole-v1").unwrap().snapshot().unwrap();
    let err = make("Acrobot-v1").unwrap().restore(&cartpole).unwrap_err();
    assert!(matches!(err, EnvError::Snapshot { .. }), "{err}");
}
