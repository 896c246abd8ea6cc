//! A2C's loss (Mnih et al. 2016, "Asynchronous Methods for Deep Reinforcement Learning",
//! section 4 and algorithm S3; SB3's `A2C.train`), one function per term. Shapes: `[B]`.

use candle_core::Tensor;

use crate::Result;

pub use rl_nn::actor_critic::normalize_advantages;

/// The policy-gradient term `−mean(log π(a_t|s_t) · sg(A_t))`.
pub fn policy_loss(log_prob: &Tensor, advantages: &Tensor) -> Result<Tensor> {
    Ok((log_prob * advantages.detach())?.mean_all()?.neg()?)
}

/// The value term `mean((sg(R_t) − V(s_t))²)` (SB3's `F.mse_loss(returns, values)`).
pub fn value_loss(values: &Tensor, returns: &Tensor) -> Result<Tensor> {
    Ok((returns.detach() - values)?.sqr()?.mean_all()?)
}

/// The entropy term `−mean(H(π(·|s_t)))` (minimizing it raises the entropy).
pub fn entropy_loss(entropy: &Tensor) -> Result<Tensor> {
    Ok(entropy.mean_all()?.neg()?)
}

/// The total: `policy + ent_coef · entropy + vf_coef · value`.
pub fn total_loss(
    policy: &Tensor,
    entropy: &Tensor,
    value: &Tensor,
    ent_coef: f64,
    vf_coef: f64,
) -> Result<Tensor> {
    Ok(((policy + (entropy * ent_coef)?)? + (value * vf_coef)?)?)
}
