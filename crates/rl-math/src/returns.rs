//! Returns and advantages: discounted n-step returns, GAE(λ), Retrace.
//!
//! All three read one environment's steps in time order from a [`Trajectory`] and handle the end
//! of an episode inside it the way the Gymnasium API asks:
//!
//! - a **terminated** step bootstraps from nothing: the target is the reward alone;
//! - a **truncated** step bootstraps from `V(s_final)`, the value of the true last observation (not
//!   the next episode's reset observation);
//! - neither carries a trace or a return across the boundary into the next episode.
//!
//! `next_values[t]` is the value of the state that actually followed step `t`. It is read where the
//! episode ended by truncation and at the last step of the trajectory (the bootstrap); elsewhere it
//! must equal `values[t + 1]` (use [`next_values`] to build it). Checked against PyTorch
//! implementations of SB3's GAE and Baselines' Retrace in `tests/golden.rs`.

use crate::{MathError, Result};

/// One environment's consecutive steps.
#[derive(Debug, Clone, Copy)]
pub struct Trajectory<'a> {
    /// `r_t`.
    pub rewards: &'a [f64],
    /// `V(s_t)`.
    pub values: &'a [f64],
    /// `V` of the state after step `t` (see the module docs).
    pub next_values: &'a [f64],
    /// The episode terminated at step `t`.
    pub terminated: &'a [bool],
    /// The episode was truncated at step `t`.
    pub truncated: &'a [bool],
}

impl Trajectory<'_> {
    /// Number of steps.
    pub fn len(&self) -> usize {
        self.rewards.len()
    }

    /// Whether there are no steps.
    pub fn is_empty(&self) -> bool {
        self.rewards.is_empty()
    }

    fn check(&self) -> Result<usize> {
        let n = self.rewards.len();
        let lens = [
            ("values", self.values.len()),
            ("next_values", self.next_values.len()),
            ("terminated", self.terminated.len()),
            ("truncated", self.truncated.len()),
        ];
        match lens.iter().find(|(_, len)| *len != n) {
            Some((name, len)) => Err(MathError::Shape(format!(
                "trajectory has {n} rewards but {len} {name}"
            ))),
            None => Ok(n),
        }
    }

    /// Whether the trajectory's episode ended at step `t`.
    fn ended(&self, t: usize) -> bool {
        self.terminated[t] || self.truncated[t]
    }

    /// `(1 − terminated_t) · V(s_{t+1})`: the bootstrap value after step `t`.
    fn bootstrap(&self, t: usize) -> f64 {
        if self.terminated[t] {
            0.0
        } else {
            self.next_values[t]
        }
    }
}

fn check_discount(name: &str, x: f64) -> Result<()> {
    if (0.0..=1.0).contains(&x) {
        Ok(())
    } else {
        Err(MathError::InvalidArgument(format!(
            "{name} must be in [0, 1], got {x}"
        )))
    }
}

/// `next_values` for a rollout: `values[t + 1]` inside it, `last_value` after its last step, and
/// `final_values[t]` where `final_values` gives `V(s_final)` for a step whose episode ended
/// (read only where `final_values[t]` is `Some`).
pub fn next_values(values: &[f64], last_value: f64, final_values: &[Option<f64>]) -> Vec<f64> {
    (0..values.len())
        .map(|t| match final_values.get(t).copied().flatten() {
            Some(v) => v,
            None => values.get(t + 1).copied().unwrap_or(last_value),
        })
        .collect()
}

/// Discounted n-step returns with bootstrap: `R_t = r_t + γ R_{t+1}` inside an episode,
/// `R_t = r_t + γ (1 − terminated_t) V(s_{t+1})` where the episode or the trajectory ends.
/// (A2C's targets with `gae_lambda = 1`.) `values` is not read.
pub fn n_step_returns(traj: &Trajectory<'_>, gamma: f64) -> Result<Vec<f64>> {
    let n = traj.check()?;
    check_discount("gamma", gamma)?;
    let mut returns = vec![0.0; n];
    let mut next_return = 0.0;
    for t in (0..n).rev() {
        let continues = t + 1 < n && !traj.ended(t);
        let tail = if continues {
            next_return
        } else {
            traj.bootstrap(t)
        };
        returns[t] = traj.rewards[t] + gamma * tail;
        next_return = returns[t];
    }
    Ok(returns)
}

