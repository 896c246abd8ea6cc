//! [`SeededRng`]: the one source of randomness for learners, seeded and reproducible.
//!
//! Candle's CPU backend cannot be seeded (`Device::set_seed` fails on CPU and `randn` draws from a
//! thread RNG), so nothing in this project draws from it. Every random tensor (weight
//! initialization, exploration noise, reparameterization noise) and every random index (replay
//! sampling) comes from a [`SeededRng`], and tensors are built with `Tensor::from_vec`: the same
//! seed gives the same numbers on every run, on every device.

use std::collections::VecDeque;

use candle_core::{DType, Device, Tensor};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use crate::{MathError, Result};

/// A seeded ChaCha8 generator with helpers that produce Candle tensors.
///
/// ChaCha8 is portable and its position can be saved: [`state`](Self::state) /
/// [`from_state`](Self::from_state) round-trip exactly, so a checkpointed run continues with the
/// same draws.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeededRng {
    rng: ChaCha8Rng,
    /// Recorded standard-normal values (`f32` bits) that [`normal`](Self::normal) and
    /// [`normal_vec`](Self::normal_vec) return, in order, before drawing their own.
    replay: VecDeque<u32>,
}

/// The saved position of a [`SeededRng`] (serializable, e.g. into a checkpoint manifest).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RngState(ChaCha8Rng);

