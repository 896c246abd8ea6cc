//! Acrobot-v1: Gymnasium's `classic_control/acrobot.py`.

use std::f64::consts::PI;

use super::py_square;
use crate::env::{check_state, snapshot_via_serde};
use crate::rng::{EnvRng, reseed, uniform};
use crate::{Action, BoxSpace, Discrete, Env, EnvError, Space, Step};

const DT: f64 = 0.2;
const LINK_LENGTH_1: f64 = 1.0;
const LINK_MASS_1: f64 = 1.0;
const LINK_MASS_2: f64 = 1.0;
const LINK_COM_POS_1: f64 = 0.5;
const LINK_COM_POS_2: f64 = 0.5;
const LINK_MOI: f64 = 1.0;
const MAX_VEL_1: f64 = 4.0 * PI;
const MAX_VEL_2: f64 = 9.0 * PI;
const AVAIL_TORQUE: [f64; 3] = [-1.0, 0.0, 1.0];
const G: f64 = 9.8;

/// A two-link pendulum actuated at the elbow that must swing its tip above a line (Sutton 1996),
/// exactly as Gymnasium's `AcrobotEnv` with its defaults ("book" dynamics, no torque noise).
///
/// - Observation: `[cos θ1, sin θ1, cos θ2, sin θ2, θ̇1, θ̇2]`.
/// - Actions: `Discrete(3)`: torque −1, 0, +1 on the joint between the links.
/// - Reward: −1 per step, 0 on the terminal step.
/// - Termination: `−cos θ1 − cos(θ2 + θ1) > 1`. [`make`](crate::make)`("Acrobot-v1")` adds the
///   500-step limit.
/// - Reset: each state variable uniform in `[-0.1, 0.1)`, rounded to float32 (as Gymnasium does).
///
/// One step integrates the equations of motion with a single fourth-order Runge–Kutta step over
/// `dt = 0.2`, then wraps both angles into `[-π, π]` and clips θ̇1 to ±4π and θ̇2 to ±9π.
///
/// State (as [`Env::state`] and [`Env::set_state`]): `[θ1, θ2, θ̇1, θ̇2]`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Acrobot {
    state: Option<[f64; 4]>,
    obs: [f32; 6],
    rng: Option<EnvRng>,
    observation_space: Space,
    action_space: Space,
}

impl Default for Acrobot {
    fn default() -> Self {
        Self::new()
    }
}

impl Acrobot {
    /// An acrobot that needs a `reset` before its first step.
    pub fn new() -> Self {
        Self {
            state: None,
            obs: [0.0; 6],
            rng: None,
            observation_space: Space::Box(BoxSpace::symmetric(&[
                1.0,
                1.0,
                1.0,
                1.0,
                MAX_VEL_1 as f32,
                MAX_VEL_2 as f32,
            ])),
            action_space: Space::Discrete(Discrete::constant(3)),
        }
    }

    fn observe(&mut self, [t1, t2, dt1, dt2]: [f64; 4]) -> &[f32] {
        self.obs = [t1.cos(), t1.sin(), t2.cos(), t2.sin(), dt1, dt2].map(|v| v as f32);
        &self.obs
    }
}

