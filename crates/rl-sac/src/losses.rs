//! SAC's losses, one function each, with the papers' equation numbers:
//!
//! - SAC v2: Haarnoja et al. 2018b, "Soft Actor-Critic Algorithms and Applications", with the
//!   twin-Q minimum of Fujimoto et al.;
//! - SAC v1: Haarnoja et al. 2018a, "Soft Actor-Critic: Off-Policy Maximum Entropy Deep
//!   Reinforcement Learning with a Stochastic Actor" (the value network);
//! - discrete SAC: Christodoulou 2019, "Soft Actor-Critic for Discrete Action Settings".
//!
//! Shapes: `[B]` per-sample tensors (`Q`, `log π`, rewards, flags) or `[B, |A|]` per-action ones
//! (discrete); each loss is a scalar.
//!
//! These are the functions the update differentiates. The temperature losses and discrete SAC's
//! actor loss go through candle's autograd as written. The networks have explicit backward passes
//! (`rl_nn::Mlp::backward`, cheaper than autograd through them), so each loss a network's
//! parameters get their gradient from has a `*_grad` form here returning the loss and its
//! gradient with respect to that network's output ([`LossGrad`]), and eq. (7) / (13) for the
//! actor comes as [`actor_loss_critic_grads`] (its gradient with respect to the critics' outputs)
//! and [`actor_surrogate`] (the same loss as a function of the actor's output once the chain rule
//! has gone through the critics). `tests/gradients.rs` checks the result against autograd
//! through the whole graph, `tests/golden.rs` whole updates against PyTorch.

use candle_core::Tensor;

use crate::Result;

/// A loss and its gradient with respect to the output `[B, k]` of the network it is
/// differentiated through (what that network's backward pass takes).
#[derive(Debug, Clone)]
pub struct LossGrad {
    /// The loss, a scalar.
    pub loss: Tensor,
    /// `∂ loss / ∂ output`, `[B, k]`.
    pub grad: Tensor,
}

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

/// [`critic_half_loss`] and its gradient with respect to the critic's output `[B, 1]`:
/// `∂/∂Q_j ½ mean((Q_j − y)²) = (Q_j − y) / B`.
pub fn critic_half_loss_grad(q: &Tensor, target: &Tensor) -> Result<LossGrad> {
    let n = q.dim(0)? as f64;
    Ok(LossGrad {
        loss: critic_half_loss(q, target)?,
        grad: ((q - target)? / n)?.unsqueeze(1)?,
    })
}

/// Discrete SAC's critic term (Christodoulou 2019, eq. 8) for the actions taken (`taken`, one-hot
/// `[B, |A|]`, and `q_taken = Q_j(s)[a]`, `[B]`): [`critic_half_loss`] of `q_taken` and its
/// gradient with respect to the critic's whole output `Q_j(s)` (`[B, |A|]`): `(Q_j(s)[a] − y) / B`
/// at the action taken, 0 elsewhere.
pub fn discrete_critic_half_loss_grad(
    q_taken: &Tensor,
    taken: &Tensor,
    target: &Tensor,
) -> Result<LossGrad> {
    let b = q_taken.dim(0)? as f64;
    Ok(LossGrad {
        loss: critic_half_loss(q_taken, target)?,
        grad: taken.broadcast_mul(&((q_taken - target)? / b)?.unsqueeze(1)?)?,
    })
}

/// Eq. (7) with the reparameterized action `ã = tanh(μ + σ ε)` (eq. 9) and the smaller critic:
/// `J_π = mean(α log π(ã|s) − min_j Q_θj(s, ã))`. Only the actor is stepped with it.
pub fn actor_loss(log_prob: &Tensor, q1: &Tensor, q2: &Tensor, alpha: f64) -> Result<Tensor> {
    Ok(((log_prob * alpha)? - q1.minimum(q2)?)?.mean_all()?)
}

/// `∂J_π/∂Q_j` of eq. (7) for the critics' outputs at `(s, ã)` (`qs`, `[B]` each; `[B, 1]` each
/// out): `−1/B` on the smaller critic at each sample (the first on a tie), 0 on the other. Given
/// one critic (SAC v1's eq. 13 reads `Q_θ1` only), `−1/B` everywhere. The critics' backward passes
/// turn these into `∂J_π/∂ã`, which [`actor_surrogate`] takes.
pub fn actor_loss_critic_grads(qs: &[Tensor]) -> Result<Vec<Tensor>> {
    let Some(q0) = qs.first() else {
        return Ok(Vec::new());
    };
    let n = q0.dim(0)? as f64;
    Ok(if let [q0, q1] = qs {
        let first_is_min = q0.le(q1)?.to_dtype(q0.dtype())?;
        vec![
            first_is_min.affine(-1.0 / n, 0.0)?.unsqueeze(1)?,
            first_is_min.affine(1.0 / n, -1.0 / n)?.unsqueeze(1)?,
        ]
    } else {
        vec![(q0.ones_like()? * (-1.0 / n))?.unsqueeze(1)?]
    })
}

