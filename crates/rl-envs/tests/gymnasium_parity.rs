//! Parity with Gymnasium, the oracle we did not write.
//!
//! `tests/fixtures/gymnasium/<id>.json` hold episodes recorded from Gymnasium 1.4 itself by
//! `tests/fixtures/record_gymnasium.py` (how to re-run it is in its header). Each test replays every
//! episode from the recorded start state with the recorded actions and requires, at every step:
//! observations within 1e-5, rewards and `terminated` / `truncated` flags equal, and the internal
//! state equal to Gymnasium's. A second pass restarts every transition from Gymnasium's recorded
//! state, so a chaotic system (Acrobot) cannot hide a one-step error behind an early divergence.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is a test failure"
)]
#![allow(
    clippy::print_stdout,
    reason = "reports what was compared (see it with --nocapture)"
)]

use rl_envs::classic::MountainCarContinuous;
use rl_envs::{Action, Env, make};
use serde::Deserialize;

#[derive(Deserialize)]
struct Fixture {
    env_id: String,
    max_episode_steps: usize,
    episodes: Vec<Episode>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RecordedAction {
    Discrete(usize),
    Continuous(Vec<f64>),
}

#[derive(Deserialize)]
struct Episode {
    seed: u64,
    policy: String,
    reset_state: Vec<f64>,
    reset_obs: Vec<f64>,
    actions: Vec<RecordedAction>,
    obs: Vec<Vec<f64>>,
    rewards: Vec<f64>,
    terminated: Vec<bool>,
    truncated: Vec<bool>,
    states: Vec<Vec<f64>>,
    state_dtypes: Vec<String>,
}

const OBS_TOL: f64 = 1e-5;

fn load(id: &str) -> Fixture {
    let path = format!(
        "{}/tests/fixtures/gymnasium/{id}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).expect("fixture file is readable");
    let fixture: Fixture = serde_json::from_str(&text).expect("fixture parses");
    assert_eq!(fixture.env_id, id);
    fixture
}

/// Runs `f` with the action as an [`Action`] (continuous values are exact float32s in the fixture).
fn with_action<T>(action: &RecordedAction, f: impl FnOnce(Action<'_>) -> T) -> T {
    match action {
        RecordedAction::Discrete(i) => f(Action::Discrete(*i)),
        RecordedAction::Continuous(v) => {
            let v: Vec<f32> = v.iter().map(|&x| x as f32).collect();
            f(Action::Continuous(&v))
        }
    }
}

fn assert_obs(got: &[f32], want: &[f64], what: &str) -> f64 {
    assert_eq!(got.len(), want.len(), "{what}: observation length");
    let mut worst = 0.0_f64;
    for (g, w) in got.iter().zip(want) {
        let err = (f64::from(*g) - w).abs();
        assert!(
            err <= OBS_TOL,
            "{what}: observation {got:?} vs Gymnasium {want:?}"
        );
        worst = worst.max(err);
    }
    worst
}

struct Report {
    steps: usize,
    worst_obs_err: f64,
    states_bit_equal: usize,
}

/// Replays every episode open loop through `make(id)` (time limit included).
fn replay(id: &str) -> Report {
    let fixture = load(id);
    let mut report = Report {
        steps: 0,
        worst_obs_err: 0.0,
        states_bit_equal: 0,
    };
    for ep in &fixture.episodes {
        let mut env = make(id).unwrap();
        assert_eq!(env.max_episode_steps(), Some(fixture.max_episode_steps));
        env.reset(Some(ep.seed)).unwrap();
        let obs = env.set_state(&ep.reset_state).unwrap();
        let what = format!("{id} seed {} ({}) reset", ep.seed, ep.policy);
        report.worst_obs_err = report
            .worst_obs_err
            .max(assert_obs(obs, &ep.reset_obs, &what));

        for t in 0..ep.actions.len() {
            let what = format!("{id} seed {} ({}) step {}", ep.seed, ep.policy, t + 1);
            let step = with_action(&ep.actions[t], |a| {
                let s = env.step(a).unwrap();
                (s.observation.to_vec(), s.reward, s.terminated, s.truncated)
            });
            let (obs, reward, terminated, truncated) = step;
            report.worst_obs_err = report
                .worst_obs_err
                .max(assert_obs(&obs, &ep.obs[t], &what));
            assert_eq!(
                reward.to_bits(),
                ep.rewards[t].to_bits(),
                "{what}: reward {reward} vs {}",
                ep.rewards[t]
            );
            assert_eq!(terminated, ep.terminated[t], "{what}: terminated");
            assert_eq!(truncated, ep.truncated[t], "{what}: truncated");
            let state = env.state().unwrap();
            for (g, w) in state.iter().zip(&ep.states[t]) {
                assert!(
                    (g - w).abs() <= 1e-9 * (1.0 + w.abs()),
                    "{what}: state {state:?} vs Gymnasium {:?}",
                    ep.states[t]
                );
            }
            if state
                .iter()
                .zip(&ep.states[t])
                .all(|(g, w)| g.to_bits() == w.to_bits())
            {
                report.states_bit_equal += 1;
            }
            report.steps += 1;
        }
    }
    report
}

/// Restarts every transition from Gymnasium's recorded state and checks that one step.
fn one_step_from_recorded_states(id: &str) -> usize {
    let fixture = load(id);
    let mut checked = 0;
    for ep in &fixture.episodes {
        // Steps after a termination depend on more than the state (CartPole's reward drops to 0).
        let end = ep
            .terminated
            .iter()
            .position(|&t| t)
            .map_or(ep.actions.len(), |i| i + 1);
        for t in 1..end {
            let what = format!("{id} seed {} ({}) step {} alone", ep.seed, ep.policy, t + 1);
            let mut mcc = MountainCarContinuous::new();
            let mut env = make(id).unwrap();
            let env: &mut dyn Env = if id == "MountainCarContinuous-v0" {
                // After a step Gymnasium holds this env's state in float32, which changes its arithmetic.
                assert_eq!(ep.state_dtypes[t - 1], "float32");
                mcc.reset(Some(0)).unwrap();
                let s = &ep.states[t - 1];
                mcc.set_state_f32([s[0] as f32, s[1] as f32]).unwrap();
                &mut mcc
            } else {
                env.reset(Some(0)).unwrap();
                env.set_state(&ep.states[t - 1]).unwrap();
                &mut env
            };
            let (obs, reward, terminated) = with_action(&ep.actions[t], |a| {
                let s = env.step(a).unwrap();
                (s.observation.to_vec(), s.reward, s.terminated)
            });
            assert_obs(&obs, &ep.obs[t], &what);
            assert_eq!(reward.to_bits(), ep.rewards[t].to_bits(), "{what}: reward");
            assert_eq!(terminated, ep.terminated[t], "{what}: terminated");
            checked += 1;
        }
    }
    checked
}

fn check(id: &str) {
    let report = replay(id);
    let alone = one_step_from_recorded_states(id);
    println!(
        "{id}: {} steps replayed (states bit-equal to Gymnasium's in {}), worst observation error {:.1e}; {alone} transitions checked alone",
        report.steps, report.states_bit_equal, report.worst_obs_err
    );
}

#[test]
fn cartpole_matches_gymnasium() {
    check("CartPole-v1");
}

#[test]
fn pendulum_matches_gymnasium() {
    check("Pendulum-v1");
}

#[test]
fn mountain_car_continuous_matches_gymnasium() {
    check("MountainCarContinuous-v0");
}

#[test]
fn mountain_car_matches_gymnasium() {
    check("MountainCar-v0");
}

#[test]
fn acrobot_matches_gymnasium() {
    check("Acrobot-v1");
}

#[test]
fn fixtures_cover_termination_truncation_and_out_of_bounds_actions() {
    for id in rl_envs::known_ids().into_iter().take(5) {
        let fixture = load(&id);
        let ended = |f: fn(&Episode) -> bool| fixture.episodes.iter().filter(|e| f(e)).count();
        let terminated = ended(|e| *e.terminated.last().unwrap());
        let truncated = ended(|e| *e.truncated.last().unwrap() && !*e.terminated.last().unwrap());
        assert!(truncated > 0, "{id}: no truncated episode");
        if id != "Pendulum-v1" {
            assert!(terminated > 0, "{id}: no terminated episode");
        }
        let out_of_bounds =
            fixture.episodes.iter().flat_map(|e| &e.actions).any(
                |a| matches!(a, RecordedAction::Continuous(v) if v.iter().any(|x| x.abs() > 2.0)),
            );
        if let Some(space) = make(&id).unwrap().action_space().as_box() {
            let _ = space;
            assert!(out_of_bounds, "{id}: no out-of-bounds action");
        }
    }
}