/// The time derivative of `[θ1, θ2, θ̇1, θ̇2]` under torque `a` (Gymnasium's `_dsdt`, "book"
/// variant), with Gymnasium's operation order so the float64 results agree bit for bit.
fn dsdt([theta1, theta2, dtheta1, dtheta2]: [f64; 4], a: f64) -> [f64; 4] {
    let (m1, m2, l1, lc1, lc2, i1, i2) = (
        LINK_MASS_1,
        LINK_MASS_2,
        LINK_LENGTH_1,
        LINK_COM_POS_1,
        LINK_COM_POS_2,
        LINK_MOI,
        LINK_MOI,
    );
    let d1 =
        m1 * (lc1 * lc1) + m2 * (l1 * l1 + lc2 * lc2 + 2.0 * l1 * lc2 * theta2.cos()) + i1 + i2;
    let d2 = m2 * (lc2 * lc2 + l1 * lc2 * theta2.cos()) + i2;
    let phi2 = m2 * lc2 * G * (theta1 + theta2 - PI / 2.0).cos();
    let phi1 = -m2 * l1 * lc2 * py_square(dtheta2) * theta2.sin()
        - 2.0 * m2 * l1 * lc2 * dtheta2 * dtheta1 * theta2.sin()
        + (m1 * lc1 + m2 * l1) * G * (theta1 - PI / 2.0).cos()
        + phi2;
    let ddtheta2 = (a + d2 / d1 * phi1 - m2 * l1 * lc2 * py_square(dtheta1) * theta2.sin() - phi2)
        / (m2 * (lc2 * lc2) + i2 - py_square(d2) / d1);
    let ddtheta1 = -(d2 * ddtheta2 + phi1) / d1;
    [dtheta1, dtheta2, ddtheta1, ddtheta2]
}

/// One classical Runge–Kutta step of length `dt` (Gymnasium's `rk4` over `t = [0, dt]`).
fn rk4(y0: [f64; 4], a: f64, dt: f64) -> [f64; 4] {
    let dt2 = dt / 2.0;
    let shifted = |k: [f64; 4], h: f64| std::array::from_fn(|i| y0[i] + h * k[i]);
    let k1 = dsdt(y0, a);
    let k2 = dsdt(shifted(k1, dt2), a);
    let k3 = dsdt(shifted(k2, dt2), a);
    let k4 = dsdt(shifted(k3, dt), a);
    std::array::from_fn(|i| y0[i] + dt / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]))
}

/// Wraps `x` into `[m, M]` by whole turns (Gymnasium's `wrap`).
fn wrap(mut x: f64, m: f64, big_m: f64) -> f64 {
    let diff = big_m - m;
    while x > big_m {
        x -= diff;
    }
    while x < m {
        x += diff;
    }
    x
}

/// Python's `min(max(x, m), M)` (Gymnasium's `bound`).
fn bound(x: f64, m: f64, big_m: f64) -> f64 {
    let y = if m > x { m } else { x };
    if big_m < y { big_m } else { y }
}

impl Env for Acrobot {
    snapshot_via_serde!();

    fn id(&self) -> &str {
        "Acrobot-v1"
    }

    fn observation_space(&self) -> &Space {
        &self.observation_space
    }

    fn action_space(&self) -> &Space {
        &self.action_space
    }

    fn reset(&mut self, seed: Option<u64>) -> Result<&[f32], EnvError> {
        let rng = reseed(&mut self.rng, seed);
        let s = std::array::from_fn(|_| f64::from(uniform(rng, -0.1, 0.1) as f32));
        self.state = Some(s);
        Ok(self.observe(s))
    }

    fn step(&mut self, action: Action<'_>) -> Result<Step<'_>, EnvError> {
        let torque = AVAIL_TORQUE[action.expect_discrete(self.id(), 3)?];
        let s = self.state.ok_or(EnvError::ResetNeeded)?;

        let mut ns = rk4(s, torque, DT);
        ns[0] = wrap(ns[0], -PI, PI);
        ns[1] = wrap(ns[1], -PI, PI);
        ns[2] = bound(ns[2], -MAX_VEL_1, MAX_VEL_1);
        ns[3] = bound(ns[3], -MAX_VEL_2, MAX_VEL_2);
        self.state = Some(ns);

        let terminated = -ns[0].cos() - (ns[1] + ns[0]).cos() > 1.0;
        Ok(Step {
            observation: self.observe(ns),
            reward: if terminated { 0.0 } else { -1.0 },
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
        Ok(self.observe(s))
    }

    fn render(&self) -> Result<crate::Frame, EnvError> {
        let state = self.state.ok_or(EnvError::ResetNeeded)?;
        super::render::acrobot(state, self.id())
    }
}
