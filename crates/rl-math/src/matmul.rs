//! [`matmul`]: candle's matrix product on one thread, without asking how many cores there are.
//!
//! Every CPU matrix product of candle 0.11 asks `candle_core::utils::get_num_threads()`; with
//! neither `RAYON_NUM_THREADS` nor `CANDLE_CPU_MASK` set, that counts the physical cores by
//! opening and parsing `/proc/cpuinfo` on Linux, on every call: A2C on CartPole ran about 5×
//! slower for it (docs/performance.md). The networks here are small (64 to 256 wide), where
//! candle's threads only add contention anyway, so every product of the learners goes through
//! [`matmul`]: the same `gemm` call candle makes, with the same strides and its single-threaded
//! setting, hence the same bits as `Tensor::matmul` under `RAYON_NUM_THREADS=1`, but no file read.
//! Its gradient is built from the same op, as candle's own matmul rule builds it.

use candle_core::{CpuStorage, CustomOp2, DType, Layout, Shape, Tensor, WithDType};

use crate::Result;

/// `a · b` over the last two dimensions (leading dimensions are a batch and must be equal), as
/// `Tensor::matmul`; on the CPU for `f32`/`f64` without consulting candle's thread count (see the
/// module docs), elsewhere candle's own product. Differentiable.
///
/// ```
/// use candle_core::{Device, Tensor};
/// let a = Tensor::new(&[[1f32, 2.0], [3.0, 4.0]], &Device::Cpu)?;
/// let b = Tensor::new(&[[5f32], [6.0]], &Device::Cpu)?;
/// let c = rl_math::matmul(&a, &b)?;
/// assert_eq!(c.to_vec2::<f32>()?, [[17.0], [39.0]]);
/// # Ok::<(), rl_math::MathError>(())
/// ```
pub fn matmul(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    Ok(product(a, b)?)
}

fn product(a: &Tensor, b: &Tensor) -> candle_core::Result<Tensor> {
    let cpu_float = a.device().is_cpu()
        && b.device().is_cpu()
        && a.dtype() == b.dtype()
        && matches!(a.dtype(), DType::F32 | DType::F64);
    if cpu_float {
        a.apply_op2(b, MatMul)
    } else {
        a.matmul(b)
    }
}

/// The product as a custom op (forward on the CPU; backward through [`product`] again).
struct MatMul;

/// `(batch, m, n, k)` of `lhs · rhs`, checked as `Tensor::matmul` checks it.
fn dims(lhs: &Layout, rhs: &Layout) -> candle_core::Result<(usize, usize, usize, usize)> {
    let (a, b) = (lhs.dims(), rhs.dims());
    let rank = a.len();
    if rank < 2 || b.len() != rank || a[rank - 1] != b[rank - 2] || a[..rank - 2] != b[..rank - 2] {
        return Err(candle_core::Error::ShapeMismatchBinaryOp {
            lhs: lhs.shape().clone(),
            rhs: rhs.shape().clone(),
            op: "matmul",
        });
    }
    let batch = a[..rank - 2].iter().product();
    Ok((batch, a[rank - 2], b[rank - 1], a[rank - 1]))
}

/// The distance between consecutive matrices of a batch, as candle computes it (`ab_skip`).
fn batch_stride(l: &Layout, matrix: usize) -> candle_core::Result<usize> {
    let stride = l.stride();
    let dims = l.dims();
    let rank = stride.len();
    match stride[..rank - 2] {
        [s1, s] if s1 == s * dims[1] => Ok(s),
        [_, s] if dims[0] == 1 => Ok(s),
        [s, _] if dims[1] == 1 => Ok(s),
        [s] => Ok(s),
        [] => Ok(matrix),
        _ => Err(candle_core::Error::Msg(format!(
            "matmul: the batch of a {:?} operand with strides {stride:?} is not evenly spaced",
            dims
        ))),
    }
}

/// The last element an `rows × cols` matrix with strides `(rs, cs)` starting at `start` reads,
/// plus one.
fn extent(start: usize, rows: usize, cols: usize, rs: usize, cs: usize) -> usize {
    start + (rows - 1) * rs + (cols - 1) * cs + 1
}

