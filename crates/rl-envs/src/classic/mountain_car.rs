//! MountainCar-v0 and MountainCarContinuous-v0: Gymnasium's `classic_control/mountain_car.py` and
//! `continuous_mountain_car.py`.

use crate::env::{check_state, snapshot_via_serde};
use crate::rng::{EnvRng, reseed, uniform};
use crate::{Action, BoxSpace, Discrete, Env, EnvError, Space, Step};

const MIN_POSITION: f64 = -1.2;
const MAX_POSITION: f64 = 0.6;
const MAX_SPEED: f64 = 0.07;

fn observation_space() -> Space {
    Space::Box(BoxSpace::from_bounds(
        &[MIN_POSITION as f32, -MAX_SPEED as f32],
        &[MAX_POSITION as f32, MAX_SPEED as f32],
    ))
}

/// A car in a valley that must rock back and forth to reach the hill top (Moore 1990), exactly as
/// Gymnasium's `MountainCarEnv`.
///
/// - Observation: `[position, velocity]`.
/// - Actions: `Discrete(3)`: accelerate left, don't, accelerate right.
/// - Reward: −1 per step.
/// - Termination: `position >= 0.5` and `velocity >= goal_velocity` (0 by default).
///   [`make`](crate::make)`("MountainCar-v0")` adds the 200-step limit.
/// - Reset: position uniform in `[-0.6, -0.4)`, velocity 0.
///
/// Velocity is clipped to ±0.07, position to `[-1.2, 0.6]`, and the velocity is zeroed when the car
/// hits the left wall while moving left.
///
/// State (as [`Env::state`] and [`Env::set_state`]): `[position, velocity]`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct MountainCar {
    goal_velocity: f64,
    state: Option<[f64; 2]>,
    obs: [f32; 2],
    rng: Option<EnvRng>,
    observation_space: Space,
    action_space: Space,
}

impl Default for MountainCar {
    fn default() -> Self {
        Self::new()
    }
}

impl MountainCar {
    const FORCE: f64 = 0.001;
    const GRAVITY: f64 = 0.0025;
    const GOAL_POSITION: f64 = 0.5;

    /// The standard task (goal velocity 0).
    pub fn new() -> Self {
        Self::with_goal_velocity(0.0)
    }

    /// The task with a minimum velocity at the goal (Gymnasium's `goal_velocity`).
    pub fn with_goal_velocity(goal_velocity: f64) -> Self {
        Self {
            goal_velocity,
            state: None,
            obs: [0.0; 2],
            rng: None,
            observation_space: observation_space(),
            action_space: Space::Discrete(Discrete::constant(3)),
        }
    }

    fn observe(&mut self, s: [f64; 2]) -> &[f32] {
        self.obs = s.map(|v| v as f32);
        &self.obs
    }
}

impl Env for MountainCar {
    snapshot_via_serde!();

    fn id(&self) -> &str {
        "MountainCar-v0"
    }

    fn observation_space(&self) -> &Space {
        &self.observation_space
    }

    fn action_space(&self) -> &Space {
        &self.action_space
    }

    fn reset(&mut self, seed: Option<u64>) -> Result<&[f32], EnvError> {
        let rng = reseed(&mut self.rng, seed);
        let s = [uniform(rng, -0.6, -0.4), 0.0];
        self.state = Some(s);
        Ok(self.observe(s))
    }

