//! Every task against episodes recorded from Gymnasium 1.4.0 on MuJoCo 3.17.0
//! (`fixtures/record_gymnasium.py`): each episode starts from its recorded `qpos` / `qvel` and
//! replays its actions open loop; at every step the observation must equal Gymnasium's float64
//! one rounded to float32, `qpos` and `qvel` must be bit-equal, the reward and each reward term
//! must be within 1e-9, and `terminated` / `truncated` must be the same.
//!
//! Two things cannot be bit-equal, and are compared within 1e-9 for that reason:
//! - rewards and their terms that NumPy computes with other summation orders or library calls
//!   (`np.linalg.norm`, `np.einsum` for Humanoid's centre of mass, `x ** 2` through `pow`): the
//!   results differ in the last bits of a float64 only;
//! - nothing else: the float32 control costs are NumPy's to the bit (`src/numpy.rs`), and the
//!   physics is MuJoCo's own C code called in the same order.

#![cfg(feature = "native")]
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::float_cmp,
    reason = "test code: a panic is a test failure; bit-equality is what is checked"
)]

use rl_envs::wrappers::TimeLimit;
use rl_envs::{Action, Env};
use rl_mujoco::{MujocoEnv, Task};
use safetensors::SafeTensors;

struct Episode {
    seed: u64,
    policy: String,
    qpos0: Vec<f64>,
    qvel0: Vec<f64>,
    actions: Vec<Vec<f32>>,
    obs: Vec<Vec<f32>>,
    rewards: Vec<f64>,
    terminated: Vec<bool>,
    truncated: Vec<bool>,
    terms: Vec<Vec<f64>>,
    qpos: Vec<Vec<f64>>,
    qvel: Vec<Vec<f64>>,
}

fn rows<T: Copy>(t: &SafeTensors<'_>, name: &str, parse: fn(&[u8]) -> T) -> Vec<Vec<T>> {
    let view = t.tensor(name).unwrap();
    let shape = view.shape().to_vec();
    let width = std::mem::size_of::<T>();
    let flat: Vec<T> = view.data().chunks_exact(width).map(parse).collect();
    let cols = if shape.len() == 2 {
        shape[1]
    } else {
        flat.len()
    };
    flat.chunks(cols.max(1)).map(<[T]>::to_vec).collect()
}

fn f64s(b: &[u8]) -> f64 {
    f64::from_le_bytes(b.try_into().unwrap())
}

fn f32s(b: &[u8]) -> f32 {
    f32::from_le_bytes(b.try_into().unwrap())
}

fn flags(t: &SafeTensors<'_>, name: &str) -> Vec<bool> {
    t.tensor(name)
        .unwrap()
        .data()
        .iter()
        .map(|&b| b != 0)
        .collect()
}

/// The recorded episodes of `task` and the names of the reward terms.
fn load(task: Task) -> (Vec<String>, Vec<Episode>) {
    let path = format!(
        "{}/tests/fixtures/gymnasium/{}.safetensors",
        env!("CARGO_MANIFEST_DIR"),
        task.id()
    );
    let bytes = std::fs::read(&path).unwrap();
    let (_, meta) = SafeTensors::read_metadata(&bytes).unwrap();
    let meta = meta.metadata().clone().unwrap();
    assert_eq!(meta["mujoco"], "3.17.0");
    assert_eq!(meta["gymnasium"], "1.4.0");
    let terms = meta["terms"].split(',').map(String::from).collect();
    let listed: Vec<serde_json::Value> = serde_json::from_str(&meta["episodes"]).unwrap();
    let t = SafeTensors::deserialize(&bytes).unwrap();
    let episodes = listed
        .iter()
        .enumerate()
        .map(|(k, e)| Episode {
            seed: e["seed"].as_u64().unwrap(),
            policy: e["policy"].as_str().unwrap().to_owned(),
            qpos0: rows(&t, &format!("{k}.qpos0"), f64s).remove(0),
            qvel0: rows(&t, &format!("{k}.qvel0"), f64s).remove(0),
            actions: rows(&t, &format!("{k}.actions"), f32s),
            obs: rows(&t, &format!("{k}.obs"), f32s),
            rewards: rows(&t, &format!("{k}.rewards"), f64s).remove(0),
            terminated: flags(&t, &format!("{k}.terminated")),
            truncated: flags(&t, &format!("{k}.truncated")),
            terms: rows(&t, &format!("{k}.terms"), f64s),
            qpos: rows(&t, &format!("{k}.qpos"), f64s),
            qvel: rows(&t, &format!("{k}.qvel"), f64s),
        })
        .collect();
    (terms, episodes)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9
}

