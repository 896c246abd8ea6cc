//! Action distributions on Candle tensors, differentiable with respect to their parameters.
//!
//! Shapes: a batch of `B` distributions over `D`-dimensional actions (`A` categories for
//! [`Categorical`]). Log-probabilities, entropies and KL divergences are summed over the action
//! dimensions and have shape `[B]`. Checked against `torch.distributions` (values and autograd
//! gradients) in `tests/golden.rs`.

use candle_core::{D, DType, Tensor};

use crate::{MathError, Result, SeededRng};

/// `½ log(2π)`.
const HALF_LOG_2PI: f64 = 0.918_938_533_204_672_8;

/// `softplus(x) = log(1 + eˣ)`, computed stably as `max(x, 0) + log(1 + e^−|x|)`.
pub fn softplus(x: &Tensor) -> Result<Tensor> {
    Ok((x.relu()? + (x.abs()?.neg()?.exp()? + 1.0)?.log()?)?)
}

/// How a network's raw log-standard-deviation output is kept in range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LogStdBounds {
    /// `clamp(x, min, max)`: SB3's and the SAC paper code's choice, default `[-20, 2]`.
    Clamp {
        /// Lower bound.
        min: f64,
        /// Upper bound.
        max: f64,
    },
    /// `min + ½ (max − min)(tanh x + 1)`: a smooth squashing (CleanRL, `[-5, 2]`).
    TanhRescale {
        /// Lower bound.
        min: f64,
        /// Upper bound.
        max: f64,
    },
}

impl Default for LogStdBounds {
    fn default() -> Self {
        LogStdBounds::Clamp {
            min: -20.0,
            max: 2.0,
        }
    }
}

impl LogStdBounds {
    /// Applies the bounds to a raw log-std tensor.
    pub fn apply(&self, raw: &Tensor) -> Result<Tensor> {
        match *self {
            LogStdBounds::Clamp { min, max } => Ok(raw.clamp(min, max)?),
            LogStdBounds::TanhRescale { min, max } => {
                Ok(((raw.tanh()? + 1.0)? * (0.5 * (max - min)))?.affine(1.0, min)?)
            }
        }
    }
}

/// The tanh-squashed diagonal Gaussian of SAC's actor: `u ~ N(μ, σ²)`, `a = tanh(u)`.
///
/// Sampling is reparameterized (`u = μ + σ ⊙ ε` with caller-supplied noise `ε`), and
/// `log π(a|s) = Σᵢ [log N(uᵢ; μᵢ, σᵢ) − log(1 − tanh²(uᵢ))]` with the correction computed in the
/// stable form `log(1 − tanh²(u)) = 2 (log 2 − u − softplus(−2u))`: never from `atanh(a)`, never
/// with an `ε` inside the log.
#[derive(Debug, Clone)]
pub struct TanhGaussian {
    mean: Tensor,
    log_std: Tensor,
}

impl TanhGaussian {
    /// From the actor's outputs `mean` and raw `log_std` (same shape `[B, D]`), with `log_std`
    /// kept in range by `bounds`.
    pub fn new(mean: &Tensor, raw_log_std: &Tensor, bounds: LogStdBounds) -> Result<Self> {
        same_shape("mean", mean, "log_std", raw_log_std)?;
        Ok(Self {
            mean: mean.clone(),
            log_std: bounds.apply(raw_log_std)?,
        })
    }

    /// The mean `μ` of the pre-squash Gaussian.
    pub fn mean(&self) -> &Tensor {
        &self.mean
    }

    /// The bounded `log σ`.
    pub fn log_std(&self) -> &Tensor {
        &self.log_std
    }

