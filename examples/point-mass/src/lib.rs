//! A user's own environment, trained by every learner of the workspace through the runner.
//!
//! [`PointMass`] is a point in the square `[-1, 1]²` that must reach a goal: it observes its
//! position and where the goal lies from it, moves by a tenth of its action each step, is rewarded minus its
//! distance to the goal, and the episode ends when it is within 0.15. `PointMass-v0` takes a
//! velocity in `[-1, 1]²` (for SAC); `PointMassDiscrete-v0` one of four moves (±x, ±y; for A2C
//! and ACER). [`register`] adds both ids, with a 50-step limit, to `rl_envs`' registry, after
//! which the runner trains, evaluates, checkpoints and resumes them like the shipped tasks:
//!
//! ```no_run
//! point_mass::register()?;
//! let options = rl_runner::TrainOptions {
//!     algo: "sac".into(),
//!     env: Some("PointMass-v0".into()),
//!     steps: Some(4_000),
//!     ..Default::default()
//! };
//! let summary = rl_runner::train(&options, &rl_runner::parse_device("cpu")?)?;
//! println!("{}", summary.eval_mean_return);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! `src/main.rs` is the whole program (`cargo run -p point-mass`); the README's "Your own
//! environment" shows it.

use rand::{Rng, SeedableRng};
use rl_envs::{Action, BoxSpace, Discrete, Env, EnvError, EnvRng, EnvSpec, Snapshot, Space, Step};
use serde::{Deserialize, Serialize};

/// A point mass in `[-1, 1]²` reaching a goal (see the [crate docs](crate)).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PointMass {
    pos: [f32; 2],
    goal: [f32; 2],
    obs: [f32; 4],
    rng: EnvRng,
    observation_space: Space,
    action_space: Space,
}

impl PointMass {
    /// The env with four discrete moves (`discrete`), or with a velocity in `[-1, 1]²`.
    pub fn new(discrete: bool) -> Result<Self, EnvError> {
        Ok(Self {
            pos: [0.0; 2],
            goal: [0.0; 2],
            obs: [0.0; 4],
            rng: EnvRng::seed_from_u64(0),
            observation_space: Space::Box(BoxSpace::new(
                vec![-1.0, -1.0, -2.0, -2.0],
                vec![1.0, 1.0, 2.0, 2.0],
                vec![4],
            )?),
            action_space: match discrete {
                true => Space::Discrete(Discrete::new(4)?),
                false => Space::Box(BoxSpace::uniform(-1.0, 1.0, 2)?),
            },
        })
    }

    fn observe(&mut self) -> &[f32] {
        let [x, y] = self.pos;
        self.obs = [x, y, self.goal[0] - x, self.goal[1] - y];
        &self.obs
    }
}

impl Env for PointMass {
    fn id(&self) -> &str {
        match self.action_space {
            Space::Discrete(_) => "PointMassDiscrete-v0",
            Space::Box(_) => "PointMass-v0",
        }
    }

    fn observation_space(&self) -> &Space {
        &self.observation_space
    }

    fn action_space(&self) -> &Space {
        &self.action_space
    }

    fn reset(&mut self, seed: Option<u64>) -> Result<&[f32], EnvError> {
        if let Some(seed) = seed {
            self.rng = EnvRng::seed_from_u64(seed);
        }
        for x in self.pos.iter_mut().chain(&mut self.goal) {
            *x = self.rng.random_range(-1.0..1.0);
        }
        Ok(self.observe())
    }

    fn step(&mut self, action: Action<'_>) -> Result<Step<'_>, EnvError> {
        const MOVES: [[f32; 2]; 4] = [[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]];
        let velocity = match self.action_space {
            Space::Discrete(_) => MOVES[action.expect_discrete(self.id(), 4)?],
            Space::Box(_) => {
                let a = action.expect_continuous(self.id(), 2)?;
                [a[0].clamp(-1.0, 1.0), a[1].clamp(-1.0, 1.0)]
            }
        };
        for (x, v) in self.pos.iter_mut().zip(velocity) {
            *x = (*x + 0.1 * v).clamp(-1.0, 1.0);
        }
        let distance = (self.pos[0] - self.goal[0]).hypot(self.pos[1] - self.goal[1]);
        Ok(Step {
            reward: -f64::from(distance),
            terminated: distance < 0.15,
            truncated: false,
            observation: self.observe(),
        })
    }

    fn snapshot(&self) -> Result<Snapshot, EnvError> {
        rl_envs::snapshot_of(self.id(), self)
    }

    fn restore(&mut self, snapshot: &Snapshot) -> Result<(), EnvError> {
        *self = rl_envs::restore_from(self.id(), snapshot)?;
        Ok(())
    }
}

/// Registers `PointMass-v0` and `PointMassDiscrete-v0` with a 50-step time limit and a reward
/// threshold of −15 (a random policy gets about −50).
pub fn register() -> Result<(), EnvError> {
    for (id, discrete) in [("PointMass-v0", false), ("PointMassDiscrete-v0", true)] {
        let spec = EnvSpec::new(id)
            .with_max_episode_steps(50)
            .with_reward_threshold(-15.0);
        rl_envs::register(spec, move || PointMass::new(discrete))?;
    }
    Ok(())
}
