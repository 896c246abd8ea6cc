//! NumPy's arithmetic where Gymnasium's rewards depend on it to the last bit.
//!
//! Gymnasium computes most control costs as `weight * np.sum(np.square(action))` on the float32
//! action: NumPy squares and sums in float32 (pairwise, eight accumulators for eight or more
//! terms) and, by NEP 50, multiplies by the Python-float weight in float32 too. The reward is
//! then a float64 sum with a float32 term, so matching Gymnasium's rewards within 1e-9 needs the
//! float32 cost exactly.

use std::ops::Add;

/// `np.sum(x)` of a contiguous 1-D array: NumPy's pairwise summation (`pairwise_sum` in
/// `loops_utils.h`), with the same order of additions, so the result is bit-identical.
pub(crate) fn sum<T: Copy + Add<Output = T> + Default>(x: &[T]) -> T {
    const BLOCK: usize = 128;
    let n = x.len();
    if n < 8 {
        x.iter().fold(T::default(), |acc, &v| acc + v)
    } else if n <= BLOCK {
        let mut r: [T; 8] = [x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7]];
        let mut i = 8;
        while i < n - n % 8 {
            for (j, acc) in r.iter_mut().enumerate() {
                *acc = *acc + x[i + j];
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for &v in &x[i..] {
            res = res + v;
        }
        res
    } else {
        let mut half = n / 2;
        half -= half % 8;
        sum(&x[..half]) + sum(&x[half..])
    }
}

/// Gymnasium's `weight * np.sum(np.square(action))` for a float32 action: float32 throughout.
pub(crate) fn control_cost_f32(weight: f64, action: &[f32]) -> f32 {
    let mut squares = [0.0_f32; 32];
    let squares = match squares.get_mut(..action.len()) {
        Some(s) => {
            for (s, a) in s.iter_mut().zip(action) {
                *s = a * a;
            }
            &*s
        }
        None => return weight as f32 * sum(&action.iter().map(|a| a * a).collect::<Vec<_>>()),
    };
    weight as f32 * sum(squares)
}

/// `np.sum(np.square(x))` of float64 values.
pub(crate) fn sum_of_squares(x: impl Iterator<Item = f64>, scratch: &mut Vec<f64>) -> f64 {
    scratch.clear();
    scratch.extend(x.map(|v| v * v));
    sum(scratch)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(n, np.sum(np.square(a)), 0.1 * np.sum(np.square(a)))` as float32 bits, with
    /// `a[i] = float32(((37 i) % 101) / 67 - 0.75)`, from NumPy 2.4.6:
    /// `np.array([((i*37)%101)/67.0-0.75 for i in range(n)]).astype(np.float32)`.
    /// For 17 terms and more a left-to-right float32 loop gives other bits.
    const NUMPY: [(usize, u32, u32); 5] = [
        (3, 1_060_777_463, 1_033_171_347),
        (8, 1_070_036_186, 1_042_256_047),
        (17, 1_079_733_879, 1_051_691_923),
        (130, 1_103_506_833, 1_075_743_451),
        (300, 1_113_809_314, 1_085_663_157),
    ];

    #[test]
    fn sums_and_control_costs_are_numpys_to_the_bit() {
        for (n, total, cost) in NUMPY {
            let a: Vec<f32> = (0..n)
                .map(|i| (((i * 37) % 101) as f64 / 67.0 - 0.75) as f32)
                .collect();
            let squares: Vec<f32> = a.iter().map(|x| x * x).collect();
            assert_eq!(sum(&squares).to_bits(), total, "n = {n}");
            assert_eq!(control_cost_f32(0.1, &a).to_bits(), cost, "n = {n}");
        }
    }
}
