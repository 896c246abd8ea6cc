//! Layer operations with cheaper gradients than candle's generic ones on the CPU.
//!
//! Profiling a SAC update (256-256 networks, batch 256, one core) showed two of candle's backward
//! rules costing as much as a 256×256×256 matrix product each: the bias gradient of
//! `broadcast_add` (a strided sum over the batch, ~190 µs) and ReLU's (a scalar `x >= 0`
//! comparison to bytes, then a conversion, ~70 µs). These compute the same values faster:
//!
//! - [`add_bias`] adds the bias as the outer product `1 · bᵀ`, so its gradient is the matrix
//!   product `1ᵀ · g` (~5 µs);
//! - [`relu`] is a custom op whose backward multiplies by `y > 0` in one vectorizable pass on the
//!   CPU (other devices use candle's own `relu`).
//!
//! `tests/ops.rs` checks both against candle's autograd gradients.
//!
//! Forward passes without autograd add the bias and apply the activation in one in-place pass
//! over the matrix product's fresh output (`bias_activation`) instead of two passes that each
//! allocate a new tensor; a test below checks it bit for bit against candle's `broadcast_add`
//! followed by `relu` / `tanh`.

use candle_core::{
    CpuStorage, CustomOp1, CustomOp2, DType, Device, InplaceOp2, Layout, Shape, Tensor, WithDType,
};

use crate::{Activation, Result};

/// `x + b` for `x` of shape `[B, n]` and a bias `b` of shape `[n]`, with a fast bias gradient.
pub fn add_bias(x: &Tensor, b: &Tensor) -> Result<Tensor> {
    let rows = x.dim(0)?;
    let ones = Tensor::ones((rows, 1), x.dtype(), x.device())?;
    Ok((x + rl_math::matmul(&ones, &b.unsqueeze(0)?)?)?)
}

/// `max(x, 0)`, whose gradient is `grad · (y > 0)` computed in one pass on the CPU.
pub fn relu(x: &Tensor) -> Result<Tensor> {
    match x.device() {
        Device::Cpu if matches!(x.dtype(), DType::F32 | DType::F64) => {
            Ok(x.contiguous()?.apply_op1(Relu)?)
        }
        _ => Ok(x.relu()?),
    }
}

/// `grad · (y > 0)`: ReLU's backward from its output `y`, one pass on the CPU.
pub fn relu_backward(grad: &Tensor, y: &Tensor) -> Result<Tensor> {
    match grad.device() {
        Device::Cpu if matches!(grad.dtype(), DType::F32 | DType::F64) => Ok(grad
            .contiguous()?
            .apply_op2_no_bwd(&y.contiguous()?, &ReluGrad)?),
        _ => Ok((grad * y.gt(0.0)?.to_dtype(grad.dtype())?)?),
    }
}

/// The elements `layout` covers, or an error naming `what` if they are not contiguous.
fn contiguous<'a, T>(v: &'a [T], layout: &Layout, what: &str) -> candle_core::Result<&'a [T]> {
    let (start, end) = layout
        .contiguous_offsets()
        .ok_or_else(|| candle_core::Error::Msg(format!("{what} must be contiguous")))?;
    Ok(&v[start..end])
}

/// [`contiguous`], mutable.
fn contiguous_mut<'a, T>(
    v: &'a mut [T],
    layout: &Layout,
    what: &str,
) -> candle_core::Result<&'a mut [T]> {
    let (start, end) = layout
        .contiguous_offsets()
        .ok_or_else(|| candle_core::Error::Msg(format!("{what} must be contiguous")))?;
    Ok(&mut v[start..end])
}

/// Elementwise map over a contiguous float storage.
fn map_f<F32: Fn(f32) -> f32, F64: Fn(f64) -> f64>(
    storage: &CpuStorage,
    layout: &Layout,
    f32: F32,
    f64: F64,
    op: &str,
) -> candle_core::Result<CpuStorage> {
    let what = format!("{op}: input");
    match storage {
        CpuStorage::F32(v) => Ok(CpuStorage::F32(
            contiguous(v, layout, &what)?
                .iter()
                .map(|&x| f32(x))
                .collect(),
        )),
        CpuStorage::F64(v) => Ok(CpuStorage::F64(
            contiguous(v, layout, &what)?
                .iter()
                .map(|&x| f64(x))
                .collect(),
        )),
        _ => Err(candle_core::Error::Msg(format!("{op}: float tensors only"))),
    }
}