impl SeededRng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            rng: ChaCha8Rng::seed_from_u64(seed),
            replay: VecDeque::new(),
        }
    }

    /// A generator whose first standard-normal values (through [`normal`](Self::normal) and
    /// [`normal_vec`](Self::normal_vec), in the order they are asked for) are `normals`, and whose
    /// every other draw comes from ChaCha8 seeded with `seed`. It replays another library's
    /// recorded exploration noise through a learner, so that a whole run can be compared with
    /// that library's step by step (`rl-a2c`'s `tests/whole_run.rs` replays Stable-Baselines3's
    /// A2C). The values still to replay are not part of [`state`](Self::state).
    ///
    /// ```
    /// use candle_core::{DType, Device};
    ///
    /// let mut rng = rl_math::SeededRng::replaying_normals(0, &[0.5, -1.25]);
    /// let eps = rng.normal(&[2], DType::F64, &Device::Cpu)?;
    /// assert_eq!(eps.to_vec1::<f64>()?, [0.5, -1.25]);
    /// assert_eq!(rng.replay_left(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn replaying_normals(seed: u64, normals: &[f32]) -> Self {
        Self {
            rng: ChaCha8Rng::seed_from_u64(seed),
            replay: normals.iter().map(|x| x.to_bits()).collect(),
        }
    }

    /// How many values of [`replaying_normals`](Self::replaying_normals) are still to come.
    pub fn replay_left(&self) -> usize {
        self.replay.len()
    }

    /// The next standard-normal value: a replayed one, else a draw.
    fn standard_normal<T: From<f32>>(&mut self) -> T
    where
        StandardNormal: Distribution<T>,
    {
        match self.replay.pop_front() {
            Some(bits) => T::from(f32::from_bits(bits)),
            None => StandardNormal.sample(&mut self.rng),
        }
    }

    /// A new, independent generator seeded from this one (advances this one by one draw).
    pub fn fork(&mut self) -> Self {
        Self::new(self.rng.random())
    }

    /// The generator's exact position.
    pub fn state(&self) -> RngState {
        RngState(self.rng.clone())
    }

    /// A generator at a saved position.
    pub fn from_state(state: RngState) -> Self {
        Self {
            rng: state.0,
            replay: VecDeque::new(),
        }
    }

    /// The underlying generator, for draws this type has no helper for (any `rand` distribution).
    pub fn rng(&mut self) -> &mut ChaCha8Rng {
        &mut self.rng
    }

    /// A uniform `u64` (for seeding environments and other generators).
    pub fn next_u64(&mut self) -> u64 {
        self.rng.random()
    }

    /// `count` indices drawn uniformly from `0..n`, with replacement.
    pub fn indices(&mut self, n: usize, count: usize) -> Result<Vec<usize>> {
        if n == 0 && count > 0 {
            return Err(MathError::InvalidArgument(
                "cannot draw indices from an empty range".into(),
            ));
        }
        Ok((0..count).map(|_| self.rng.random_range(0..n)).collect())
    }

    /// A uniformly random permutation of `0..n` (Fisher–Yates, `rand`'s `SliceRandom::shuffle`):
    /// the order of PPO's minibatches.
    ///
    /// ```
    /// let mut rng = rl_math::SeededRng::new(0);
    /// let mut p = rng.permutation(5);
    /// p.sort();
    /// assert_eq!(p, [0, 1, 2, 3, 4]);
    /// ```
    pub fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut p: Vec<usize> = (0..n).collect();
        p.shuffle(&mut self.rng);
        p
    }

    /// Standard-normal values (float32 draws).
    pub fn normal_vec(&mut self, n: usize) -> Vec<f32> {
        (0..n).map(|_| self.standard_normal()).collect()
    }

    /// A tensor of standard-normal values (float32 draws, or float64 draws for an `F64` tensor).
    pub fn normal(&mut self, shape: &[usize], dtype: DType, device: &Device) -> Result<Tensor> {
        let n = shape.iter().product();
        let t = match dtype {
            DType::F64 => {
                let v: Vec<f64> = (0..n).map(|_| self.standard_normal()).collect();
                Tensor::from_vec(v, shape, device)?
            }
            _ => Tensor::from_vec(self.normal_vec(n), shape, device)?.to_dtype(dtype)?,
        };
        Ok(t)
    }

    /// A tensor of values uniform in `[low, high)`.
    pub fn uniform(
        &mut self,
        shape: &[usize],
        low: f64,
        high: f64,
        dtype: DType,
        device: &Device,
    ) -> Result<Tensor> {
        if !(low.is_finite() && high.is_finite() && low <= high) {
            return Err(MathError::InvalidArgument(format!(
                "uniform bounds must be finite with low <= high, got [{low}, {high})"
            )));
        }
        let n: usize = shape.iter().product();
        let v: Vec<f64> = (0..n)
            .map(|_| low + (high - low) * self.rng.random::<f64>())
            .collect();
        Ok(Tensor::from_vec(v, shape, device)?.to_dtype(dtype)?)
    }

    /// A `rows × cols` matrix with orthonormal rows or columns (whichever are fewer), scaled by
    /// `gain`: PyTorch's `nn.init.orthogonal_` (QR of a Gaussian matrix, signs fixed by `R`'s
    /// diagonal so the distribution is uniform over orthogonal matrices).
    pub fn orthogonal(
        &mut self,
        rows: usize,
        cols: usize,
        gain: f64,
        dtype: DType,
        device: &Device,
    ) -> Result<Tensor> {
        if rows == 0 || cols == 0 {
            return Err(MathError::InvalidArgument(format!(
                "orthogonal init needs a non-empty matrix, got {rows} x {cols}"
            )));
        }
        // Work on the tall orientation (n >= m) and transpose back at the end.
        let (n, m) = (rows.max(cols), rows.min(cols));
        let a: Vec<f64> = (0..n * m)
            .map(|_| StandardNormal.sample(&mut self.rng))
            .collect();
        let q = orthonormal_columns(a, n, m);
        let out: Vec<f64> = if rows >= cols {
            q.iter().map(|v| v * gain).collect()
        } else {
            // q is n x m with n = cols: the result rows x cols is its transpose.
            (0..rows)
                .flat_map(|r| (0..cols).map(move |c| (r, c)))
                .map(|(r, c)| q[c * m + r] * gain)
                .collect()
        };
        Ok(Tensor::from_vec(out, (rows, cols), device)?.to_dtype(dtype)?)
    }

    /// PyTorch's default `nn.Linear` weight and bias for `in_features → out_features`:
    /// both uniform in `±1/sqrt(in_features)` (`kaiming_uniform_(a=√5)` and its bias rule).
    pub fn linear_default(
        &mut self,
        in_features: usize,
        out_features: usize,
        dtype: DType,
        device: &Device,
    ) -> Result<(Tensor, Tensor)> {
        if in_features == 0 {
            return Err(MathError::InvalidArgument(
                "a linear layer needs at least one input feature".into(),
            ));
        }
        let bound = 1.0 / (in_features as f64).sqrt();
        let w = self.uniform(&[out_features, in_features], -bound, bound, dtype, device)?;
        let b = self.uniform(&[out_features], -bound, bound, dtype, device)?;
        Ok((w, b))
    }
}

/// Orthonormalizes the `m` columns of the row-major `n × m` matrix `a` (n >= m) by modified
/// Gram–Schmidt applied twice (enough for full float64 orthogonality). This is the `Q` of the QR
/// decomposition whose `R` has a positive diagonal, which is what PyTorch's init produces after
/// fixing the signs of its Householder `Q`.
fn orthonormal_columns(mut a: Vec<f64>, n: usize, m: usize) -> Vec<f64> {
    let col = |a: &[f64], j: usize| -> Vec<f64> { (0..n).map(|i| a[i * m + j]).collect() };
    for j in 0..m {
        let mut v = col(&a, j);
        for _ in 0..2 {
            for k in 0..j {
                let qk = col(&a, k);
                let dot: f64 = qk.iter().zip(&v).map(|(x, y)| x * y).sum();
                v.iter_mut().zip(&qk).for_each(|(x, q)| *x -= dot * q);
            }
        }
        let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        for (i, x) in v.iter().enumerate() {
            a[i * m + j] = x / norm;
        }
    }
    a
}
