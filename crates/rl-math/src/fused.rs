//! One-pass, in-place CPU kernels for the optimizers' and Polyak's elementwise updates.
//!
//! Written with candle ops, one Adam step on a parameter is about fifteen tensor operations, each
//! allocating its result and reading and writing the whole tensor; on a 256×256 layer that is
//! about 0.4 ms, on the critical path of every SAC update. These kernels do the same arithmetic
//! in the same order and precision (each line below mirrors one candle op, `x * a + b` as
//! candle's `affine`), in place, in one pass over each buffer — so results are bit-identical to
//! the tensor-op path, which stays in use on other devices and for non-contiguous tensors.

use candle_core::{CpuStorage, InplaceOp2, InplaceOp3, Layout, Tensor, WithDType};

use crate::Result;

/// `2^-100`: added and subtracted to flush values far below any meaningful moment to zero
/// (subnormal moments slow every later operation on them; see docs/performance.md).
pub(crate) const FLUSH: f64 = 7.888_609_052_210_118e-31;

/// `(x + C) − C` in `T`: the tensor path's `flush_tiny`.
#[inline]
fn flush<T: WithDType>(x: T, c: T) -> T {
    (x + c) - c
}

/// Slices of a contiguous CPU storage, or `None` (the caller falls back to tensor ops).
fn contiguous<'a, T: WithDType>(s: &'a [T], l: &Layout) -> Option<&'a [T]> {
    l.contiguous_offsets().map(|(a, b)| &s[a..b])
}

fn contiguous_mut<'a, T: WithDType>(s: &'a mut [T], l: &Layout) -> Option<&'a mut [T]> {
    l.contiguous_offsets().map(|(a, b)| &mut s[a..b])
}

/// `√x` for the float types the kernels take.
trait Sqrt {
    fn sqrt_(self) -> Self;
}

impl Sqrt for f32 {
    fn sqrt_(self) -> Self {
        self.sqrt()
    }
}

impl Sqrt for f64 {
    fn sqrt_(self) -> Self {
        self.sqrt()
    }
}

/// `dst ← flush(dst · a + src · b)` or, with `square`, `flush(dst · a + src² · b)`: a moment
/// update (Adam's `m`, `v`; RMSprop's `s`). With `flush_tiny` off, the plain mix (Polyak).
struct Mix {
    a: f64,
    b: f64,
    square: bool,
    flush_tiny: bool,
}

impl InplaceOp2 for Mix {
    fn name(&self) -> &'static str {
        "fused-mix"
    }

    fn cpu_fwd(
        &self,
        s1: &mut CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<()> {
        fn run<T: WithDType>(
            m: &Mix,
            d: &mut [T],
            l1: &Layout,
            s: &[T],
            l2: &Layout,
        ) -> candle_core::Result<()> {
            let (Some(d), Some(s)) = (contiguous_mut(d, l1), contiguous(s, l2)) else {
                candle_core::bail!("fused-mix: non-contiguous operands");
            };
            if d.len() != s.len() {
                candle_core::bail!("fused-mix: {} vs {} elements", d.len(), s.len());
            }
            let (a, b, c, zero) = (
                T::from_f64(m.a),
                T::from_f64(m.b),
                T::from_f64(FLUSH),
                T::from_f64(0.0),
            );
            for (x, &g) in d.iter_mut().zip(s) {
                let g = if m.square { g * g } else { g };
                // affine(x, a, 0) + affine(g, b, 0)
                let y = (*x * a + zero) + (g * b + zero);
                *x = if m.flush_tiny { flush(y, c) } else { y };
            }
            Ok(())
        }
        match (s1, s2) {
            (CpuStorage::F32(d), CpuStorage::F32(s)) => run(self, d, l1, s, l2),
            (CpuStorage::F64(d), CpuStorage::F64(s)) => run(self, d, l1, s, l2),
            _ => candle_core::bail!("fused-mix: f32 or f64 operands of one dtype"),
        }
    }
}

