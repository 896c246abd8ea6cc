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
//! Profiling PPO on CartPole (64-64 tanh networks) showed 63 % of its time in glibc's scalar
//! `tanhf` (and the `expm1f` it calls), so on the CPU an f32 `tanh` is rten-vecmath's vectorized
//! one ([`tanh`], and the fused forward below): within 3 ulp of `f32::tanh` (rten-vecmath's own
//! bound, checked again by a test below), not bit for bit. f64 keeps the standard library's.
//!
//! Forward passes without autograd add the bias and apply the activation in one in-place pass
//! over the matrix product's fresh output (`bias_activation`) instead of two passes that each
//! allocate a new tensor; a test below checks it bit for bit against `broadcast_add` followed by
//! [`relu`] / [`tanh`].

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

/// Whether `t` takes this module's one-pass CPU kernels (f32 or f64 on the CPU); other devices and
/// dtypes use candle's own ops.
fn own_kernel(t: &Tensor) -> bool {
    matches!(t.device(), Device::Cpu) && matches!(t.dtype(), DType::F32 | DType::F64)
}

/// `grad ⊙ f(y)` in one pass on the CPU ([`GradFromOutput`]), the backward of an activation from
/// its output `y`.
fn grad_from_output<G: OutputGrad>(grad: &Tensor, y: &Tensor, g: G) -> Result<Tensor> {
    Ok(grad
        .contiguous()?
        .apply_op2_no_bwd(&y.contiguous()?, &GradFromOutput(g))?)
}

/// `max(x, 0)`, whose gradient is `grad · (y > 0)` computed in one pass on the CPU.
pub fn relu(x: &Tensor) -> Result<Tensor> {
    if own_kernel(x) {
        Ok(x.contiguous()?.apply_op1(Relu)?)
    } else {
        Ok(x.relu()?)
    }
}

/// `grad · (y > 0)`: ReLU's backward from its output `y`, one pass on the CPU.
pub fn relu_backward(grad: &Tensor, y: &Tensor) -> Result<Tensor> {
    if own_kernel(grad) {
        grad_from_output(grad, y, ReluGrad)
    } else {
        Ok((grad * y.gt(0.0)?.to_dtype(grad.dtype())?)?)
    }
}

/// `tanh(x)`, vectorized for f32 on the CPU (see the module docs: within 3 ulp of `f32::tanh`),
/// whose gradient `grad · (1 − y²)` is one pass over its output `y`. Other devices and dtypes use
/// candle's own `tanh`.
pub fn tanh(x: &Tensor) -> Result<Tensor> {
    if own_kernel(x) {
        Ok(x.contiguous()?.apply_op1(Tanh)?)
    } else {
        Ok(x.tanh()?)
    }
}

/// `grad · (1 − y²)`: tanh's backward from its output `y`, one pass on the CPU (the same values
/// as candle's `grad * (1 - y²)`, bit for bit).
pub fn tanh_backward(grad: &Tensor, y: &Tensor) -> Result<Tensor> {
    if own_kernel(grad) {
        grad_from_output(grad, y, TanhGrad)
    } else {
        Ok((grad * y.sqr()?.affine(-1.0, 1.0)?)?)
    }
}

/// f32 `tanh` in place over `v`, vectorized (AVX2/FMA or Neon where the CPU has them, picked at
/// run time by rten-simd).
fn tanh_f32_in_place(v: &mut [f32]) {
    use rten_simd::SimdUnaryOp;
    rten_vecmath::Tanh {}.map_mut(v);
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

struct Tanh;

impl CustomOp1 for Tanh {
    fn name(&self) -> &'static str {
        "rl-nn-tanh"
    }

    fn cpu_fwd(
        &self,
        storage: &CpuStorage,
        layout: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let out = match storage {
            CpuStorage::F32(v) => {
                let mut out = contiguous(v, layout, "tanh: input")?.to_vec();
                tanh_f32_in_place(&mut out);
                CpuStorage::F32(out)
            }
            _ => map_f(storage, layout, f32::tanh, f64::tanh, "tanh")?,
        };
        Ok((out, layout.shape().clone()))
    }

    fn bwd(
        &self,
        _arg: &Tensor,
        res: &Tensor,
        grad_res: &Tensor,
    ) -> candle_core::Result<Option<Tensor>> {
        tanh_backward(grad_res, res)
            .map(Some)
            .map_err(|e| candle_core::Error::Msg(e.to_string()))
    }
}