fn replay(task: Task) {
    let (names, episodes) = load(task);
    let limit = task.spec().max_episode_steps.unwrap();
    let mut env = TimeLimit::new(MujocoEnv::new(task).unwrap(), limit).unwrap();
    let mut steps = 0;
    for (k, ep) in episodes.iter().enumerate() {
        let at = |t: usize| {
            format!(
                "{} episode {k} ({}, seed {}) step {t}",
                task.id(),
                ep.policy,
                ep.seed
            )
        };
        env.reset(Some(ep.seed)).unwrap();
        let state: Vec<f64> = ep.qpos0.iter().chain(&ep.qvel0).copied().collect();
        let first = env.set_state(&state).unwrap().to_vec();
        assert_eq!(first, ep.obs[0], "{}: first observation", at(0));
        for (t, action) in ep.actions.iter().enumerate() {
            let s = env.step(Action::Continuous(action)).unwrap();
            let (obs, reward) = (s.observation.to_vec(), s.reward);
            assert_eq!(
                (s.terminated, s.truncated),
                (ep.terminated[t], ep.truncated[t]),
                "{}: flags",
                at(t)
            );
            let state = env.state().unwrap();
            let (qpos, qvel) = state.split_at(ep.qpos0.len());
            if let Some(i) = (0..qpos.len()).find(|&i| qpos[i].to_bits() != ep.qpos[t][i].to_bits())
            {
                panic!(
                    "{}: qpos[{i}] {} vs Gymnasium's {}",
                    at(t),
                    qpos[i],
                    ep.qpos[t][i]
                );
            }
            if let Some(i) = (0..qvel.len()).find(|&i| qvel[i].to_bits() != ep.qvel[t][i].to_bits())
            {
                panic!(
                    "{}: qvel[{i}] {} vs Gymnasium's {}",
                    at(t),
                    qvel[i],
                    ep.qvel[t][i]
                );
            }
            if let Some(i) =
                (0..obs.len()).find(|&i| obs[i].to_bits() != ep.obs[t + 1][i].to_bits())
            {
                panic!(
                    "{}: observation[{i}] {} vs Gymnasium's {}",
                    at(t),
                    obs[i],
                    ep.obs[t + 1][i]
                );
            }
            assert!(
                close(reward, ep.rewards[t]),
                "{}: reward {reward} vs Gymnasium's {}",
                at(t),
                ep.rewards[t]
            );
            let terms = env.inner().reward_terms();
            assert_eq!(
                terms.len(),
                names.len(),
                "{}: reward terms {terms:?}",
                at(t)
            );
            for ((name, value), (want_name, want)) in
                terms.iter().zip(names.iter().zip(&ep.terms[t]))
            {
                assert_eq!(name, want_name, "{}", at(t));
                assert!(
                    close(*value, *want),
                    "{}: {name} {value} vs Gymnasium's {want}",
                    at(t)
                );
            }
            steps += 1;
        }
    }
    assert!(steps > 0);
}

#[test]
fn half_cheetah() {
    replay(Task::HalfCheetah);
}

#[test]
fn hopper() {
    replay(Task::Hopper);
}

#[test]
fn walker2d() {
    replay(Task::Walker2d);
}

#[test]
fn ant() {
    replay(Task::Ant);
}

#[test]
fn humanoid() {
    replay(Task::Humanoid);
}

#[test]
fn swimmer() {
    replay(Task::Swimmer);
}

#[test]
fn inverted_pendulum() {
    replay(Task::InvertedPendulum);
}

#[test]
fn inverted_double_pendulum() {
    replay(Task::InvertedDoublePendulum);
}

#[test]
fn reacher() {
    replay(Task::Reacher);
}

#[test]
fn pusher() {
    replay(Task::Pusher);
}