/// The denominator of a step `θ ← θ − (a / d(b)) · scale`.
#[derive(Clone, Copy)]
enum Denom {
    /// `√b · c + ε`: Adam (`c = 1/√bc₂`) and PyTorch's RMSprop (`c = 1`).
    SqrtTimesPlusEps(f64),
    /// `√(b + ε)`: TensorFlow's RMSprop.
    SqrtOfSumWithEps,
}

/// One optimizer's parameter step in place: `θ ← θ − (a / d(b)) · scale`, with `a` Adam's first
/// moment or RMSprop's gradient and `b` the second moment or the average of squared gradients.
struct Step {
    name: &'static str,
    denom: Denom,
    eps: f64,
    scale: f64,
}

impl InplaceOp3 for Step {
    fn name(&self) -> &'static str {
        self.name
    }

    fn cpu_fwd(
        &self,
        s1: &mut CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> candle_core::Result<()> {
        fn run<T: WithDType + Sqrt>(
            k: &Step,
            p: &mut [T],
            l1: &Layout,
            a: &[T],
            l2: &Layout,
            b: &[T],
            l3: &Layout,
        ) -> candle_core::Result<()> {
            let (Some(p), Some(a), Some(b)) =
                (contiguous_mut(p, l1), contiguous(a, l2), contiguous(b, l3))
            else {
                candle_core::bail!("{}: non-contiguous operands", k.name);
            };
            if p.len() != a.len() || p.len() != b.len() {
                candle_core::bail!("{}: operands of different sizes", k.name);
            }
            let (eps, scale, one, zero) = (
                T::from_f64(k.eps),
                T::from_f64(k.scale),
                T::from_f64(1.0),
                T::from_f64(0.0),
            );
            // The same operations, in the same order, as the tensor expressions they replace
            // (`+ 0` and `· 1` included), so the results are bit-identical.
            for ((p, &a), &b) in p.iter_mut().zip(a).zip(b) {
                let denom = match k.denom {
                    Denom::SqrtTimesPlusEps(c) => b.sqrt_() * T::from_f64(c) + eps,
                    Denom::SqrtOfSumWithEps => (b * one + eps).sqrt_(),
                };
                *p -= (a / denom) * scale + zero;
            }
            Ok(())
        }
        match (s1, s2, s3) {
            (CpuStorage::F32(p), CpuStorage::F32(a), CpuStorage::F32(b)) => {
                run(self, p, l1, a, l2, b, l3)
            }
            (CpuStorage::F64(p), CpuStorage::F64(a), CpuStorage::F64(b)) => {
                run(self, p, l1, a, l2, b, l3)
            }
            _ => candle_core::bail!("{}: f32 or f64 operands of one dtype", self.name),
        }
    }
}

/// Whether the fused kernels can run on these tensors (CPU, one float dtype, contiguous).
pub(crate) fn usable(tensors: &[&Tensor]) -> bool {
    #[cfg(test)]
    if tests::TENSOR_PATH.with(std::cell::Cell::get) {
        return false;
    }
    tensors
        .iter()
        .all(|t| t.device().is_cpu() && t.is_contiguous())
        && tensors.windows(2).all(|w| w[0].dtype() == w[1].dtype())
        && tensors
            .first()
            .is_some_and(|t| matches!(t.dtype(), candle_core::DType::F32 | candle_core::DType::F64))
}

/// `dst ← flush(dst · a + src · b)` (`square`: `src²`), in place.
pub(crate) fn mix(
    dst: &Tensor,
    src: &Tensor,
    a: f64,
    b: f64,
    square: bool,
    flush_tiny: bool,
) -> Result<()> {
    Ok(dst.inplace_op2(
        src,
        &Mix {
            a,
            b,
            square,
            flush_tiny,
        },
    )?)
}

/// Adam's parameter step, in place on `param`.
pub(crate) fn adam_step(
    param: &Tensor,
    m: &Tensor,
    v: &Tensor,
    inv_bc2_sqrt: f64,
    eps: f64,
    step_size: f64,
) -> Result<()> {
    let step = Step {
        name: "fused-adam-step",
        denom: Denom::SqrtTimesPlusEps(inv_bc2_sqrt),
        eps,
        scale: step_size,
    };
    Ok(param.inplace_op3(m, v, &step)?)
}

