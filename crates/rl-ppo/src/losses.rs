//! PPO's loss (Schulman et al. 2017, "Proximal Policy Optimization Algorithms"; SB3's
//! `PPO.train`), one function per term, and the diagnostics logged beside it. Shapes: `[B]`.
//!
//! The update minimizes eq. (9) with its signs turned for descent:
//! `L = −L^CLIP + vf_coef · L^VF − ent_coef · H`, written here as
//! [`total_loss`]`(`[`clipped_surrogate_loss`]`, `[`entropy_loss`]`, `[`value_loss`]`)`.

use candle_core::Tensor;

use crate::Result;

pub use rl_nn::actor_critic::normalize_advantages;

/// The probability ratio `r_t(θ) = π_θ(a_t|s_t) / π_θ_old(a_t|s_t)` (section 3), as
/// `exp(log π − sg(log π_old))`.
pub fn ratio(log_prob: &Tensor, old_log_prob: &Tensor) -> Result<Tensor> {
    Ok((log_prob - old_log_prob.detach())?.exp()?)
}

/// `−L^CLIP`, eq. (7): `−mean(min(r_t · A_t, clip(r_t, 1 − ε, 1 + ε) · A_t))`, advantages held
/// fixed.
pub fn clipped_surrogate_loss(
    ratio: &Tensor,
    advantages: &Tensor,
    clip_range: f64,
) -> Result<Tensor> {
    let a = advantages.detach();
    let unclipped = (ratio * &a)?;
    let clipped = (ratio.clamp(1.0 - clip_range, 1.0 + clip_range)? * &a)?;
    Ok(unclipped.minimum(&clipped)?.mean_all()?.neg()?)
}

/// `L^VF`, eq. (9)'s squared error `mean((sg(R_t) − V(s_t))²)`; with `clip_range_vf`, on the
/// prediction kept within `±clip_range_vf` of the value at collection (`V_old + clip(V − V_old)`,
/// SB3's `clip_range_vf`, from OpenAI Baselines' PPO2; not in the paper).
pub fn value_loss(
    values: &Tensor,
    old_values: &Tensor,
    returns: &Tensor,
    clip_range_vf: Option<f64>,
) -> Result<Tensor> {
    let predicted = match clip_range_vf {
        None => values.clone(),
        Some(c) => {
            let old = old_values.detach();
            (&old + (values - &old)?.clamp(-c, c)?)?
        }
    };
    Ok((returns.detach() - predicted)?.sqr()?.mean_all()?)
}

/// The entropy term `−mean(H(π(·|s_t)))` (eq. (9)'s `S`; minimizing it raises the entropy).
pub fn entropy_loss(entropy: &Tensor) -> Result<Tensor> {
    Ok(entropy.mean_all()?.neg()?)
}

/// Eq. (9) for descent: `−L^CLIP + ent_coef · (−H) + vf_coef · L^VF`.
pub fn total_loss(
    surrogate: &Tensor,
    entropy: &Tensor,
    value: &Tensor,
    ent_coef: f64,
    vf_coef: f64,
) -> Result<Tensor> {
    Ok(((surrogate + (entropy * ent_coef)?)? + (value * vf_coef)?)?)
}

/// The KL estimate `mean((r − 1) − log r)` of `KL(π_old ‖ π)` (Schulman's unbiased, always
/// positive "k3" estimator; SB3's `approx_kl`), from `log r = log π − log π_old`.
pub fn approx_kl(log_ratio: &Tensor) -> Result<f64> {
    let k = ((log_ratio.exp()? - 1.0)? - log_ratio)?;
    Ok(k.mean_all()?
        .to_dtype(candle_core::DType::F64)?
        .to_scalar::<f64>()?)
}

/// The share of rows whose ratio was clipped: `mean(|r − 1| > ε)`.
pub fn clip_fraction(ratio: &Tensor, clip_range: f64) -> Result<f64> {
    let r: Vec<f64> = ratio
        .to_dtype(candle_core::DType::F64)?
        .flatten_all()?
        .to_vec1()?;
    let n = r.len().max(1) as f64;
    Ok(r.iter().filter(|x| (*x - 1.0).abs() > clip_range).count() as f64 / n)
}