impl MatMul {
    fn run<T: WithDType + 'static>(
        lhs: &[T],
        lhs_l: &Layout,
        rhs: &[T],
        rhs_l: &Layout,
    ) -> candle_core::Result<(Vec<T>, Shape)> {
        let (batch, m, n, k) = dims(lhs_l, rhs_l)?;
        let rank = lhs_l.dims().len();
        let mut shape = lhs_l.dims()[..rank - 2].to_vec();
        shape.extend([m, n]);
        let mut dst = vec![T::zero(); batch * m * n];
        if dst.is_empty() || k == 0 {
            return Ok((dst, Shape::from(shape)));
        }
        let (ls, rs) = (lhs_l.stride(), rhs_l.stride());
        let (lhs_rs, lhs_cs) = (ls[rank - 2], ls[rank - 1]);
        let (rhs_rs, rhs_cs) = (rs[rank - 2], rs[rank - 1]);
        let (a_skip, b_skip) = (batch_stride(lhs_l, m * k)?, batch_stride(rhs_l, n * k)?);
        // As candle: a batch against one shared right-hand matrix is one product of stacked rows.
        let (batch, m) = if b_skip == 0 && a_skip == m * k {
            (1, batch * m)
        } else {
            (batch, m)
        };
        let (lhs, rhs) = (&lhs[lhs_l.start_offset()..], &rhs[rhs_l.start_offset()..]);
        for step in 0..batch {
            let (a0, b0, c0) = (step * a_skip, step * b_skip, step * m * n);
            // Every element gemm reads or writes lies inside its slice: checked, not assumed.
            if extent(a0, m, k, lhs_rs, lhs_cs) > lhs.len()
                || extent(b0, k, n, rhs_rs, rhs_cs) > rhs.len()
                || c0 + m * n > dst.len()
            {
                return Err(candle_core::Error::Msg(format!(
                    "matmul: operands {:?} and {:?} do not cover their storage",
                    lhs_l.dims(),
                    rhs_l.dims()
                )));
            }
            let (a, b) = (&lhs[a0..], &rhs[b0..]);
            let c = &mut dst[c0..c0 + m * n];
            #[allow(
                unsafe_code,
                reason = "gemm takes raw pointers; the extents above keep every access in bounds"
            )]
            // SAFETY: `a` holds every element at `i * lhs_rs + j * lhs_cs` for i < m, j < k, `b`
            // every one at `j * rhs_rs + l * rhs_cs` for j < k, l < n (the extents checked
            // above), `c` is m × n, row-major and written only (`read_dst` false); the three do
            // not overlap (`c` is a fresh vector).
            unsafe {
                gemm::gemm(
                    m,
                    n,
                    k,
                    c.as_mut_ptr(),
                    1,
                    n as isize,
                    false,
                    a.as_ptr(),
                    lhs_cs as isize,
                    lhs_rs as isize,
                    b.as_ptr(),
                    rhs_cs as isize,
                    rhs_rs as isize,
                    T::zero(),
                    T::one(),
                    false,
                    false,
                    false,
                    gemm::Parallelism::None,
                );
            }
        }
        Ok((dst, Shape::from(shape)))
    }
}

impl CustomOp2 for MatMul {
    fn name(&self) -> &'static str {
        "rl-matmul"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        match (s1, s2) {
            (CpuStorage::F32(a), CpuStorage::F32(b)) => {
                let (c, shape) = Self::run(a, l1, b, l2)?;
                Ok((CpuStorage::F32(c), shape))
            }
            (CpuStorage::F64(a), CpuStorage::F64(b)) => {
                let (c, shape) = Self::run(a, l1, b, l2)?;
                Ok((CpuStorage::F64(c), shape))
            }
            _ => Err(candle_core::Error::Msg(
                "rl-matmul takes two f32 or two f64 operands".into(),
            )),
        }
    }

    /// Candle's matmul rule: `∂a = g · bᵀ`, `∂b = aᵀ · g`, each a product of this op.
    fn bwd(
        &self,
        a: &Tensor,
        b: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let da = product(grad, &b.t()?)?;
        let db = product(&a.t()?, grad)?;
        Ok((Some(da), Some(db)))
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{Device, Tensor, Var};

    use super::matmul;
    use crate::SeededRng;

    /// Bit for bit `Tensor::matmul` (which makes the same gemm call), transposed operands and
    /// batches included, and so are the gradients.
    #[test]
    fn the_product_and_its_gradients_are_candles_bit_for_bit() -> crate::Result<()> {
        let mut rng = SeededRng::new(5);
        let dev = Device::Cpu;
        for (a_dims, b_dims, transpose_b) in [
            (vec![7, 5], vec![3, 5], true),
            (vec![64, 33], vec![33, 65], false),
            (vec![4, 1, 6], vec![4, 6, 3], false),
            (vec![1, 9], vec![9, 2], false),
        ] {
            for dtype in [candle_core::DType::F32, candle_core::DType::F64] {
                let a = Var::from_tensor(&rng.normal(&a_dims, dtype, &dev)?)?;
                let b = Var::from_tensor(&rng.normal(&b_dims, dtype, &dev)?)?;
                let b_used = if transpose_b {
                    b.t()?
                } else {
                    b.as_tensor().clone()
                };
                let ours = matmul(&a, &b_used)?;
                let theirs = a.matmul(&b_used)?;
                let flat = |t: &Tensor| -> crate::Result<Vec<f64>> {
                    Ok(t.to_dtype(candle_core::DType::F64)?
                        .flatten_all()?
                        .to_vec1()?)
                };
                assert_eq!(flat(&ours)?, flat(&theirs)?, "{a_dims:?} x {b_dims:?}");
                let w = rng.normal(ours.dims(), dtype, &dev)?;
                let g_ours = (&ours * &w)?.sum_all()?.backward()?;
                let g_theirs = (&theirs * &w)?.sum_all()?.backward()?;
                for v in [&a, &b] {
                    let (x, y) = (g_ours.get(v), g_theirs.get(v));
                    assert!(x.is_some() && y.is_some());
                    if let (Some(x), Some(y)) = (x, y) {
                        assert_eq!(flat(x)?, flat(y)?, "gradient, {a_dims:?} x {b_dims:?}");
                    }
                }
            }
        }
        Ok(())
    }

    #[test]
    fn shapes_that_do_not_fit_are_an_error() -> crate::Result<()> {
        let dev = Device::Cpu;
        let a = Tensor::zeros((2, 3), candle_core::DType::F32, &dev)?;
        let b = Tensor::zeros((4, 2), candle_core::DType::F32, &dev)?;
        assert!(matmul(&a, &b).is_err());
        let empty = Tensor::zeros((0, 3), candle_core::DType::F32, &dev)?;
        let c = Tensor::zeros((3, 2), candle_core::DType::F32, &dev)?;
        assert_eq!(matmul(&empty, &c)?.dims(), [0, 2]);
        Ok(())
    }
}
