//! What a buffer stores per step, and the checks every push makes.

use candle_core::{DType, Device, Tensor};

use crate::{BufferError, Result};

pub use rl_envs::ActionSpec;

/// What buffers do with an [`ActionSpec`]: check it and the actions pushed, and build the
/// sampled tensors (actions are pushed as `f32` slices, a discrete action being one value holding
/// the index, and come back as a `U32` tensor `[B]` (discrete) or an `F32` tensor `[B, dim]`
/// (continuous)).
pub(crate) trait Stored {
    /// A spec with at least one action / component.
    fn check_valid(&self) -> Result<()>;
    /// Checks one action's values: the right width, finite, and an in-range index for discrete.
    fn check(&self, action: &[f32]) -> Result<()>;
    /// A batch of stored actions (`rows × width` values) as the tensor sampling returns.
    fn tensor(&self, values: Vec<f32>, rows: &[usize], device: &Device) -> Result<Tensor>;
}

impl Stored for ActionSpec {
    fn check_valid(&self) -> Result<()> {
        match self {
            ActionSpec::Discrete { n: 0 } => {
                Err(BufferError::ZeroSize("number of discrete actions"))
            }
            ActionSpec::Continuous { dim: 0 } => Err(BufferError::ZeroSize("action dimension")),
            _ => Ok(()),
        }
    }

    fn check(&self, action: &[f32]) -> Result<()> {
        check_finite("action", action, self.width())?;
        if let ActionSpec::Discrete { n } = *self {
            let a = action[0];
            if a < 0.0 || a.fract() != 0.0 || a as usize >= n {
                return Err(BufferError::ActionOutOfRange {
                    value: f64::from(a),
                    n,
                });
            }
        }
        Ok(())
    }

    fn tensor(&self, values: Vec<f32>, rows: &[usize], device: &Device) -> Result<Tensor> {
        Ok(match self {
            ActionSpec::Discrete { .. } => {
                let idx: Vec<u32> = values.iter().map(|&a| a as u32).collect();
                Tensor::from_vec(idx, rows, device)?
            }
            ActionSpec::Continuous { dim } => {
                let mut shape = rows.to_vec();
                shape.push(*dim);
                Tensor::from_vec(values, shape, device)?
            }
        })
    }
}

/// `values` has `expected` components, all finite.
pub(crate) fn check_finite(what: &'static str, values: &[f32], expected: usize) -> Result<()> {
    if values.len() != expected {
        return Err(BufferError::Length {
            what,
            got: values.len(),
            expected,
        });
    }
    match values.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(BufferError::NonFinite {
            what,
            index,
            value: f64::from(values[index]),
        }),
        None => Ok(()),
    }
}

/// A finite scalar.
pub(crate) fn check_scalar(what: &'static str, value: f64) -> Result<()> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(BufferError::NonFinite {
            what,
            index: 0,
            value,
        })
    }
}

/// Copies the `width`-value rows `idx` of `src` into one vector.
pub(crate) fn gather<T: Copy>(src: &[T], width: usize, idx: &[usize]) -> Vec<T> {
    let mut out = Vec::with_capacity(idx.len() * width);
    for &i in idx {
        out.extend_from_slice(&src[i * width..(i + 1) * width]);
    }
    out
}

/// Flags as a `0.0 / 1.0` float tensor.
pub(crate) fn flag_tensor(flags: Vec<bool>, shape: &[usize], device: &Device) -> Result<Tensor> {
    let v: Vec<f32> = flags
        .into_iter()
        .map(|f| if f { 1.0 } else { 0.0 })
        .collect();
    Ok(Tensor::from_vec(v, shape, device)?.to_dtype(DType::F32)?)
}
