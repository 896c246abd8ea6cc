//! `check_env` passes every shipped environment and names what a broken one breaks.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

use rl_envs::{Action, BoxSpace, Discrete, Env, EnvError, Space, Step, check_env, known_ids, make};

#[test]
fn every_shipped_environment_passes() {
    for id in known_ids() {
        let mut env = make(&id).unwrap();
        let report = check_env(env.as_mut(), 3, 600).unwrap_or_else(|e| panic!("{id}: {e}"));
        assert_eq!(report.steps, 600, "{id}");
        assert!(report.snapshot_checked, "{id}: snapshot not checked");
        assert!(report.warnings.is_empty(), "{id}: {:?}", report.warnings);
    }
}

/// A one-dimensional env with a switchable defect.
struct Broken {
    defect: &'static str,
    obs: Vec<f32>,
    obs_space: Space,
    action_space: Space,
    t: u64,
    calls: u64,
}

impl Broken {
    fn new(defect: &'static str) -> Self {
        Self {
            defect,
            obs: vec![0.0],
            obs_space: Space::Box(BoxSpace::uniform(-1.0, 1.0, 1).unwrap()),
            action_space: Space::Discrete(Discrete::new(2).unwrap()),
            t: 0,
            calls: 0,
        }
    }
}

impl Env for Broken {
    fn id(&self) -> &str {
        "Broken-v0"
    }
    fn observation_space(&self) -> &Space {
        &self.obs_space
    }
    fn action_space(&self) -> &Space {
        &self.action_space
    }
    fn reset(&mut self, _seed: Option<u64>) -> Result<&[f32], EnvError> {
        self.t = 0;
        self.calls += 1;
        self.obs = match self.defect {
            "wrong length" => vec![0.0, 0.0],
            "not seeded" => vec![(self.calls % 7) as f32 / 10.0],
            _ => vec![0.0],
        };
        Ok(&self.obs)
    }
    fn step(&mut self, action: Action<'_>) -> Result<Step<'_>, EnvError> {
        let a = match (self.defect, action) {
            ("accepts anything", Action::Discrete(i)) => i,
            _ => action.expect_discrete("Broken-v0", 2)?,
        };
        self.t += 1;
        self.obs = vec![if self.defect == "nan" && self.t == 3 {
            f32::NAN
        } else {
            a as f32 * 0.5
        }];
        let reward = if self.defect == "infinite reward" {
            f64::INFINITY
        } else {
            1.0
        };
        Ok(Step {
            observation: &self.obs,
            reward,
            terminated: self.t >= 5,
            truncated: false,
        })
    }
}

#[test]
fn a_broken_environment_is_named_with_its_defect() {
    for (defect, expect) in [
        ("wrong length", "2 components"),
        ("not seeded", "twice gave different observations"),
        ("nan", "component 0 is NaN"),
        ("infinite reward", "reward inf"),
        ("accepts anything", "step accepted the discrete action 2"),
    ] {
        let mut env = Broken::new(defect);
        let err = check_env(&mut env, 0, 50).unwrap_err();
        assert!(
            matches!(err, EnvError::CheckFailed { .. }),
            "{defect}: {err}"
        );
        assert!(err.to_string().contains(expect), "{defect}: {err}");
    }
    // Without a defect it passes (no snapshot support: not checked, not an error).
    let report = check_env(&mut Broken::new("none"), 0, 50).unwrap();
    assert!(!report.snapshot_checked);
    assert_eq!(report.episodes, 10);
}