    fn step(&mut self, action: Action<'_>) -> Result<Step<'_>, EnvError> {
        let action = action.expect_discrete(self.id(), 3)?;
        let [mut position, mut velocity] = self.state.ok_or(EnvError::ResetNeeded)?;

        let push = (action as f64 - 1.0) * Self::FORCE;
        velocity += push + (3.0 * position).cos() * (-Self::GRAVITY);
        velocity = velocity.clamp(-MAX_SPEED, MAX_SPEED);
        position += velocity;
        position = position.clamp(MIN_POSITION, MAX_POSITION);
        if position == MIN_POSITION && velocity < 0.0 {
            velocity = 0.0;
        }
        let terminated = position >= Self::GOAL_POSITION && velocity >= self.goal_velocity;

        let s = [position, velocity];
        self.state = Some(s);
        Ok(Step {
            observation: self.observe(s),
            reward: -1.0,
            terminated,
            truncated: false,
        })
    }

    fn state(&self) -> Option<&[f64]> {
        self.state.as_ref().map(|s| s.as_slice())
    }

    fn set_state(&mut self, state: &[f64]) -> Result<&[f32], EnvError> {
        let s = check_state::<2>(self.id(), state)?;
        self.state = Some(s);
        Ok(self.observe(s))
    }

    fn render(&self) -> Result<crate::Frame, EnvError> {
        let [position, _] = self.state.ok_or(EnvError::ResetNeeded)?;
        super::render::mountain_car(position, Self::GOAL_POSITION, self.id())
    }
}

/// The mountain car with a continuous throttle, exactly as Gymnasium's `Continuous_MountainCarEnv`.
///
/// - Observation: `[position, velocity]`.
/// - Action: force in `Box[-1, 1]`; the dynamics clip it to that range, the reward does not.
/// - Reward: `100` on reaching the goal, minus `0.1 a²` every step (`a` as given, unclipped).
/// - Termination: `position >= 0.45` and `velocity >= goal_velocity` (0 by default).
///   [`make`](crate::make)`("MountainCarContinuous-v0")` adds the 999-step limit.
/// - Reset: position uniform in `[-0.6, -0.4)`, velocity 0.
///
/// Gymnasium keeps this env's state in float64 right after `reset` and in float32 after every step,
/// and NumPy's promotion rules make the arithmetic follow: the first step of an episode is computed
/// in float64, later ones mostly in float32. This port does the same, so it matches step for step.
/// [`Env::set_state`] sets a float64 state (as `reset` does); [`MountainCarContinuous::set_state_f32`]
/// sets a float32 one (as a step leaves it).
///
/// State (as [`Env::state`]): `[position, velocity]`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct MountainCarContinuous {
    goal_velocity: f64,
    state: Option<[f64; 2]>,
    /// Whether `state` holds float32 values with float32 semantics (true after a step).
    state_is_f32: bool,
    obs: [f32; 2],
    rng: Option<EnvRng>,
    observation_space: Space,
    action_space: Space,
}

impl Default for MountainCarContinuous {
    fn default() -> Self {
        Self::new()
    }
}

impl MountainCarContinuous {
    const POWER: f64 = 0.0015;
    const GOAL_POSITION: f64 = 0.45;

    /// The standard task (goal velocity 0).
    pub fn new() -> Self {
        Self::with_goal_velocity(0.0)
    }

    /// The task with a minimum velocity at the goal (Gymnasium's `goal_velocity`).
    pub fn with_goal_velocity(goal_velocity: f64) -> Self {
        Self {
            goal_velocity,
            state: None,
            state_is_f32: false,
            obs: [0.0; 2],
            rng: None,
            observation_space: observation_space(),
            action_space: Space::Box(BoxSpace::symmetric(&[1.0])),
        }
    }

    /// Sets a float32 state, as Gymnasium's state is after a step, and returns its observation.
    pub fn set_state_f32(&mut self, state: [f32; 2]) -> Result<&[f32], EnvError> {
        let s = check_state::<2>(self.id(), &state.map(f64::from))?;
        self.state = Some(s);
        self.state_is_f32 = true;
        Ok(self.observe(s))
    }

    fn observe(&mut self, s: [f64; 2]) -> &[f32] {
        self.obs = s.map(|v| v as f32);
        &self.obs
    }

    /// One step from a float64 state (the first step after `reset`): NumPy float64 arithmetic,
    /// except the float32 action term.
    fn dynamics_f64(&self, [mut position, mut velocity]: [f64; 2], force: Force) -> [f64; 2] {
        let slope = 0.0025 * (3.0 * position).cos();
        velocity += match force {
            Force::F32(a) => f64::from(a * Self::POWER as f32 - slope as f32),
            Force::Limit(f) => f * Self::POWER - slope,
        };
        velocity = velocity.clamp(-MAX_SPEED, MAX_SPEED);
        position += velocity;
        position = position.clamp(MIN_POSITION, MAX_POSITION);
        if position == MIN_POSITION && velocity < 0.0 {
            velocity = 0.0;
        }
        [position, velocity]
    }