/// Advantages and the returns they imply.
#[derive(Debug, Clone, PartialEq)]
pub struct Advantages {
    /// `A_t`.
    pub advantages: Vec<f64>,
    /// `A_t + V(s_t)`: the value targets.
    pub returns: Vec<f64>,
}

/// Generalized advantage estimation (Schulman et al. 2016, eq. 16):
/// `δ_t = r_t + γ (1 − terminated_t) V(s_{t+1}) − V(s_t)`,
/// `A_t = δ_t + γ λ A_{t+1}` inside an episode, `A_t = δ_t` where it or the trajectory ends.
/// `λ = 1` gives the n-step advantage `R_t − V(s_t)`.
pub fn gae(traj: &Trajectory<'_>, gamma: f64, lambda: f64) -> Result<Advantages> {
    let n = traj.check()?;
    check_discount("gamma", gamma)?;
    check_discount("lambda", lambda)?;
    let mut advantages = vec![0.0; n];
    let mut next_advantage = 0.0;
    for t in (0..n).rev() {
        let delta = traj.rewards[t] + gamma * traj.bootstrap(t) - traj.values[t];
        let continues = t + 1 < n && !traj.ended(t);
        let carried = if continues { next_advantage } else { 0.0 };
        advantages[t] = delta + gamma * lambda * carried;
        next_advantage = advantages[t];
    }
    let returns = advantages
        .iter()
        .zip(traj.values)
        .map(|(a, v)| a + v)
        .collect();
    Ok(Advantages {
        advantages,
        returns,
    })
}

/// Retrace targets `Q_ret_t` (Munos et al. 2016; ACER, Wang et al. 2017, eq. 5), backwards over a
/// trajectory with `Q_ret = V(s_k)` after its end (zero if it terminated):
///
/// ```text
/// Q_ret ← r_t + γ (1 − d_t) Q_ret          record Q_ret_t
/// Q_ret ← c_t (Q_ret − Q(s_t, a_t)) + V(s_t)
/// ```
///
/// with the episode boundaries of the module docs. `q_taken[t] = Q(s_t, a_t)`, `traces[t] = c_t`:
/// [`truncated_traces`] (`min(1, ρ)`, discrete ACER), [`truncated_traces_pow`] (`min(1, ρ^{1/d})`,
/// continuous ACER), or all ones for ACER's `Q_opc`.
pub fn retrace(
    traj: &Trajectory<'_>,
    q_taken: &[f64],
    traces: &[f64],
    gamma: f64,
) -> Result<Vec<f64>> {
    let n = traj.check()?;
    check_discount("gamma", gamma)?;
    if q_taken.len() != n || traces.len() != n {
        return Err(MathError::Shape(format!(
            "retrace over {n} steps got {} Q values and {} traces",
            q_taken.len(),
            traces.len()
        )));
    }
    let mut q_ret_t = vec![0.0; n];
    let mut q_ret = 0.0;
    for t in (0..n).rev() {
        let continues = t + 1 < n && !traj.ended(t);
        let tail = if continues { q_ret } else { traj.bootstrap(t) };
        q_ret_t[t] = traj.rewards[t] + gamma * tail;
        q_ret = traces[t] * (q_ret_t[t] - q_taken[t]) + traj.values[t];
    }
    Ok(q_ret_t)
}

/// Retrace's traces for discrete actions: `c_t = min(1, ρ_t)`.
pub fn truncated_traces(rho: &[f64]) -> Vec<f64> {
    rho.iter().map(|r| r.min(1.0)).collect()
}

/// Retrace's traces for `d`-dimensional continuous actions: `c_t = min(1, ρ_t^{1/d})`
/// (ACER, Wang et al. 2017, section 4).
pub fn truncated_traces_pow(rho: &[f64], action_dim: usize) -> Vec<f64> {
    let exponent = 1.0 / action_dim.max(1) as f64;
    rho.iter().map(|r| r.powf(exponent).min(1.0)).collect()
}
