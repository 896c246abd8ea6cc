//! Gradient clipping by global norm (candle has none).

use candle_core::backprop::GradStore;
use candle_core::{Tensor, Var};

use crate::{MathError, Result};

/// Rescales the gradients of `vars` in `grads` so that their global L2 norm is at most `max_norm`,
/// as `torch.nn.utils.clip_grad_norm_` does (coefficient `max_norm / (norm + 1e-6)`, capped at 1),
/// and returns the norm before clipping. Variables without a gradient are skipped.
/// A NaN or infinite norm is an error (a diverged loss), and nothing is changed.
pub fn clip_grad_norm(grads: &mut GradStore, vars: &[Var], max_norm: f64) -> Result<f64> {
    if max_norm.is_nan() || max_norm <= 0.0 {
        return Err(MathError::InvalidArgument(format!(
            "max_norm must be positive, got {max_norm}"
        )));
    }
    let total = grad_norm(grads, vars)?;
    if !total.is_finite() {
        return Err(MathError::NonFinite {
            what: "gradient norm".into(),
            value: total,
        });
    }
    let coef = max_norm / (total + 1e-6);
    if coef < 1.0 {
        for var in vars {
            if let Some(g) = grads.get(var) {
                let scaled = g.affine(coef, 0.0)?;
                grads.insert(var, scaled);
            }
        }
    }
    Ok(total)
}

/// The global L2 norm of the gradients of `vars` (skipping those without one).
pub fn grad_norm(grads: &GradStore, vars: &[Var]) -> Result<f64> {
    let mut sum = 0.0;
    for var in vars {
        if let Some(g) = grads.get(var) {
            sum += g
                .sqr()?
                .sum_all()?
                .to_dtype(candle_core::DType::F64)?
                .to_scalar::<f64>()?;
        }
    }
    Ok(sum.sqrt())
}

/// [`clip_grad_norm`] for explicit gradients (one per parameter, `None` for those without): the
/// same coefficient, applied in place; returns the norm before clipping.
pub fn clip_grads(grads: &mut [Option<Tensor>], max_norm: f64) -> Result<f64> {
    if max_norm.is_nan() || max_norm <= 0.0 {
        return Err(MathError::InvalidArgument(format!(
            "max_norm must be positive, got {max_norm}"
        )));
    }
    let mut sum = 0.0;
    for g in grads.iter().flatten() {
        sum += g
            .sqr()?
            .sum_all()?
            .to_dtype(candle_core::DType::F64)?
            .to_scalar::<f64>()?;
    }
    let total = sum.sqrt();
    if !total.is_finite() {
        return Err(MathError::NonFinite {
            what: "gradient norm".into(),
            value: total,
        });
    }
    let coef = max_norm / (total + 1e-6);
    if coef < 1.0 {
        for g in grads.iter_mut().flatten() {
            *g = g.affine(coef, 0.0)?;
        }
    }
    Ok(total)
}
