//! SAC's losses, one function each, as in Haarnoja et al. 2018, "Soft Actor-Critic Algorithms and
//! Applications" (equation numbers from that paper), with the twin-Q minimum of Fujimoto et al.
//!
//! Shapes: `[B]` per-sample tensors (`Q`, `log π`, rewards, flags); each loss is a scalar.

use candle_core::Tensor;

use crate::Result;

/// The soft TD target of eq. (5), with the soft value of eq. (3) estimated from one fresh action
/// `a' ~ π(·|s')`, the smaller of the two target critics, and no bootstrap where the episode
/// terminated (a truncated transition bootstraps):
///
/// `y = r + γ (1 − d) [min_j Q_θ̄j(s', a') − α log π(a'|s')]`, returned detached (`sg`).
pub fn soft_td_target(
    rewards: &Tensor,
    terminated: &Tensor,
    next_q1: &Tensor,
    next_q2: &Tensor,
    next_log_prob: &Tensor,
    alpha: f64,
    gamma: f64,
) -> Result<Tensor> {
    let soft_value = (next_q1.minimum(next_q2)? - (next_log_prob * alpha)?)?;
    let not_done = terminated.affine(-1.0, 1.0)?;
    let y = (rewards + ((not_done * soft_value)? * gamma)?)?;
    Ok(y.detach())
}

/// Eq. (5) for both critics: `J_Q = ½ Σ_j mean((Q_θj(s, a) − y)²)`, the sum of each critic's
/// [`critic_half_loss`].
pub fn critic_loss(q1: &Tensor, q2: &Tensor, target: &Tensor) -> Result<Tensor> {
    Ok((critic_half_loss(q1, target)? + critic_half_loss(q2, target)?)?)
}

/// One critic's term of eq. (5): `½ mean((Q_θj(s, a) − y)²)`. It depends on `θj` only, so each
/// critic can be stepped with its own term.
pub fn critic_half_loss(q: &Tensor, target: &Tensor) -> Result<Tensor> {
    Ok(((q - target)?.sqr()?.mean_all()? * 0.5)?)
}

/// Eq. (7) with the reparameterized action `ã = tanh(μ + σ ε)` (eq. 9) and the smaller critic:
/// `J_π = mean(α log π(ã|s) − min_j Q_θj(s, ã))`. Only the actor is stepped with it.
pub fn actor_loss(log_prob: &Tensor, q1: &Tensor, q2: &Tensor, alpha: f64) -> Result<Tensor> {
    Ok(((log_prob * alpha)? - q1.minimum(q2)?)?.mean_all()?)
}

/// Eq. (18), learning `log α` (which keeps α positive):
/// `J(α) = mean(−log α · sg(log π(ã|s) + H̄))`, with `H̄` the target entropy.
pub fn temperature_loss(
    log_alpha: &Tensor,
    log_prob: &Tensor,
    target_entropy: f64,
) -> Result<Tensor> {
    let gap = (log_prob.detach() + target_entropy)?;
    Ok(gap.broadcast_mul(log_alpha)?.neg()?.mean_all()?)
}
