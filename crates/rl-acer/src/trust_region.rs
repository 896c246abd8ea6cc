//! ACER's efficient trust region (Wang et al. 2017, section 3.3, eq. 12–13).
//!
//! With `ĝ` the gradient of the policy objective with respect to the policy's statistics `φ`
//! (probabilities, or a Gaussian's mean and log standard deviation) for one sample, and
//! `k = ∇_φ KL(f(·|φ_avg) ‖ f(·|φ))` the gradient of the divergence from the average policy, the
//! update direction solves `min ½‖z − ĝ‖² s.t. kᵀz ≤ δ`:
//!
//! `z* = ĝ − max(0, (kᵀĝ − δ) / ‖k‖²) · k`,
//!
//! applied to every sample independently.

/// Added to `‖k‖²` so a zero `k` (the policy equals the average policy) divides safely.
pub const KK_EPS: f64 = 1e-12;

/// Replaces `g` (one sample's `ĝ`) by `z* = ĝ − max(0, (kᵀĝ − δ) / ‖k‖²) k` and returns the
/// scale `max(0, (kᵀĝ − δ) / ‖k‖²)` (0 when the constraint `kᵀĝ ≤ δ` already holds).
///
/// ```
/// // kᵀĝ = 2 > δ = 1: scale (2 − 1) / 2 = 0.5, z* = [1.5, −0.5], and kᵀz* = δ.
/// let mut g = [2.0, 0.0];
/// let scale = rl_acer::trust_region::project(&mut g, &[1.0, 1.0], 1.0);
/// assert!((scale - 0.5).abs() < 1e-9);
/// assert!((g[0] - 1.5).abs() < 1e-9 && (g[1] + 0.5).abs() < 1e-9);
/// ```
pub fn project(g: &mut [f64], k: &[f64], delta: f64) -> f64 {
    let kg: f64 = k.iter().zip(g.iter()).map(|(k, g)| k * g).sum();
    let kk: f64 = k.iter().map(|k| k * k).sum::<f64>() + KK_EPS;
    let scale = ((kg - delta) / kk).max(0.0);
    if scale > 0.0 {
        for (g, k) in g.iter_mut().zip(k) {
            *g -= scale * k;
        }
    }
    scale
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn dot(a: &[f64], b: &[f64]) -> f64 {
        a.iter().zip(b).map(|(a, b)| a * b).sum()
    }

    proptest! {
        /// `kᵀz* ≤ δ` always; `z* = ĝ` exactly when the constraint was already met; otherwise
        /// the constraint is tight (`kᵀz* = δ`) and `z*` moved only along `k`.
        #[test]
        fn the_projection_meets_the_constraint_and_is_the_identity_when_inactive(
            g in prop::collection::vec(-100.0f64..100.0, 1..8),
            k_seed in prop::collection::vec(-10.0f64..10.0, 8),
            delta in 0.01f64..10.0,
        ) {
            let k = &k_seed[..g.len()];
            let mut z = g.clone();
            let scale = project(&mut z, k, delta);
            let (kg, kz, kk) = (dot(k, &g), dot(k, &z), dot(k, k));
            let tol = 1e-9 * (1.0 + kg.abs() + kk);
            prop_assert!(kz <= delta + tol, "kᵀz = {kz} > δ = {delta}");
            if kg <= delta {
                prop_assert_eq!(scale, 0.0);
                prop_assert_eq!(&z, &g);
            } else {
                prop_assert!((kz - delta).abs() <= tol || kk < 1e-6);
                for ((z, g), k) in z.iter().zip(&g).zip(k) {
                    prop_assert!((z - (g - scale * k)).abs() <= 1e-12 * (1.0 + g.abs()));
                }
            }
        }
    }
}
