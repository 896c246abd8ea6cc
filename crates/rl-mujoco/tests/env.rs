//! The tasks as `rl_envs` environments: registered ids with Gymnasium's spaces and limits,
//! `check_env`, determinism under a seed, exact snapshots, and errors for bad actions and for a
//! simulation that goes unstable.

#![cfg(feature = "native")]
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::print_stderr,
    reason = "test code: a panic is a test failure; the errors are printed for docs/errors.md"
)]

use rand::SeedableRng;
use rl_envs::{Action, Env, EnvError, EnvRng, check_env, make};
use rl_mujoco::{MujocoEnv, Task};

/// Gymnasium 1.4.0's observation and action sizes for each v5 task with default arguments.
const SIZES: [(Task, usize, usize); 10] = [
    (Task::HalfCheetah, 17, 6),
    (Task::Hopper, 11, 3),
    (Task::Walker2d, 17, 6),
    (Task::Ant, 105, 8),
    (Task::Humanoid, 348, 17),
    (Task::Swimmer, 8, 2),
    (Task::InvertedPendulum, 4, 1),
    (Task::InvertedDoublePendulum, 9, 1),
    (Task::Reacher, 10, 2),
    (Task::Pusher, 23, 7),
];

#[test]
fn every_task_is_registered_with_gymnasiums_spaces_and_time_limit() {
    rl_mujoco::register().unwrap();
    rl_mujoco::register().unwrap(); // a second call does nothing
    for (task, obs, act) in SIZES {
        let env = make(task.id()).unwrap();
        assert_eq!(env.observation_space().flat_dim(), obs, "{}", task.id());
        assert_eq!(env.action_space().flat_dim(), act, "{}", task.id());
        let limit = match task {
            Task::Reacher => 50,
            Task::Pusher => 100,
            _ => 1000,
        };
        assert_eq!(env.max_episode_steps(), Some(limit), "{}", task.id());
    }
    let humanoid = make("Humanoid-v5").unwrap();
    let b = humanoid.action_space().as_box().unwrap();
    assert!(b.low().iter().all(|&l| l == -0.4) && b.high().iter().all(|&h| h == 0.4));
    assert_eq!(
        rl_envs::spec("HalfCheetah-v5").unwrap().reward_threshold,
        Some(4800.0)
    );
}

#[test]
fn every_task_passes_check_env() {
    for task in Task::ALL {
        let mut env = MujocoEnv::new(task).unwrap();
        let report = check_env(&mut env, 3, 1000).unwrap_or_else(|e| panic!("{}: {e}", task.id()));
        assert!(report.snapshot_checked, "{}", task.id());
        assert!(
            report.warnings.is_empty(),
            "{}: {:?}",
            task.id(),
            report.warnings
        );
    }
}

fn rollout(env: &mut MujocoEnv, rng: &mut EnvRng, steps: usize) -> Vec<(Vec<u32>, u64, bool)> {
    (0..steps)
        .map(|_| {
            let a = env.action_space().sample(rng);
            let s = env.step(a.as_action()).unwrap();
            let row = (
                s.observation.iter().map(|v| v.to_bits()).collect(),
                s.reward.to_bits(),
                s.terminated,
            );
            if s.terminated {
                env.reset(None).unwrap();
            }
            row
        })
        .collect()
}

#[test]
fn a_seed_gives_the_same_episode_and_a_restored_snapshot_continues_bit_for_bit() {
    for task in Task::ALL {
        let mut env = MujocoEnv::new(task).unwrap();
        let first = env.reset(Some(7)).unwrap().to_vec();
        assert_eq!(env.reset(Some(7)).unwrap(), first, "{}", task.id());
        assert_ne!(env.reset(Some(8)).unwrap(), first, "{}", task.id());

        env.reset(Some(7)).unwrap();
        let mut rng = EnvRng::seed_from_u64(1);
        rollout(&mut env, &mut rng, 30);
        let snapshot = env.snapshot().unwrap();
        let rng_at_snapshot = rng.clone();
        let straight = rollout(&mut env, &mut rng, 200);

        // A fresh env (another mjData) restored from the JSON round trip of the snapshot.
        let text = serde_json::to_string(&snapshot).unwrap();
        let mut other = MujocoEnv::new(task).unwrap();
        other
            .restore(&serde_json::from_str(&text).unwrap())
            .unwrap();
        let resumed = rollout(&mut other, &mut rng_at_snapshot.clone(), 200);
        assert_eq!(straight, resumed, "{}", task.id());
    }
}