    /// A reparameterized sample from noise `eps ~ N(0, I)` of shape `[B, D]`: the action
    /// `tanh(μ + σ ε)` and its log-probability `[B]`, both differentiable in `μ` and `log σ`.
    pub fn rsample(&self, eps: &Tensor) -> Result<(Tensor, Tensor)> {
        same_shape("mean", &self.mean, "noise", eps)?;
        let u = (&self.mean + (self.log_std.exp()? * eps)?)?;
        let action = u.tanh()?;
        // log N(u; μ, σ) = −½ ((u − μ)/σ)² − log σ − ½ log 2π, and (u − μ)/σ = ε exactly.
        let gaussian = ((eps.sqr()? * -0.5)? - &self.log_std)?.affine(1.0, -HALF_LOG_2PI)?;
        // log(1 − tanh²(u)) = 2 (log 2 − u − softplus(−2u))
        let log_det =
            ((u.neg()? - softplus(&(&u * -2.0)?)?)? + std::f64::consts::LN_2)?.affine(2.0, 0.0)?;
        let log_prob = (gaussian - log_det)?.sum(D::Minus1)?;
        Ok((action, log_prob))
    }

    /// A sample drawn with noise from `rng` (same as [`rsample`](Self::rsample) with fresh `ε`).
    pub fn sample(&self, rng: &mut SeededRng) -> Result<(Tensor, Tensor)> {
        let eps = rng.normal(self.mean.dims(), self.mean.dtype(), self.mean.device())?;
        self.rsample(&eps)
    }

    /// The deterministic (evaluation) action `tanh(μ)`.
    pub fn deterministic(&self) -> Result<Tensor> {
        Ok(self.mean.tanh()?)
    }
}

/// A diagonal Gaussian `N(μ, diag σ²)` (A2C's and ACER's continuous policies).
///
/// `log_std` may be a full `[B, D]` tensor or a state-independent `[D]` parameter (broadcast).
#[derive(Debug, Clone)]
pub struct DiagGaussian {
    mean: Tensor,
    log_std: Tensor,
}

impl DiagGaussian {
    /// From `mean` `[B, D]` and `log_std` `[B, D]` or `[D]`.
    pub fn new(mean: &Tensor, log_std: &Tensor) -> Result<Self> {
        let log_std = log_std
            .broadcast_as(mean.shape())
            .map_err(|_| {
                MathError::Shape(format!(
                    "log_std {:?} does not broadcast to mean {:?}",
                    log_std.dims(),
                    mean.dims()
                ))
            })?
            .contiguous()?;
        Ok(Self {
            mean: mean.clone(),
            log_std,
        })
    }

    /// The mean.
    pub fn mean(&self) -> &Tensor {
        &self.mean
    }

    /// `log σ`, broadcast to the mean's shape.
    pub fn log_std(&self) -> &Tensor {
        &self.log_std
    }

    /// `Σᵢ log N(xᵢ; μᵢ, σᵢ)`, shape `[B]`.
    pub fn log_prob(&self, x: &Tensor) -> Result<Tensor> {
        same_shape("mean", &self.mean, "x", x)?;
        let z = ((x - &self.mean)? / self.log_std.exp()?)?;
        let lp = ((z.sqr()? * -0.5)? - &self.log_std)?.affine(1.0, -HALF_LOG_2PI)?;
        Ok(lp.sum(D::Minus1)?)
    }

    /// `Σᵢ (½ log(2πe) + log σᵢ)`, shape `[B]`.
    pub fn entropy(&self) -> Result<Tensor> {
        Ok(self
            .log_std
            .affine(1.0, 0.5 + HALF_LOG_2PI)?
            .sum(D::Minus1)?)
    }

    /// `KL(self ‖ other) = Σᵢ [log σ₁/σ₀ + (σ₀² + (μ₀ − μ₁)²)/(2σ₁²) − ½]`, shape `[B]`.
    pub fn kl(&self, other: &DiagGaussian) -> Result<Tensor> {
        same_shape("mean", &self.mean, "other mean", &other.mean)?;
        let var0 = (&self.log_std * 2.0)?.exp()?;
        let var1 = (&other.log_std * 2.0)?.exp()?;
        let num = (var0 + (&self.mean - &other.mean)?.sqr()?)?;
        let kl = ((&other.log_std - &self.log_std)? + (num / (var1 * 2.0)?)?)?.affine(1.0, -0.5)?;
        Ok(kl.sum(D::Minus1)?)
    }

