//! A user's environment through the runner: it passes `check_env`, every learner resumes it
//! exactly, a broken env fails at the start with `check_env`'s message and leaves no run
//! folder, and an env without snapshots still checkpoints and resumes (not bit for bit).

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

use std::path::Path;
use std::sync::Once;

use point_mass::PointMass;
use rl_envs::{Action, Env, EnvError, EnvSpec, Space, Step, check_env};
use rl_runner::{TrainOptions, parse_device, train};

/// The example's ids and this file's broken envs, registered once for all tests.
fn setup() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        point_mass::register().unwrap();
        let limited = |id: &str| EnvSpec::new(id).with_max_episode_steps(50);
        rl_envs::register(limited("PointMassWideObs-v0"), || {
            Ok(Defective::new(Defect::WideObservation))
        })
        .unwrap();
        rl_envs::register(limited("PointMassNoSnapshot-v0"), || {
            Ok(Defective::new(Defect::NoSnapshot))
        })
        .unwrap();
    });
}

#[derive(Clone, Copy)]
enum Defect {
    /// Returns 5 components where the observation space declares 4.
    WideObservation,
    /// Keeps the contract but does not implement `snapshot` / `restore`.
    NoSnapshot,
}

struct Defective {
    inner: PointMass,
    defect: Defect,
    obs: Vec<f32>,
}

impl Defective {
    fn new(defect: Defect) -> Self {
        Self {
            inner: PointMass::new(true).unwrap(),
            defect,
            obs: Vec::new(),
        }
    }

    fn observe(&mut self, obs: Vec<f32>) -> &[f32] {
        self.obs = obs;
        if let Defect::WideObservation = self.defect {
            self.obs.push(0.0);
        }
        &self.obs
    }
}