#[test]
fn bad_actions_and_snapshots_are_errors() {
    let mut env = MujocoEnv::new(Task::Hopper).unwrap();
    assert_eq!(
        env.step(Action::Continuous(&[0.0; 3])).unwrap_err(),
        EnvError::ResetNeeded
    );
    env.reset(Some(0)).unwrap();
    let nan = env
        .step(Action::Continuous(&[0.0, f32::NAN, 0.0]))
        .unwrap_err();
    assert!(nan.to_string().contains("NaN"), "{nan}");
    let short = env.step(Action::Continuous(&[0.0; 2])).unwrap_err();
    assert!(short.to_string().contains("shape [3]"), "{short}");
    let discrete = env.step(Action::Discrete(1)).unwrap_err();
    assert!(discrete.to_string().contains("continuous"), "{discrete}");
    let other = MujocoEnv::new(Task::Walker2d).unwrap().snapshot().unwrap();
    let err = env.restore(&other).unwrap_err().to_string();
    assert!(err.contains("Walker2d-v5"), "{err}");
    let err = env.set_state(&[0.0; 3]).unwrap_err().to_string();
    assert!(err.contains("expected 12 values"), "{err}");
}

#[test]
fn an_unstable_simulation_is_an_error_not_a_silent_reset() {
    for task in [Task::Hopper, Task::HalfCheetah, Task::Ant] {
        let mut env = MujocoEnv::new(task).unwrap();
        env.reset(Some(0)).unwrap();
        let mut state = env.state().unwrap().to_vec();
        let n = state.len();
        for v in &mut state[n / 2..] {
            *v = 1e200; // velocities no integrator survives
        }
        env.set_state(&state).unwrap();
        let dim = env.action_space().flat_dim();
        let err = (0..10)
            .find_map(|_| env.step(Action::Continuous(&vec![0.0; dim])).err())
            .unwrap_or_else(|| panic!("{}: no error", task.id()));
        eprintln!("{err}");
        assert!(
            matches!(err, EnvError::Simulation { .. }) && err.to_string().contains(task.id()),
            "{}: {err}",
            task.id()
        );
    }
}

#[test]
fn every_task_renders_through_mujocos_offscreen_renderer() {
    for task in Task::ALL {
        let mut env = MujocoEnv::new(task).unwrap();
        assert_eq!(
            env.render().unwrap_err(),
            EnvError::ResetNeeded,
            "{}",
            task.id()
        );
        env.reset(Some(0)).unwrap();
        let start = std::time::Instant::now();
        let first = env.render().unwrap();
        let dim = env.action_space().flat_dim();
        for _ in 0..5 {
            env.step(Action::Continuous(&vec![0.5; dim])).unwrap();
        }
        let later = env.render().unwrap();
        eprintln!(
            "{}: two frames in {:.0} ms",
            task.id(),
            start.elapsed().as_secs_f64() * 1e3
        );
        assert_eq!(
            (first.width, first.height, first.rgb.len()),
            (480, 480, 480 * 480 * 3)
        );
        // A picture, not a blank: many colours, and the scene moved between the two frames.
        let mut colours: Vec<&[u8]> = first.rgb.chunks(3).collect();
        colours.sort_unstable();
        colours.dedup();
        assert!(
            colours.len() > 50,
            "{}: {} colours",
            task.id(),
            colours.len()
        );
        assert_ne!(first.rgb, later.rgb, "{}", task.id());
    }
}
