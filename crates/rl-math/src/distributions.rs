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

/// `log(1 − tanh²(u))`, the log-determinant of the tanh squashing, in the stable form
/// `2 (log 2 − u − softplus(−2u))`: never from `atanh(a)`, never with an `ε` inside the log.
fn tanh_log_det(u: &Tensor) -> Result<Tensor> {
    Ok(((u.neg()? - softplus(&(u * -2.0)?)?)? + std::f64::consts::LN_2)?.affine(2.0, 0.0)?)
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
        let log_prob = (gaussian - tanh_log_det(&u)?)?.sum(D::Minus1)?;
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

/// Generalized state-dependent exploration (gSDE; Raffin, Kober and Stulp 2021, "Smooth
/// Exploration for Robotic Reinforcement Learning", section 3; SB3's
/// `StateDependentNoiseDistribution` with `full_std=True`, `use_expln=False`).
///
/// The noise is a linear function of the policy's last hidden features `z(s)` (`[B, L]`): an
/// exploration matrix `θ_ε` (`[L, D]`, entries `θ_ε[l, d] ~ N(0, σ[l, d]²)` with `σ = exp(log_std)`,
/// a learned `[L, D]` parameter) is drawn once and kept for many steps, and the action is
/// `a = μ(s) + z(s) θ_ε`. Given `s`, that is a Gaussian with per-row variance
///
/// ```text
/// Var[a_d | s] = Σ_l z_l(s)² σ[l, d]²        (+ 1e-6, SB3's ε, inside the square root)
/// ```
///
/// On-policy learners (PPO, A2C: SB3's `learn_features=False`) use it through
/// [`Gsde::log_std`]: the log-probability and entropy are those of [`DiagGaussian`] with that
/// `[B, D]` log standard deviation, the features entering detached (the variance's gradient
/// reaches `log_std` only). SAC (`learn_features=True`, squashed) uses
/// [`Gsde::squashed_rsample`], where the features are differentiated too.
#[derive(Debug, Clone, Copy, Default)]
pub struct Gsde;

impl Gsde {
    /// SB3's ε added to the variance.
    pub const EPSILON: f64 = 1e-6;

    /// The per-row `log σ_d(s) = ½ log(Σ_l z_l² exp(2 log_std[l, d]) + ε)`, `[B, D]`, from features
    /// `[B, L]` (detached here) and `log_std` `[L, D]` (differentiable).
    ///
    /// ```
    /// use candle_core::{Device, Tensor};
    /// use rl_math::distributions::Gsde;
    /// let z = Tensor::new(&[[1.0f64, 2.0]], &Device::Cpu)?;
    /// let log_std = Tensor::new(&[[0.5f64.ln()], [0.1f64.ln()]], &Device::Cpu)?;
    /// let var = (1.0 * 0.25 + 4.0 * 0.01) + Gsde::EPSILON;
    /// let got: Vec<Vec<f64>> = Gsde::log_std(&z, &log_std)?.to_vec2()?;
    /// assert!((got[0][0] - 0.5 * var.ln()).abs() < 1e-12);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn log_std(features: &Tensor, log_std: &Tensor) -> Result<Tensor> {
        let (l, d) = log_std.dims2().map_err(|_| {
            MathError::Shape(format!(
                "gSDE log_std must be [features, action dims], got {:?}",
                log_std.dims()
            ))
        })?;
        let (_, lf) = features.dims2()?;
        if lf != l {
            return Err(MathError::Shape(format!(
                "gSDE features have {lf} columns, log_std {l} rows ({l} x {d})"
            )));
        }
        Ok((Self::variance(&features.detach(), log_std)?.log()? * 0.5)?)
    }

    /// `Σ_l z_l² exp(2 log_std[l, d]) + ε`, `[B, D]`, differentiable in both.
    fn variance(features: &Tensor, log_std: &Tensor) -> Result<Tensor> {
        Ok(
            crate::matmul(&features.sqr()?, &(log_std * 2.0)?.exp()?)?
                .affine(1.0, Self::EPSILON)?,
        )
    }

    /// `n` exploration matrices `θ_ε` (`[n, L, D]`), entries `N(0, exp(log_std)²)`, from `rng`.
    pub fn sample_matrices(log_std: &Tensor, n: usize, rng: &mut SeededRng) -> Result<Tensor> {
        let (l, d) = log_std.dims2()?;
        let eps = rng.normal(&[n, l, d], log_std.dtype(), log_std.device())?;
        Ok(eps.broadcast_mul(&log_std.detach().exp()?.unsqueeze(0)?)?)
    }

    /// One exploration matrix `θ_ε = ε ⊙ exp(log_std)` (`[L, D]`) from standard-normal noise
    /// `eps` (`[L, D]`), reparameterized: differentiable in `log_std`, as SAC's actor loss needs
    /// (SB3's `sample_weights` draws it with `rsample`).
    pub fn exploration_matrix(log_std: &Tensor, eps: &Tensor) -> Result<Tensor> {
        same_shape("gSDE log_std", log_std, "noise", eps)?;
        Ok((log_std.exp()? * eps)?)
    }

    /// A squashed gSDE sample with learned features (SAC's policy; SB3's
    /// `StateDependentNoiseDistribution` with `learn_features=True`, `squash_output=True`):
    /// `u = μ + z θ_ε`, the action `tanh(u)` and
    ///
    /// ```text
    /// log π(a|s) = Σ_d [log N(u_d; μ_d, σ_d(s)) − log(1 − tanh²(u_d))],
    /// σ_d(s)² = Σ_l z_l² exp(2 log_std[l, d]) + ε
    /// ```
    ///
    /// from the mean `[B, D]`, the features `z` `[B, L]`, `log_std` `[L, D]` and one exploration
    /// matrix `[L, D]` ([`exploration_matrix`](Self::exploration_matrix)) shared by every row.
    /// Everything is differentiable: `u − μ` is the noise `z θ_ε` itself (SB3 recovers it as
    /// `atanh(a)` clipped at float32's ε, the same value where it does not clip), and the
    /// correction is [`TanhGaussian`]'s stable form (SB3: `log(1 − a² + 1e-6)`).
    ///
    /// ```
    /// use candle_core::{Device, Tensor};
    /// use rl_math::distributions::Gsde;
    /// let dev = Device::Cpu;
    /// let (mean, z) = (Tensor::new(&[[0.5f64]], &dev)?, Tensor::new(&[[1.0f64, 2.0]], &dev)?);
    /// let log_std = Tensor::new(&[[0.5f64.ln()], [0.1f64.ln()]], &dev)?;
    /// let eps = Tensor::new(&[[1.0f64], [-1.0]], &dev)?;
    /// let w = Gsde::exploration_matrix(&log_std, &eps)?; // [[0.5], [-0.1]]
    /// let (a, log_prob) = Gsde::squashed_rsample(&mean, &z, &log_std, &w)?;
    /// let u = 0.5 + (1.0 * 0.5 - 2.0 * 0.1);
    /// assert!((a.to_vec2::<f64>()?[0][0] - f64::tanh(u)).abs() < 1e-12);
    /// let var = 0.25 + 4.0 * 0.01 + Gsde::EPSILON;
    /// let gauss = -0.5 * (u - 0.5) * (u - 0.5) / var - 0.5 * var.ln()
    ///     - 0.5 * (2.0 * std::f64::consts::PI).ln();
    /// let want = gauss - (1.0 - f64::tanh(u).powi(2)).ln();
    /// assert!((log_prob.to_vec1::<f64>()?[0] - want).abs() < 1e-12);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn squashed_rsample(
        mean: &Tensor,
        features: &Tensor,
        log_std: &Tensor,
        matrix: &Tensor,
    ) -> Result<(Tensor, Tensor)> {
        let (l, d) = log_std.dims2().map_err(|_| {
            MathError::Shape(format!(
                "gSDE log_std must be [features, action dims], got {:?}",
                log_std.dims()
            ))
        })?;
        same_shape("gSDE log_std", log_std, "exploration matrix", matrix)?;
        let (b, lf) = features.dims2()?;
        if lf != l || mean.dims() != [b, d] {
            return Err(MathError::Shape(format!(
                "gSDE: features {:?} and mean {:?} for a {l} x {d} log_std",
                features.dims(),
                mean.dims()
            )));
        }
        let var = Self::variance(features, log_std)?;
        let noise = crate::matmul(features, matrix)?;
        let u = (mean + &noise)?;
        // log N(u; μ, σ) = −½ (u − μ)²/σ² − ½ log σ² − ½ log 2π, with u − μ the noise.
        let gaussian = ((noise.sqr()? / &var)? * -0.5)?;
        let gaussian = (gaussian - (var.log()? * 0.5)?)?.affine(1.0, -HALF_LOG_2PI)?;
        let log_prob = (gaussian - tanh_log_det(&u)?)?.sum(D::Minus1)?;
        Ok((u.tanh()?, log_prob))
    }

    /// The noise `z(s_b) θ_ε,b` of each row with its own matrix: features `[B, L]`, matrices
    /// `[B, L, D]`; `[B, D]`.
    pub fn noise(features: &Tensor, matrices: &Tensor) -> Result<Tensor> {
        let (b, l) = features.dims2()?;
        let (bm, lm, _) = matrices.dims3()?;
        if (b, l) != (bm, lm) {
            return Err(MathError::Shape(format!(
                "gSDE: {b} rows of {l} features for {bm} matrices of {lm} rows"
            )));
        }
        Ok(crate::matmul(&features.detach().unsqueeze(1)?, matrices)?.squeeze(1)?)
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
