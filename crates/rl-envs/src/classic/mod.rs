//! Gymnasium's classic-control environments, ported operation for operation.
//!
//! Each matches `gymnasium/envs/classic_control/*.py` (Gymnasium 1.4): the same constants, the same
//! update order, float64 internals and float32 observations, so that from the same state and actions
//! it produces the same observations, rewards and flags. `tests/gymnasium_parity.rs` checks this
//! against trajectories recorded from Gymnasium itself. Random resets draw from this crate's own
//! generator, so they follow the same distributions but not NumPy's exact numbers.

mod acrobot;
mod cartpole;
mod mountain_car;
mod pendulum;
mod render;

pub use acrobot::Acrobot;
pub use cartpole::CartPole;
pub use mountain_car::{MountainCar, MountainCarContinuous};
pub use pendulum::Pendulum;

/// Python's `x ** 2` on a float (and NumPy's on a float64 scalar): what C's `pow(x, 2.0)` returns.
///
/// glibc's `pow` is not correctly rounded (its error is below 0.52 ULP), so in about one case in a
/// thousand it differs from `x * x` in the last bit. Gymnasium's Pendulum reward and Acrobot dynamics
/// use `**`, so the ports must return `pow`'s answer. `pow` is slow, though, and it can only differ
/// from the correctly rounded `x * x` when the exact square lies within 0.52 ULP of the other
/// neighbour, that is, when the rounding error of `x * x` exceeds 0.48 ULP. The exact error comes
/// from one fused multiply-add, so `pow` is called only in those rare cases (and for zeros,
/// subnormals, powers of two and non-finite values, where the ULP test does not apply).
pub(crate) fn py_square(x: f64) -> f64 {
    let p = x * x;
    let bits = p.to_bits();
    let exponent_bits = bits & 0x7ff0_0000_0000_0000;
    let mantissa_bits = bits & 0x000f_ffff_ffff_ffff;
    if exponent_bits != 0 && exponent_bits != 0x7ff0_0000_0000_0000 && mantissa_bits != 0 {
        let ulp = f64::from_bits(exponent_bits) * f64::EPSILON;
        let rounding_error = x.mul_add(x, -p);
        if rounding_error.abs() < 0.47 * ulp {
            return p;
        }
    }
    // `black_box` stops LLVM from rewriting `pow(x, 2.0)` as `x * x`.
    x.powf(std::hint::black_box(2.0))
}

/// NumPy's `x ** 2` on a float32 scalar: C's `powf(x, 2.0f)` (see [`py_square`]; `black_box`
/// keeps the call).
pub(crate) fn py_square_f32(x: f32) -> f32 {
    x.powf(std::hint::black_box(2.0))
}

#[cfg(test)]
mod tests {
    use super::py_square;
    use rand::{Rng, SeedableRng};

    /// The fast path must give exactly what `pow` gives, including where that differs from `x * x`.
    #[test]
    fn py_square_is_pow_bit_for_bit() {
        let mut rng = crate::EnvRng::seed_from_u64(0);
        let mut differ_from_mul = 0;
        for i in 0..400_000 {
            let scale = [1e-3, 1.0, 20.0, 1e6][i % 4];
            let x: f64 = rng.random_range(-scale..scale);
            let want = x.powf(std::hint::black_box(2.0));
            assert_eq!(py_square(x).to_bits(), want.to_bits(), "x = {x:e}");
            differ_from_mul += usize::from(want != x * x);
        }
        // pow and x * x do differ here, so the test exercises the slow path.
        assert!(differ_from_mul > 0);
        for x in [
            0.0,
            -0.0,
            1.0,
            2.0,
            0.5,
            f64::MIN_POSITIVE,
            1e-200,
            1e200,
            f64::INFINITY,
            f64::NAN,
        ] {
            let want = x.powf(std::hint::black_box(2.0));
            assert_eq!(py_square(x).to_bits(), want.to_bits(), "x = {x:e}");
        }
    }
}
