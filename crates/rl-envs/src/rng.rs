//! The random generator environments draw from.

use rand::SeedableRng;

/// The generator every environment owns (Gymnasium's `np_random`): ChaCha8, a portable stream
/// cipher generator, so a seed gives the same draws on every platform and release.
pub type EnvRng = rand_chacha::ChaCha8Rng;

/// The generator for `reset(seed)`: seeded if a seed is given, otherwise the current one, or one
/// seeded from the OS if there is none yet (Gymnasium's rule).
pub(crate) fn reseed(rng: &mut Option<EnvRng>, seed: Option<u64>) -> &mut EnvRng {
    match seed {
        Some(s) => rng.insert(EnvRng::seed_from_u64(s)),
        None => rng.get_or_insert_with(EnvRng::from_os_rng),
    }
}

/// `low + (high - low) * U[0, 1)`, NumPy's `Generator.uniform` formula.
pub(crate) fn uniform(rng: &mut EnvRng, low: f64, high: f64) -> f64 {
    use rand::Rng;
    low + (high - low) * rng.random::<f64>()
}