/// RMSprop's parameter step, in place on `param`.
pub(crate) fn rms_step(
    param: &Tensor,
    g: &Tensor,
    s: &Tensor,
    lr: f64,
    eps: f64,
    eps_inside: bool,
) -> Result<()> {
    let denom = if eps_inside {
        Denom::SqrtOfSumWithEps
    } else {
        Denom::SqrtTimesPlusEps(1.0)
    };
    let step = Step {
        name: "fused-rmsprop-step",
        denom,
        eps,
        scale: lr,
    };
    Ok(param.inplace_op3(g, s, &step)?)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]

    use candle_core::{DType, Device, Var};

    use crate::SeededRng;
    use crate::optim::{Adam, AdamConfig, Optimizer, RmsProp, RmsPropConfig, RmsPropStyle};

    thread_local! {
        /// Forces the tensor-op path, to compare it with the kernels.
        pub(super) static TENSOR_PATH: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }

    /// Runs `steps` optimizer steps on fixed random parameters and gradients (some tiny, to
    /// exercise the flush), with the kernels or the tensor ops; returns the final parameters.
    fn run(kind: &str, dtype: DType, tensor_path: bool) -> Vec<Vec<f64>> {
        TENSOR_PATH.with(|c| c.set(tensor_path));
        let mut rng = SeededRng::new(3);
        let dev = Device::Cpu;
        let params: Vec<(String, Var)> = [(64usize, 32usize), (1, 32)]
            .iter()
            .enumerate()
            .map(|(i, &(r, c))| {
                let t = rng
                    .normal(&[r, c], DType::F32, &dev)
                    .unwrap()
                    .to_dtype(dtype)
                    .unwrap();
                (format!("p{i}"), Var::from_tensor(&t).unwrap())
            })
            .collect();
        let mut opt: Box<dyn Optimizer> = match kind {
            "adam" => Box::new(
                Adam::new(
                    params.clone(),
                    AdamConfig {
                        lr: 1e-3,
                        ..AdamConfig::default()
                    },
                )
                .unwrap(),
            ),
            "rms-pt" => Box::new(RmsProp::new(params.clone(), RmsPropConfig::default()).unwrap()),
            _ => Box::new(
                RmsProp::new(
                    params.clone(),
                    RmsPropConfig {
                        style: RmsPropStyle::TfLike,
                        ..RmsPropConfig::default()
                    },
                )
                .unwrap(),
            ),
        };
        let targets: Vec<Var> = params
            .iter()
            .map(|(_, v)| Var::from_tensor(&v.as_tensor().zeros_like().unwrap()).unwrap())
            .collect();
        for step in 0..30 {
            let grads: Vec<Option<candle_core::Tensor>> = params
                .iter()
                .map(|(_, v)| {
                    let scale = if step % 7 == 3 { 1e-20 } else { 1.0 };
                    let g = rng
                        .normal(v.dims(), DType::F32, &dev)
                        .unwrap()
                        .to_dtype(dtype)
                        .unwrap();
                    Some((g * scale).unwrap())
                })
                .collect();
            opt.step_with(&grads).unwrap();
            let sources: Vec<Var> = params.iter().map(|(_, v)| v.clone()).collect();
            crate::polyak::polyak_update(&sources, &targets, 0.005).unwrap();
        }
        TENSOR_PATH.with(|c| c.set(false));
        params
            .iter()
            .map(|(_, v)| v.as_tensor())
            .chain(targets.iter().map(|v| v.as_tensor()))
            .map(|t| {
                t.flatten_all()
                    .unwrap()
                    .to_dtype(DType::F64)
                    .unwrap()
                    .to_vec1()
                    .unwrap()
            })
            .collect()
    }

    #[test]
    fn the_kernels_are_bit_identical_to_the_tensor_ops() {
        for kind in ["adam", "rms-pt", "rms-tf"] {
            for dtype in [DType::F32, DType::F64] {
                let fused = run(kind, dtype, false);
                let ops = run(kind, dtype, true);
                for (a, b) in fused.iter().zip(&ops) {
                    let same = a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits());
                    assert!(
                        same,
                        "{kind} {dtype:?}: the kernels and the tensor ops differ"
                    );
                }
            }
        }
    }
}