    /// One step from a float32 state: float32 arithmetic, with Python-float constants rounded to
    /// float32 first (NumPy 2's "weak" scalars), and the slope term's cosine taken in float64.
    fn dynamics_f32(&self, [position, velocity]: [f32; 2], force: Force) -> [f32; 2] {
        let (mut position, mut velocity) = (position, velocity);
        let slope = 0.0025 * f64::from(3.0_f32 * position).cos();
        velocity += match force {
            Force::F32(a) => a * Self::POWER as f32 - slope as f32,
            Force::Limit(f) => (f * Self::POWER - slope) as f32,
        };
        velocity = velocity.clamp(-MAX_SPEED as f32, MAX_SPEED as f32);
        position += velocity;
        position = position.clamp(MIN_POSITION as f32, MAX_POSITION as f32);
        if position == MIN_POSITION as f32 && velocity < 0.0 {
            velocity = 0.0;
        }
        [position, velocity]
    }
}

/// The force after Gymnasium's `min(max(a, -1.0), 1.0)`: the float32 action itself, or a
/// Python-float limit when the action was outside `[-1, 1]` (which changes the arithmetic).
#[derive(Debug, Clone, Copy)]
enum Force {
    F32(f32),
    Limit(f64),
}

impl Env for MountainCarContinuous {
    snapshot_via_serde!();

    fn id(&self) -> &str {
        "MountainCarContinuous-v0"
    }

    fn observation_space(&self) -> &Space {
        &self.observation_space
    }

    fn action_space(&self) -> &Space {
        &self.action_space
    }

    fn reset(&mut self, seed: Option<u64>) -> Result<&[f32], EnvError> {
        let rng = reseed(&mut self.rng, seed);
        let s = [uniform(rng, -0.6, -0.4), 0.0];
        self.state = Some(s);
        self.state_is_f32 = false;
        Ok(self.observe(s))
    }

    fn step(&mut self, action: Action<'_>) -> Result<Step<'_>, EnvError> {
        let a = action.expect_continuous(self.id(), 1)?[0];
        let s = self.state.ok_or(EnvError::ResetNeeded)?;
        let force = if a < -1.0 {
            Force::Limit(-1.0)
        } else if a > 1.0 {
            Force::Limit(1.0)
        } else {
            Force::F32(a)
        };

        let [position, velocity] = if self.state_is_f32 {
            self.dynamics_f32(s.map(|v| v as f32), force).map(f64::from)
        } else {
            self.dynamics_f64(s, force)
        };
        let terminated = if self.state_is_f32 {
            position as f32 >= Self::GOAL_POSITION as f32
                && velocity as f32 >= self.goal_velocity as f32
        } else {
            position >= Self::GOAL_POSITION && velocity >= self.goal_velocity
        };
        let a = f64::from(a);
        let reward = (if terminated { 100.0 } else { 0.0 }) - a * a * 0.1;

        // Gymnasium stores the new state as a float32 array.
        let s = [position as f32, velocity as f32].map(f64::from);
        self.state = Some(s);
        self.state_is_f32 = true;
        Ok(Step {
            observation: self.observe(s),
            reward,
            terminated,
            truncated: false,
        })
    }

    fn state(&self) -> Option<&[f64]> {
        self.state.as_ref().map(|s| s.as_slice())
    }

    fn set_state(&mut self, state: &[f64]) -> Result<&[f32], EnvError> {
        let s = check_state::<2>(self.id(), state)?;
        self.state = Some(s);
        self.state_is_f32 = false;
        Ok(self.observe(s))
    }

    fn render(&self) -> Result<crate::Frame, EnvError> {
        let [position, _] = self.state.ok_or(EnvError::ResetNeeded)?;
        super::render::mountain_car(position, Self::GOAL_POSITION, self.id())
    }
}