/// An activation's backward from its output `y`, elementwise: `grad · σ'(y)`.
trait OutputGrad: Send + Sync {
    /// For messages and candle's op name.
    const NAME: &'static str;
    /// `NAME` and "gradient", for the error about a non-contiguous gradient.
    const GRAD: &'static str;
    /// `NAME` and "output", for the error about a non-contiguous output.
    const OUT: &'static str;
    /// One element in f32.
    fn f32(g: f32, y: f32) -> f32;
    /// One element in f64.
    fn f64(g: f64, y: f64) -> f64;
}

/// ReLU's: `grad · (y > 0)`.
struct ReluGrad;

impl OutputGrad for ReluGrad {
    const NAME: &'static str = "relu backward";
    const GRAD: &'static str = "relu backward: gradient";
    const OUT: &'static str = "relu backward: output";
    fn f32(g: f32, y: f32) -> f32 {
        if y > 0.0 { g } else { 0.0 }
    }
    fn f64(g: f64, y: f64) -> f64 {
        if y > 0.0 { g } else { 0.0 }
    }
}

/// tanh's: `grad · (1 − y²)`, rounded as candle's `g * y.sqr().affine(-1, 1)` is (three times).
struct TanhGrad;

impl OutputGrad for TanhGrad {
    const NAME: &'static str = "tanh backward";
    const GRAD: &'static str = "tanh backward: gradient";
    const OUT: &'static str = "tanh backward: output";
    fn f32(g: f32, y: f32) -> f32 {
        g * (1.0 - y * y)
    }
    fn f64(g: f64, y: f64) -> f64 {
        g * (1.0 - y * y)
    }
}

/// The custom op of an [`OutputGrad`]: one pass over `grad` and `y` (statically dispatched, so
/// the loop vectorizes).
struct GradFromOutput<A>(A);

impl<A: OutputGrad> CustomOp2 for GradFromOutput<A> {
    fn name(&self) -> &'static str {
        A::NAME
    }

    fn cpu_fwd(
        &self,
        grad: &CpuStorage,
        grad_layout: &Layout,
        y: &CpuStorage,
        y_layout: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (gw, yw) = (A::GRAD, A::OUT);
        let out = match (grad, y) {
            (CpuStorage::F32(g), CpuStorage::F32(y)) => CpuStorage::F32(
                contiguous(g, grad_layout, gw)?
                    .iter()
                    .zip(contiguous(y, y_layout, yw)?)
                    .map(|(&g, &y)| A::f32(g, y))
                    .collect(),
            ),
            (CpuStorage::F64(g), CpuStorage::F64(y)) => CpuStorage::F64(
                contiguous(g, grad_layout, gw)?
                    .iter()
                    .zip(contiguous(y, y_layout, yw)?)
                    .map(|(&g, &y)| A::f64(g, y))
                    .collect(),
            ),
            _ => {
                return Err(candle_core::Error::Msg(format!(
                    "{}: float tensors of one dtype only",
                    A::NAME
                )));
            }
        };
        Ok((out, grad_layout.shape().clone()))
    }
}