struct Relu;

impl CustomOp1 for Relu {
    fn name(&self) -> &'static str {
        "rl-nn-relu"
    }

    fn cpu_fwd(
        &self,
        storage: &CpuStorage,
        layout: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let out = map_f(storage, layout, |x| x.max(0.0), |x| x.max(0.0), "relu")?;
        Ok((out, layout.shape().clone()))
    }

    fn bwd(
        &self,
        _arg: &Tensor,
        res: &Tensor,
        grad_res: &Tensor,
    ) -> candle_core::Result<Option<Tensor>> {
        relu_backward(grad_res, res)
            .map(Some)
            .map_err(|e| candle_core::Error::Msg(e.to_string()))
    }
}

/// `grad · (y > 0)`: ReLU's backward from its output `y`.
struct ReluGrad;

impl CustomOp2 for ReluGrad {
    fn name(&self) -> &'static str {
        "rl-nn-relu-grad"
    }

    fn cpu_fwd(
        &self,
        grad: &CpuStorage,
        grad_layout: &Layout,
        y: &CpuStorage,
        y_layout: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let msg = |m: &str| candle_core::Error::Msg(format!("relu backward: {m}"));
        let (gw, yw) = ("relu backward: gradient", "relu backward: output");
        let out = match (grad, y) {
            (CpuStorage::F32(g), CpuStorage::F32(y)) => CpuStorage::F32(
                contiguous(g, grad_layout, gw)?
                    .iter()
                    .zip(contiguous(y, y_layout, yw)?)
                    .map(|(&g, &y)| if y > 0.0 { g } else { 0.0 })
                    .collect(),
            ),
            (CpuStorage::F64(g), CpuStorage::F64(y)) => CpuStorage::F64(
                contiguous(g, grad_layout, gw)?
                    .iter()
                    .zip(contiguous(y, y_layout, yw)?)
                    .map(|(&g, &y)| if y > 0.0 { g } else { 0.0 })
                    .collect(),
            ),
            _ => return Err(msg("float tensors of one dtype only")),
        };
        Ok((out, grad_layout.shape().clone()))
    }
}

/// `act(z + b)` for `z` of shape `[B, n]` and a bias `b` of shape `[n]`, recording nothing for
/// autograd. On the CPU, `z`'s storage is overwritten with the result in one pass, so `z` must be
/// a tensor nothing else shares — a fresh matrix product (candle's CPU matmul always allocates
/// its output); clones and views share storage, which is why this is not public. The values are
/// those of candle's `z.broadcast_add(b)` followed by `relu` / `tanh`, bit for bit (tested below).
pub(crate) fn bias_activation(z: Tensor, b: &Tensor, act: Option<Activation>) -> Result<Tensor> {
    let (z, b) = (z.detach(), b.detach());
    if matches!(z.device(), Device::Cpu)
        && matches!(z.dtype(), DType::F32 | DType::F64)
        && z.rank() == 2
        && b.dims() == [z.dim(1)?]
        && z.is_contiguous()
    {
        z.inplace_op2(&b.contiguous()?, &BiasActivation(act))?;
        return Ok(z);
    }
    let y = z.broadcast_add(&b)?;
    Ok(match act {
        Some(Activation::Relu) => y.relu()?,
        Some(Activation::Tanh) => y.tanh()?,
        None => y,
    })
}

/// In place: `z[i, j] ← act(z[i, j] + b[j])`.
struct BiasActivation(Option<Activation>);