impl Env for Defective {
    fn id(&self) -> &str {
        match self.defect {
            Defect::WideObservation => "PointMassWideObs-v0",
            Defect::NoSnapshot => "PointMassNoSnapshot-v0",
        }
    }
    fn observation_space(&self) -> &Space {
        self.inner.observation_space()
    }
    fn action_space(&self) -> &Space {
        self.inner.action_space()
    }
    fn reset(&mut self, seed: Option<u64>) -> Result<&[f32], EnvError> {
        let obs = self.inner.reset(seed)?.to_vec();
        Ok(self.observe(obs))
    }
    fn step(&mut self, action: Action<'_>) -> Result<Step<'_>, EnvError> {
        let s = self.inner.step(action)?;
        let (obs, reward, terminated, truncated) =
            (s.observation.to_vec(), s.reward, s.terminated, s.truncated);
        Ok(Step {
            observation: self.observe(obs),
            reward,
            terminated,
            truncated,
        })
    }
}

fn options(algo: &str, env: &str, out: &Path, steps: u64) -> TrainOptions {
    let sets: &[&str] = match algo {
        "sac" => &["learning_starts=200", "net_arch=[32,32]", "batch_size=32"],
        // A split run's first half ends its own linear learning-rate schedule early; a constant
        // rate lets the halves equal the whole run.
        "acer" => &["n_envs=4", "lr_schedule=\"constant\""],
        "ppo" => &["n_envs=4", "n_steps=64", "batch_size=64", "n_epochs=2"],
        _ => &["n_envs=4"],
    };
    TrainOptions {
        algo: algo.into(),
        env: Some(env.into()),
        steps: Some(steps),
        out: Some(out.to_path_buf()),
        save_buffer: true,
        sets: sets
            .iter()
            .map(|s| s.to_string())
            .chain(["run.eval_freq=500", "run.eval_episodes=2"].map(String::from))
            .collect(),
        ..TrainOptions::default()
    }
}

fn resume(algo: &str, dir: &Path, steps: u64) -> TrainOptions {
    TrainOptions {
        algo: algo.into(),
        steps: Some(steps),
        resume: Some(dir.to_path_buf()),
        ..TrainOptions::default()
    }
}

/// A metrics file without its `wall_seconds` column.
fn metrics(dir: &Path, name: &str) -> String {
    let text = std::fs::read_to_string(dir.join("metrics").join(name)).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    let skip = header.iter().position(|c| *c == "wall_seconds");
    text.lines()
        .map(|l| {
            let cells = l.split(',').enumerate().filter(|(i, _)| Some(*i) != skip);
            cells.map(|(_, v)| v).collect::<Vec<_>>().join(",")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn both_versions_keep_the_env_contract() {
    setup();
    for id in ["PointMass-v0", "PointMassDiscrete-v0"] {
        let mut env = rl_envs::make(id).unwrap();
        let report = check_env(env.as_mut(), 7, 500).unwrap();
        assert!(
            report.snapshot_checked && report.warnings.is_empty(),
            "{id}: {report:?}"
        );
        assert_eq!(env.max_episode_steps(), Some(50));
    }
}

#[test]
fn every_learner_resumes_the_users_env_exactly() {
    setup();
    let device = parse_device("cpu").unwrap();
    for (algo, env, steps) in [
        ("sac", "PointMass-v0", 1_000),
        ("a2c", "PointMassDiscrete-v0", 4_000),
        ("acer", "PointMassDiscrete-v0", 4_000),
        ("ppo", "PointMass-v0", 4_096),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let (straight, split) = (tmp.path().join("straight"), tmp.path().join("split"));
        let whole = train(&options(algo, env, &straight, steps), &device).unwrap();
        train(&options(algo, env, &split, steps / 2), &device).unwrap();
        let resumed = train(&resume(algo, &split, steps), &device).unwrap();
        for f in ["train.csv", "episodes.csv", "eval.csv"] {
            assert_eq!(
                metrics(&straight, f),
                metrics(&split, f),
                "{algo}: {f} differs"
            );
        }
        assert_eq!(whole.eval_returns, resumed.eval_returns, "{algo}");
        assert_eq!(resumed.env, env);
    }
}

#[test]
fn an_env_that_breaks_its_contract_fails_at_the_start_and_leaves_nothing() {
    setup();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    for algo in ["sac", "a2c", "acer"] {
        let o = options(algo, "PointMassWideObs-v0", &out, 1_000);
        let err = train(&o, &parse_device("cpu").unwrap())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("check_env(PointMassWideObs-v0)")
                && err.contains("5 components; the observation space has 4"),
            "{algo}: {err}"
        );
        assert!(
            !out.exists(),
            "{algo}: a failed start left {}",
            out.display()
        );
    }
}

#[test]
fn an_env_without_snapshots_checkpoints_and_resumes_with_new_episodes() {
    setup();
    let device = parse_device("cpu").unwrap();
    for algo in ["sac", "a2c", "acer"] {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("run");
        // Discrete actions: SAC is discrete SAC here.
        train(
            &options(algo, "PointMassNoSnapshot-v0", &dir, 1_000),
            &device,
        )
        .unwrap();
        let s = train(&resume(algo, &dir, 2_000), &device).unwrap();
        assert_eq!(s.env_steps, 2_000, "{algo}");
        assert!(s.eval_mean_return.is_finite(), "{algo}");
    }
}

#[test]
fn a_random_policy_is_far_below_the_reward_threshold() {
    setup();
    use rand::SeedableRng;
    for id in ["PointMass-v0", "PointMassDiscrete-v0"] {
        let mut env = rl_envs::make(id).unwrap();
        let mut rng = rl_envs::EnvRng::seed_from_u64(0);
        let mut total = 0.0;
        for i in 0..10 {
            env.reset(Some(rl_runner::eval_seed(0, i))).unwrap();
            loop {
                let action = env.action_space().sample(&mut rng);
                let s = env.step(action.as_action()).unwrap();
                total += s.reward;
                if s.done() {
                    break;
                }
            }
        }
        let threshold = rl_envs::spec(id).unwrap().reward_threshold.unwrap();
        assert!(
            total / 10.0 < 2.0 * threshold,
            "{id}: random policy {}",
            total / 10.0
        );
    }
}
