//! CartPole-v1: Gymnasium's `classic_control/cartpole.py`.

use crate::env::{check_state, snapshot_via_serde};
use crate::rng::{EnvRng, reseed, uniform};
use crate::{Action, BoxSpace, Discrete, Env, EnvError, Space, Step};

const GRAVITY: f64 = 9.8;
const MASSCART: f64 = 1.0;
const MASSPOLE: f64 = 0.1;
const TOTAL_MASS: f64 = MASSPOLE + MASSCART;
/// Half the pole's length.
const LENGTH: f64 = 0.5;
const POLEMASS_LENGTH: f64 = MASSPOLE * LENGTH;
const FORCE_MAG: f64 = 10.0;
/// Seconds between state updates.
const TAU: f64 = 0.02;
/// 12 degrees, computed as Gymnasium does.
const THETA_THRESHOLD_RADIANS: f64 = 12.0 * 2.0 * std::f64::consts::PI / 360.0;
const X_THRESHOLD: f64 = 2.4;

/// A pole balanced on a cart (Barto, Sutton & Anderson 1983), exactly as Gymnasium's `CartPoleEnv`.
///
/// - Observation: `[x, ẋ, θ, θ̇]` (float32 of the float64 state).
/// - Actions: `Discrete(2)`, 0 pushes left and 1 pushes right with force 10.
/// - Reward: +1 on every step, the terminating one included; 0 for steps taken after termination.
/// - Termination: `|x| > 2.4` or `|θ| > 12°`. No time limit here: [`make`](crate::make)`("CartPole-v1")`
///   adds the 500-step limit.
/// - Reset: each state variable uniform in `[-0.05, 0.05)`.
///
/// State (as [`Env::state`] and [`Env::set_state`]): `[x, ẋ, θ, θ̇]`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct CartPole {
    state: Option<[f64; 4]>,
    steps_beyond_terminated: Option<u64>,
    obs: [f32; 4],
    rng: Option<EnvRng>,
    observation_space: Space,
    action_space: Space,
}

impl Default for CartPole {
    fn default() -> Self {
        Self::new()
    }
}

impl CartPole {
    /// A cart-pole that needs a `reset` before its first step.
    pub fn new() -> Self {
        let high = [
            (X_THRESHOLD * 2.0) as f32,
            f32::INFINITY,
            (THETA_THRESHOLD_RADIANS * 2.0) as f32,
            f32::INFINITY,
        ];
        Self {
            state: None,
            steps_beyond_terminated: None,
            obs: [0.0; 4],
            rng: None,
            observation_space: Space::Box(BoxSpace::symmetric(&high)),
            action_space: Space::Discrete(Discrete::constant(2)),
        }
    }

    fn observe(&mut self, s: [f64; 4]) -> &[f32] {
        self.obs = s.map(|v| v as f32);
        &self.obs
    }
}

impl Env for CartPole {
    snapshot_via_serde!();

    fn id(&self) -> &str {
        "CartPole-v1"
    }

    fn observation_space(&self) -> &Space {
        &self.observation_space
    }

    fn action_space(&self) -> &Space {
        &self.action_space
    }

    fn reset(&mut self, seed: Option<u64>) -> Result<&[f32], EnvError> {
        let rng = reseed(&mut self.rng, seed);
        let s = std::array::from_fn(|_| uniform(rng, -0.05, 0.05));
        self.state = Some(s);
        self.steps_beyond_terminated = None;
        Ok(self.observe(s))
    }

    fn step(&mut self, action: Action<'_>) -> Result<Step<'_>, EnvError> {
        let action = action.expect_discrete(self.id(), 2)?;
        let [mut x, mut x_dot, mut theta, mut theta_dot] =
            self.state.ok_or(EnvError::ResetNeeded)?;

        let force = if action == 1 { FORCE_MAG } else { -FORCE_MAG };
        let costheta = theta.cos();
        let sintheta = theta.sin();
        // Florian (2007), "Correct equations for the dynamics of the cart-pole system", as in Gymnasium.
        let temp = (force + POLEMASS_LENGTH * (theta_dot * theta_dot) * sintheta) / TOTAL_MASS;
        let thetaacc = (GRAVITY * sintheta - costheta * temp)
            / (LENGTH * (4.0 / 3.0 - MASSPOLE * (costheta * costheta) / TOTAL_MASS));
        let xacc = temp - POLEMASS_LENGTH * thetaacc * costheta / TOTAL_MASS;

        // Explicit Euler, in Gymnasium's order.
        x += TAU * x_dot;
        x_dot += TAU * xacc;
        theta += TAU * theta_dot;
        theta_dot += TAU * thetaacc;
        let s = [x, x_dot, theta, theta_dot];
        self.state = Some(s);

        let terminated = !(-X_THRESHOLD..=X_THRESHOLD).contains(&x)
            || !(-THETA_THRESHOLD_RADIANS..=THETA_THRESHOLD_RADIANS).contains(&theta);
        let reward = if !terminated {
            1.0
        } else if let Some(n) = self.steps_beyond_terminated.as_mut() {
            // Stepping after termination is undefined in the task; Gymnasium gives 0.
            *n += 1;
            0.0
        } else {
            self.steps_beyond_terminated = Some(0);
            1.0
        };
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
        let s = check_state::<4>(self.id(), state)?;
        self.state = Some(s);
        self.steps_beyond_terminated = None;
        Ok(self.observe(s))
    }

    fn render(&self) -> Result<crate::Frame, EnvError> {
        let state = self.state.ok_or(EnvError::ResetNeeded)?;
        super::render::cartpole(state, self.id())
    }
}