impl InplaceOp2 for BiasActivation {
    fn name(&self) -> &'static str {
        "rl-nn-bias-activation"
    }

    fn cpu_fwd(
        &self,
        z: &mut CpuStorage,
        z_layout: &Layout,
        b: &CpuStorage,
        b_layout: &Layout,
    ) -> candle_core::Result<()> {
        fn run<T: WithDType>(
            z: &mut [T],
            z_layout: &Layout,
            b: &[T],
            b_layout: &Layout,
            f: impl Fn(T) -> T,
        ) -> candle_core::Result<()> {
            let msg = |m: &str| candle_core::Error::Msg(format!("bias + activation: {m}"));
            let z = contiguous_mut(z, z_layout, "bias + activation: output")?;
            let b = contiguous(b, b_layout, "bias + activation: bias")?;
            if b.is_empty() || !z.len().is_multiple_of(b.len()) {
                return Err(msg("bias length does not divide the output"));
            }
            for row in z.chunks_exact_mut(b.len()) {
                for (x, &bias) in row.iter_mut().zip(b) {
                    *x = f(*x + bias);
                }
            }
            Ok(())
        }
        match (z, b, self.0) {
            (CpuStorage::F32(z), CpuStorage::F32(b), act) => match act {
                Some(Activation::Relu) => run(z, z_layout, b, b_layout, |x: f32| x.max(0.0)),
                Some(Activation::Tanh) => run(z, z_layout, b, b_layout, f32::tanh),
                None => run(z, z_layout, b, b_layout, |x| x),
            },
            (CpuStorage::F64(z), CpuStorage::F64(b), act) => match act {
                Some(Activation::Relu) => run(z, z_layout, b, b_layout, |x: f64| x.max(0.0)),
                Some(Activation::Tanh) => run(z, z_layout, b, b_layout, f64::tanh),
                None => run(z, z_layout, b, b_layout, |x| x),
            },
            _ => Err(candle_core::Error::Msg(
                "bias + activation: float tensors of one dtype only".into(),
            )),
        }
    }
}

/// Checks `x` is a `[batch, width]` tensor of `what` (observations, say), so a wrong shape is an
/// error that names it rather than a matrix-multiply failure deep inside a network.
///
/// ```
/// use candle_core::{Device, Tensor};
/// let obs = Tensor::zeros((2, 3), candle_core::DType::F32, &Device::Cpu)?;
/// assert!(rl_nn::ops::check_batch(&obs, 3, "observations").is_ok());
/// let err = rl_nn::ops::check_batch(&obs, 4, "observations").unwrap_err();
/// assert_eq!(err.to_string(), "observations must be a [batch, 4] tensor, got shape [2, 3]");
/// # Ok::<(), rl_nn::NnError>(())
/// ```
pub fn check_batch(x: &Tensor, width: usize, what: &str) -> Result<()> {
    match x.dims() {
        [_, w] if *w == width => Ok(()),
        dims => Err(crate::NnError::Shape(format!(
            "{what} must be a [batch, {width}] tensor, got shape {dims:?}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]

    use candle_core::{DType, Device, Tensor};
    use rl_math::SeededRng;

    use super::bias_activation;
    use crate::Activation;

    /// The forward pass's fused bias + activation gives candle's `broadcast_add` then `relu` /
    /// `tanh` bit for bit, in place on the CPU and through the fallback on a non-contiguous input.
    #[test]
    fn bias_activation_is_candles_broadcast_add_then_activation_bit_for_bit() {
        for dtype in [DType::F32, DType::F64] {
            let mut rng = SeededRng::new(1);
            let z = rng.normal(&[33, 17], dtype, &Device::Cpu).unwrap();
            let b = rng.normal(&[17], dtype, &Device::Cpu).unwrap();
            for act in [None, Some(Activation::Relu), Some(Activation::Tanh)] {
                let sum = z.broadcast_add(&b).unwrap();
                let theirs = match act {
                    None => sum,
                    Some(Activation::Relu) => sum.relu().unwrap(),
                    Some(Activation::Tanh) => sum.tanh().unwrap(),
                };
                // A fresh copy: the CPU path overwrites its argument.
                let ours = bias_activation(z.copy().unwrap(), &b, act).unwrap();
                let bits = |t: &Tensor| -> Vec<u64> {
                    t.to_dtype(DType::F64)
                        .unwrap()
                        .flatten_all()
                        .unwrap()
                        .to_vec1::<f64>()
                        .unwrap()
                        .iter()
                        .map(|x| x.to_bits())
                        .collect()
                };
                assert_eq!(bits(&ours), bits(&theirs), "{dtype:?} {act:?}");
                // Transposed twice: the same values through a non-contiguous layout (fallback).
                let strided = z.t().unwrap().contiguous().unwrap().t().unwrap();
                assert!(!strided.is_contiguous());
                let fallback = bias_activation(strided, &b, act).unwrap();
                assert_eq!(bits(&fallback), bits(&theirs), "{dtype:?} {act:?} strided");
            }
        }
    }
}