/// Eq. (7) (or eq. 13 with its regularizer) as a function of the actor's output, which is what
/// the actor is differentiated through: `mean(α log π(ã|s)) + Σ ã · g`, with `g = ∂J_π/∂ã`
/// computed through the critics (from [`actor_loss_critic_grads`]) and held fixed, plus
/// `λ mean(μ² + (log σ)²)` when `regularizer = Some((μ, log σ, λ))` with `λ > 0`. Its value is not
/// `J_π`, but its gradient with respect to the actor's output is `J_π`'s: `α log π` and the
/// regularizer directly, `−min_j Q_θj(s, ã)` through `ã` by the chain rule.
pub fn actor_surrogate(
    log_prob: &Tensor,
    action: &Tensor,
    grad_action: &Tensor,
    alpha: f64,
    regularizer: Option<(&Tensor, &Tensor, f64)>,
) -> Result<Tensor> {
    let mut surrogate = ((log_prob * alpha)?.mean_all()? + (action * grad_action)?.sum_all()?)?;
    if let Some((mean, log_std, lambda)) = regularizer.filter(|r| r.2 > 0.0) {
        let reg = (mean.sqr()?.mean_all()? + log_std.sqr()?.mean_all()?)?;
        surrogate = (surrogate + (reg * lambda)?)?;
    }
    Ok(surrogate)
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

/// SAC v1, the value network's loss (Haarnoja et al. 2018a, eq. 5):
/// `J_V = ½ mean((V_ψ(s) − sg(min_j Q_θj(s, ã) − α log π(ã|s)))²)`, `ã ~ π(·|s)` fresh.
pub fn value_loss(v: &Tensor, q_min: &Tensor, log_prob: &Tensor, alpha: f64) -> Result<Tensor> {
    let target = (q_min - (log_prob * alpha)?)?.detach();
    Ok(((v - target)?.sqr()?.mean_all()? * 0.5)?)
}

/// [`value_loss`] and its gradient with respect to the value network's output `[B, 1]`:
/// `(V_ψ(s) − sg(min_j Q_θj(s, ã) − α log π(ã|s))) / B`.
pub fn value_loss_grad(
    v: &Tensor,
    q_min: &Tensor,
    log_prob: &Tensor,
    alpha: f64,
) -> Result<LossGrad> {
    let n = v.dim(0)? as f64;
    let target = (q_min - (log_prob * alpha)?)?;
    Ok(LossGrad {
        loss: value_loss(v, q_min, log_prob, alpha)?,
        grad: ((v - target)? / n)?.unsqueeze(1)?,
    })
}

/// SAC v1's Q target (eq. 8 of the first paper): `y = r + γ (1 − d) V_ψ̄(s')`, detached.
pub fn value_td_target(
    rewards: &Tensor,
    terminated: &Tensor,
    next_v: &Tensor,
    gamma: f64,
) -> Result<Tensor> {
    let not_done = terminated.affine(-1.0, 1.0)?;
    Ok((rewards + ((not_done * next_v)? * gamma)?)?.detach())
}

/// SAC v1's policy loss (eq. 13 with the reparameterization of eq. 11): `J_π = mean(α log π(ã|s)
/// − Q_θ1(s, ã))`, plus the original code's regularizer `λ mean(μ² + (log σ)²)`.
pub fn actor_loss_v1(
    log_prob: &Tensor,
    q1: &Tensor,
    alpha: f64,
    mean: &Tensor,
    log_std: &Tensor,
    regularization: f64,
) -> Result<Tensor> {
    let main = ((log_prob * alpha)? - q1)?.mean_all()?;
    let reg = (mean.sqr()?.mean_all()? + log_std.sqr()?.mean_all()?)?;
    Ok((main + (reg * regularization)?)?)
}

/// Discrete SAC's soft value of the next state (Christodoulou 2019, eq. 10), exact over actions:
/// `V(s') = Σ_a π(a|s') [min_j Q_θ̄j(s', a) − α log π(a|s')]`; inputs `[B, |A|]`, output `[B]`.
pub fn discrete_soft_value(
    probs: &Tensor,
    log_probs: &Tensor,
    q_min: &Tensor,
    alpha: f64,
) -> Result<Tensor> {
    Ok((probs * (q_min - (log_probs * alpha)?)?)?.sum(candle_core::D::Minus1)?)
}

/// Discrete SAC's policy loss (eq. 12), exact over actions:
/// `J_π = mean_s Σ_a π(a|s) [α log π(a|s) − sg(min_j Q_θj(s, a))]`.
pub fn discrete_actor_loss(
    probs: &Tensor,
    log_probs: &Tensor,
    q_min: &Tensor,
    alpha: f64,
) -> Result<Tensor> {
    let inner = ((log_probs * alpha)? - q_min.detach())?;
    Ok((probs * inner)?.sum(candle_core::D::Minus1)?.mean_all()?)
}

/// Discrete SAC's temperature loss (eq. 11): `J(α) = mean_s Σ_a sg(π(a|s)) (−log α ·
/// sg(log π(a|s) + H̄))`, with `H̄ = ratio · log |A|`.
pub fn discrete_temperature_loss(
    log_alpha: &Tensor,
    probs: &Tensor,
    log_probs: &Tensor,
    target_entropy: f64,
) -> Result<Tensor> {
    let gap =
        (probs.detach() * (log_probs.detach() + target_entropy)?)?.sum(candle_core::D::Minus1)?;
    Ok(gap.broadcast_mul(log_alpha)?.neg()?.mean_all()?)
}