/// `act(z + b)` for `z` of shape `[B, n]` and a bias `b` of shape `[n]`, recording nothing for
/// autograd. On the CPU, `z`'s storage is overwritten with the result in one pass, so `z` must be
/// a tensor nothing else shares — a fresh matrix product (candle's CPU matmul always allocates
/// its output); clones and views share storage, which is why this is not public. The values are
/// those of candle's `z.broadcast_add(b)` followed by [`relu`] / [`tanh`], bit for bit (tested
/// below).
pub(crate) fn bias_activation(z: Tensor, b: &Tensor, act: Option<Activation>) -> Result<Tensor> {
    let (z, b) = (z.detach(), b.detach());
    if own_kernel(&z) && z.rank() == 2 && b.dims() == [z.dim(1)?] && z.is_contiguous() {
        z.inplace_op2(&b.contiguous()?, &BiasActivation(act))?;
        return Ok(z);
    }
    let y = z.broadcast_add(&b)?;
    Ok(match act {
        Some(Activation::Relu) => relu(&y)?,
        Some(Activation::Tanh) => tanh(&y)?,
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
                Some(Activation::Tanh) => {
                    run(z, z_layout, b, b_layout, |x| x)?;
                    let (start, end) = z_layout.contiguous_offsets().ok_or_else(|| {
                        candle_core::Error::Msg(
                            "bias + activation: output must be contiguous".into(),
                        )
                    })?;
                    tanh_f32_in_place(&mut z[start..end]);
                    Ok(())
                }
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

    use super::{bias_activation, relu, tanh};
    use crate::Activation;

    fn bits(t: &Tensor) -> Vec<u64> {
        t.to_dtype(DType::F64)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f64>()
            .unwrap()
            .iter()
            .map(|x| x.to_bits())
            .collect()
    }

    /// The forward pass's fused bias + activation gives `broadcast_add` then [`relu`] / [`tanh`]
    /// bit for bit, in place on the CPU and through the fallback on a non-contiguous input.
    #[test]
    fn bias_activation_is_broadcast_add_then_activation_bit_for_bit() {
        for dtype in [DType::F32, DType::F64] {
            let mut rng = SeededRng::new(1);
            let z = rng.normal(&[33, 17], dtype, &Device::Cpu).unwrap();
            let b = rng.normal(&[17], dtype, &Device::Cpu).unwrap();
            for act in [None, Some(Activation::Relu), Some(Activation::Tanh)] {
                let sum = z.broadcast_add(&b).unwrap();
                let theirs = match act {
                    None => sum,
                    Some(Activation::Relu) => relu(&sum).unwrap(),
                    Some(Activation::Tanh) => tanh(&sum).unwrap(),
                };
                // A fresh copy: the CPU path overwrites its argument.
                let ours = bias_activation(z.copy().unwrap(), &b, act).unwrap();
                assert_eq!(bits(&ours), bits(&theirs), "{dtype:?} {act:?}");
                // Transposed twice: the same values through a non-contiguous layout (fallback).
                let strided = z.t().unwrap().contiguous().unwrap().t().unwrap();
                assert!(!strided.is_contiguous());
                let fallback = bias_activation(strided, &b, act).unwrap();
                assert_eq!(bits(&fallback), bits(&theirs), "{dtype:?} {act:?} strided");
            }
        }
    }

    /// The vectorized f32 `tanh` is within 3 ulp of the standard library's `f32::tanh` (the
    /// bound rten-vecmath states) on a fine grid over [−12, 12], odd, saturates at ±1, and keeps
    /// 0 and NaN; f64 is the standard library's, bit for bit.
    #[test]
    fn tanh_is_within_three_ulp_of_the_standard_library() {
        let xs: Vec<f32> = (-120_000..=120_000).map(|i| i as f32 * 1e-4).collect();
        let ys = tanh(&Tensor::new(xs.as_slice(), &Device::Cpu).unwrap())
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        // Equal values (0 and −0 too) are 0 ulp apart; otherwise both have one sign, so the
        // distance of their bit patterns is their distance in ulp.
        let ulps = |a: f32, b: f32| {
            if a == b {
                0
            } else {
                (a.to_bits() as i64 - b.to_bits() as i64).abs()
            }
        };
        let worst = xs
            .iter()
            .zip(&ys)
            .map(|(&x, &y)| {
                assert_eq!(y, -tanh_one(-x), "odd at {x}");
                ulps(y, x.tanh())
            })
            .max()
            .unwrap();
        assert!(worst <= 3, "{worst} ulp");
        for (x, want) in [(0.0f32, 0.0f32), (20.0, 1.0), (-20.0, -1.0), (1e-30, 1e-30)] {
            assert_eq!(tanh_one(x), want, "tanh({x})");
        }
        assert!(tanh_one(f32::NAN).is_nan());
        let xs64: Vec<f64> = (-1000..=1000).map(|i| i as f64 * 1e-2).collect();
        let ys64 = tanh(&Tensor::new(xs64.as_slice(), &Device::Cpu).unwrap())
            .unwrap()
            .to_vec1::<f64>()
            .unwrap();
        for (x, y) in xs64.iter().zip(ys64) {
            assert_eq!(y.to_bits(), x.tanh().to_bits());
        }
    }

    fn tanh_one(x: f32) -> f32 {
        tanh(&Tensor::new(&[x], &Device::Cpu).unwrap())
            .unwrap()
            .to_vec1::<f32>()
            .unwrap()[0]
    }
}
