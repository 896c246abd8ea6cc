//! The bridge against the real Gymnasium (the Python packages of `requirements.txt`; run with
//! `cargo xtask with-gymnasium test -p rl-gymnasium --features python`): CartPole through the
//! bridge equals rl-envs' native CartPole step for step; LunarLander and LunarLanderContinuous
//! keep the env contract (`check_env`); Python exceptions, unsupported spaces and missing
//! packages are errors that say so; the runner trains a bridged id.

#![cfg(feature = "python")]
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::float_cmp,
    clippy::print_stderr,
    reason = "test code: a panic is a test failure; equality is what is checked; the messages are printed for docs/errors.md"
)]

use rand::SeedableRng;
use rl_envs::classic::CartPole;
use rl_envs::{Action, Env, EnvError, EnvRng, check_env, make};
use rl_gymnasium::PyEnv;

fn setup() {
    rl_gymnasium::register().unwrap();
    rl_gymnasium::render_frames(true);
}

#[test]
fn cartpole_through_the_bridge_equals_the_native_cartpole_step_for_step() {
    let mut bridged = PyEnv::make("gymnasium:CartPole-v1", None, "CartPole-v1").unwrap();
    let mut native = CartPole::new();
    let mut rng = EnvRng::seed_from_u64(0);
    let mut steps = 0;
    for episode in 0..5_u64 {
        let first = bridged.reset(Some(100 + episode)).unwrap().to_vec();
        native.reset(Some(0)).unwrap();
        let state = bridged.unwrapped_values("state").unwrap();
        assert_eq!(native.set_state(&state).unwrap(), first.as_slice());
        loop {
            let a = Action::Discrete(usize::from(rand::Rng::random_bool(&mut rng, 0.5)));
            let b = bridged.step(a).unwrap();
            let (bo, br, bt, btr) = (b.observation.to_vec(), b.reward, b.terminated, b.truncated);
            let n = native.step(a).unwrap();
            // Random episodes end long before the 500-step limit, which only the bridged env has.
            assert_eq!(
                (bo.as_slice(), br, bt, btr),
                (n.observation, n.reward, n.terminated, n.truncated),
                "step {steps}"
            );
            assert_eq!(
                native.state().unwrap(),
                bridged.unwrapped_values("state").unwrap().as_slice()
            );
            steps += 1;
            if bt || btr {
                break;
            }
        }
    }
    assert!(steps > 50, "{steps} steps");
}

#[test]
fn lunar_lander_keeps_the_env_contract() {
    setup();
    for id in [
        "gymnasium:LunarLander-v3",
        "gymnasium:LunarLanderContinuous-v3",
    ] {
        let mut env = make(id).unwrap();
        assert_eq!(env.max_episode_steps(), Some(1000), "{id}");
        assert_eq!(env.observation_space().flat_dim(), 8, "{id}");
        let report = check_env(env.as_mut(), 0, 400).unwrap_or_else(|e| panic!("{id}: {e}"));
        assert!(
            !report.snapshot_checked,
            "{id}: Box2D envs cannot be pickled"
        );
        env.reset(Some(0)).unwrap();
        let frame = env.render().unwrap();
        assert_eq!((frame.width, frame.height), (600, 400), "{id}");
        assert!(matches!(
            env.snapshot().unwrap_err(),
            EnvError::SnapshotUnsupported { .. }
        ));
    }
}

#[test]
fn a_picklable_env_snapshots_and_replays() {
    setup();
    let mut env = make("gymnasium:CartPole-v1").unwrap();
    let report = check_env(env.as_mut(), 3, 300).unwrap();
    assert!(report.snapshot_checked);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
}

#[test]
fn python_failures_are_errors_that_say_what_happened() {
    setup();
    // A Python exception: stepping before reset (Gymnasium's OrderEnforcing raises).
    let mut env = make("gymnasium:CartPole-v1").unwrap();
    let err = env.step(Action::Discrete(0)).unwrap_err();
    eprintln!("{err}");
    assert!(matches!(err, EnvError::Backend { .. }), "{err}");
    assert!(
        err.to_string().contains("Python raised") && err.to_string().contains("reset"),
        "{err}"
    );
    // An observation space the bridge does not take.
    let err = make("gymnasium:Blackjack-v1").unwrap_err().to_string();
    eprintln!("{err}");
    assert!(
        err.contains("Tuple") && err.contains("observation"),
        "{err}"
    );
    // A package that is not installed.
    let err = make("gymnasium:no_such_package:Foo-v0")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("no_such_package") && err.contains("cannot import"),
        "{err}"
    );
    // An id Gymnasium does not know.
    let err = make("gymnasium:NoSuchEnv-v0").unwrap_err().to_string();
    eprintln!("{err}");
    assert!(err.contains("NoSuchEnv"), "{err}");
    // Invalid actions never reach Python.
    let mut env = make("gymnasium:LunarLanderContinuous-v3").unwrap();
    env.reset(Some(0)).unwrap();
    assert!(env.step(Action::Continuous(&[f32::NAN, 0.0])).is_err());
    assert!(env.step(Action::Continuous(&[0.0])).is_err());
}

#[test]
fn the_runner_trains_a_bridged_env() {
    setup();
    let dir = tempfile::tempdir().unwrap();
    let options = rl_runner::TrainOptions {
        algo: "a2c".into(),
        env: Some("gymnasium:CartPole-v1".into()),
        steps: Some(2_000),
        out: Some(dir.path().join("run")),
        sets: vec!["run.eval_episodes=2".into()],
        ..Default::default()
    };
    let s = rl_runner::train(&options, &candle_core::Device::Cpu).unwrap();
    assert_eq!(
        (s.env.as_str(), s.env_steps),
        ("gymnasium:CartPole-v1", 2_000)
    );
    // Resumed: CartPole pickles, so the run continues exactly.
    let resumed = rl_runner::TrainOptions {
        algo: "a2c".into(),
        resume: Some(dir.path().join("run")),
        steps: Some(2_400),
        ..Default::default()
    };
    assert_eq!(
        rl_runner::train(&resumed, &candle_core::Device::Cpu)
            .unwrap()
            .env_steps,
        2_400
    );
}