    /// `μ + σ ε` for noise `eps ~ N(0, I)`.
    pub fn rsample(&self, eps: &Tensor) -> Result<Tensor> {
        same_shape("mean", &self.mean, "noise", eps)?;
        Ok((&self.mean + (self.log_std.exp()? * eps)?)?)
    }

    /// A sample with noise from `rng`.
    pub fn sample(&self, rng: &mut SeededRng) -> Result<Tensor> {
        let eps = rng.normal(self.mean.dims(), self.mean.dtype(), self.mean.device())?;
        self.rsample(&eps)
    }
}

/// A categorical distribution from logits `[B, A]`.
///
/// Log-probabilities come from `log_softmax` (never `log(softmax)`), so extreme logits stay finite.
#[derive(Debug, Clone)]
pub struct Categorical {
    log_probs: Tensor,
}

impl Categorical {
    /// From unnormalized logits `[B, A]`.
    pub fn from_logits(logits: &Tensor) -> Result<Self> {
        if logits.rank() != 2 {
            return Err(MathError::Shape(format!(
                "categorical logits must be [batch, actions], got {:?}",
                logits.dims()
            )));
        }
        Ok(Self {
            log_probs: candle_nn::ops::log_softmax(logits, D::Minus1)?,
        })
    }

    /// `log p(a)` for every action, `[B, A]`.
    pub fn log_probs(&self) -> &Tensor {
        &self.log_probs
    }

    /// Probabilities, `[B, A]`.
    pub fn probs(&self) -> Result<Tensor> {
        Ok(self.log_probs.exp()?)
    }

    /// `log p(actions)` for one action index per row (`[B]`, an integer tensor), shape `[B]`.
    pub fn log_prob(&self, actions: &Tensor) -> Result<Tensor> {
        let (b, _) = self.log_probs.dims2()?;
        if actions.dims() != [b] {
            return Err(MathError::Shape(format!(
                "expected {b} action indices, got a tensor of shape {:?}",
                actions.dims()
            )));
        }
        let idx = actions.to_dtype(DType::U32)?.unsqueeze(1)?;
        Ok(self.log_probs.gather(&idx, 1)?.squeeze(1)?)
    }

    /// `−Σₐ p(a) log p(a)`, shape `[B]`.
    pub fn entropy(&self) -> Result<Tensor> {
        Ok((self.probs()? * &self.log_probs)?.sum(D::Minus1)?.neg()?)
    }

    /// `KL(self ‖ other) = Σₐ p(a) (log p(a) − log q(a))`, shape `[B]`.
    pub fn kl(&self, other: &Categorical) -> Result<Tensor> {
        same_shape("logits", &self.log_probs, "other logits", &other.log_probs)?;
        Ok((self.probs()? * (&self.log_probs - &other.log_probs)?)?.sum(D::Minus1)?)
    }

    /// The most probable action of each row.
    pub fn mode(&self) -> Result<Vec<u32>> {
        Ok(self.log_probs.argmax(D::Minus1)?.to_vec1::<u32>()?)
    }

    /// One action per row, drawn with `rng` by inverting the cumulative distribution.
    pub fn sample(&self, rng: &mut SeededRng) -> Result<Vec<u32>> {
        let probs = self.probs()?.to_dtype(DType::F64)?.to_vec2::<f64>()?;
        Ok(probs
            .iter()
            .map(|row| {
                let u: f64 = rand::Rng::random(rng.rng());
                let mut acc = 0.0;
                for (a, p) in row.iter().enumerate() {
                    acc += p;
                    if u < acc {
                        return a as u32;
                    }
                }
                // Rounding left the total just under 1: the last action with mass.
                row.iter().rposition(|p| *p > 0.0).unwrap_or(0) as u32
            })
            .collect())
    }
}

fn same_shape(a_name: &str, a: &Tensor, b_name: &str, b: &Tensor) -> Result<()> {
    if a.dims() == b.dims() {
        Ok(())
    } else {
        Err(MathError::Shape(format!(
            "{a_name} has shape {:?} but {b_name} has shape {:?}",
            a.dims(),
            b.dims()
        )))
    }
}
