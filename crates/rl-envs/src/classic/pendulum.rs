//! Pendulum-v1: Gymnasium's `classic_control/pendulum.py`.

use std::f64::consts::PI;

use super::{py_square, py_square_f32};
use crate::env::{check_state, snapshot_via_serde};
use crate::rng::{EnvRng, reseed, uniform};
use crate::{Action, BoxSpace, Env, EnvError, Space, Step};

const MAX_SPEED: f64 = 8.0;
const MAX_TORQUE: f32 = 2.0;
const DT: f64 = 0.05;
const M: f64 = 1.0;
const L: f64 = 1.0;

/// The inverted-pendulum swing-up, exactly as Gymnasium's `PendulumEnv`.
///
/// - Observation: `[cos θ, sin θ, θ̇]`.
/// - Action: torque in `Box[-2, 2]`; values outside are clipped to it (as Gymnasium's `np.clip`).
/// - Reward: `-(norm(θ)² + 0.1 θ̇² + 0.001 u²)` on the state before the step, with `norm` wrapping θ
///   into `[-π, π)`; the torque term is computed in float32 as NumPy does for a float32 action.
/// - Never terminates. [`make`](crate::make)`("Pendulum-v1")` adds the 200-step limit.
/// - Reset: θ uniform in `[-π, π)`, θ̇ uniform in `[-1, 1)`.
///
/// The angle in the state is not wrapped (θ grows past ±π as the pendulum spins), and θ̇ is clipped
/// to ±8 before θ is integrated.
///
/// State (as [`Env::state`] and [`Env::set_state`]): `[θ, θ̇]`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Pendulum {
    g: f64,
    state: Option<[f64; 2]>,
    /// The last torque applied (clipped), drawn by `render` as Gymnasium's `last_u`.
    #[serde(default)]
    last_u: Option<f32>,
    obs: [f32; 3],
    rng: Option<EnvRng>,
    observation_space: Space,
    action_space: Space,
}

impl Default for Pendulum {
    fn default() -> Self {
        Self::new()
    }
}

impl Pendulum {
    /// A pendulum with Gymnasium's default gravity, 10.
    pub fn new() -> Self {
        Self::with_gravity(10.0)
    }

    /// A pendulum with gravity `g` (Gymnasium's `make("Pendulum-v1", g=...)`).
    pub fn with_gravity(g: f64) -> Self {
        Self {
            g,
            state: None,
            last_u: None,
            obs: [0.0; 3],
            rng: None,
            observation_space: Space::Box(BoxSpace::symmetric(&[1.0, 1.0, MAX_SPEED as f32])),
            action_space: Space::Box(BoxSpace::symmetric(&[MAX_TORQUE])),
        }
    }

    fn observe(&mut self, [theta, theta_dot]: [f64; 2]) -> &[f32] {
        self.obs = [theta.cos() as f32, theta.sin() as f32, theta_dot as f32];
        &self.obs
    }
}

/// `((x + π) mod 2π) - π` with NumPy's floored modulo (the result takes the divisor's sign).
fn angle_normalize(x: f64) -> f64 {
    numpy_mod(x + PI, 2.0 * PI) - PI
}

/// NumPy's `%` on float64 (`npy_divmod`): `fmod`, shifted into the divisor's sign, `+0` for zero.
fn numpy_mod(a: f64, b: f64) -> f64 {
    let m = a % b;
    if m == 0.0 {
        0.0_f64.copysign(b)
    } else if (b < 0.0) != (m < 0.0) {
        m + b
    } else {
        m
    }
}

impl Env for Pendulum {
    snapshot_via_serde!();

    fn id(&self) -> &str {
        "Pendulum-v1"
    }

    fn observation_space(&self) -> &Space {
        &self.observation_space
    }

    fn action_space(&self) -> &Space {
        &self.action_space
    }

    fn reset(&mut self, seed: Option<u64>) -> Result<&[f32], EnvError> {
        let rng = reseed(&mut self.rng, seed);
        let s = [uniform(rng, -PI, PI), uniform(rng, -1.0, 1.0)];
        self.state = Some(s);
        self.last_u = None;
        Ok(self.observe(s))
    }

    fn step(&mut self, action: Action<'_>) -> Result<Step<'_>, EnvError> {
        let u = action.expect_continuous(self.id(), 1)?[0].clamp(-MAX_TORQUE, MAX_TORQUE);
        let [th, thdot] = self.state.ok_or(EnvError::ResetNeeded)?;

        // NumPy evaluates the float32 torque terms in float32 (Python floats are "weak").
        let torque_cost = f64::from(0.001_f32 * py_square_f32(u));
        let costs = py_square(angle_normalize(th)) + 0.1 * py_square(thdot) + torque_cost;

        let torque_acc = f64::from((3.0 / (M * L * L)) as f32 * u);
        let newthdot = thdot + (3.0 * self.g / (2.0 * L) * th.sin() + torque_acc) * DT;
        let newthdot = newthdot.clamp(-MAX_SPEED, MAX_SPEED);
        let newth = th + newthdot * DT;

        let s = [newth, newthdot];
        self.state = Some(s);
        self.last_u = Some(u);
        Ok(Step {
            observation: self.observe(s),
            reward: -costs,
            terminated: false,
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
        let [theta, _] = self.state.ok_or(EnvError::ResetNeeded)?;
        super::render::pendulum(theta, self.last_u, self.id())
    }
}

impl Pendulum {
    /// Sets the torque `render` draws as an arrow (what the last step applied; none after a reset),
    /// as Gymnasium's `env.unwrapped.last_u = ...` does.
    pub fn set_last_torque(&mut self, u: Option<f32>) {
        self.last_u = u;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numpy_modulo_takes_the_divisors_sign() {
        assert_eq!(numpy_mod(5.0, 3.0), 2.0);
        assert_eq!(numpy_mod(-1.0, 3.0), 2.0);
        assert_eq!(numpy_mod(-6.0, 3.0).to_bits(), 0.0_f64.to_bits());
        assert_eq!(
            angle_normalize(3.0 * PI),
            numpy_mod(4.0 * PI, 2.0 * PI) - PI
        );
    }
}
