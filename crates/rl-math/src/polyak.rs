//! Polyak averaging of target networks: `θ̄ ← τ θ + (1 − τ) θ̄`.

use candle_core::Var;
use candle_nn::VarMap;

use crate::{MathError, Result};

/// `target ← τ · source + (1 − τ) · target` for each pair (same shapes), `τ ∈ [0, 1]`.
pub fn polyak_update(source: &[Var], target: &[Var], tau: f64) -> Result<()> {
    if !(0.0..=1.0).contains(&tau) {
        return Err(MathError::InvalidArgument(format!(
            "Polyak tau must be in [0, 1], got {tau}"
        )));
    }
    if source.len() != target.len() {
        return Err(MathError::Shape(format!(
            "{} source variables but {} target variables",
            source.len(),
            target.len()
        )));
    }
    for (s, t) in source.iter().zip(target) {
        if s.dims() != t.dims() {
            return Err(MathError::Shape(format!(
                "Polyak pair with shapes {:?} and {:?}",
                s.dims(),
                t.dims()
            )));
        }
        if crate::fused::usable(&[s.as_tensor(), t.as_tensor()]) {
            // t ← t (1 − τ) + s τ in one in-place pass (bit-identical to the tensor ops).
            crate::fused::mix(t.as_tensor(), s.as_tensor(), 1.0 - tau, tau, false, false)?;
            continue;
        }
        let mixed = (s.as_tensor().detach().affine(tau, 0.0)?
            + t.as_tensor().detach().affine(1.0 - tau, 0.0)?)?;
        t.set(&mixed)?;
    }
    Ok(())
}

/// [`polyak_update`] between two `VarMap`s holding the same names and shapes (a network and its
/// target copy).
pub fn polyak_update_varmaps(source: &VarMap, target: &VarMap, tau: f64) -> Result<()> {
    let (s, t) = paired_vars(source, target)?;
    polyak_update(&s, &t, tau)
}

/// The variables of two `VarMap`s paired by name, in name order. Both must hold the same names.
pub fn paired_vars(a: &VarMap, b: &VarMap) -> Result<(Vec<Var>, Vec<Var>)> {
    let a = sorted_vars(a);
    let b = sorted_vars(b);
    let a_names: Vec<&String> = a.iter().map(|(n, _)| n).collect();
    let b_names: Vec<&String> = b.iter().map(|(n, _)| n).collect();
    if a_names != b_names {
        return Err(MathError::StateMismatch(format!(
            "variable names differ: {a_names:?} vs {b_names:?}"
        )));
    }
    Ok((
        a.into_iter().map(|(_, v)| v).collect(),
        b.into_iter().map(|(_, v)| v).collect(),
    ))
}

/// A `VarMap`'s variables with their names, sorted by name (a `VarMap` iterates in no fixed order).
pub fn sorted_vars(map: &VarMap) -> Vec<(String, Var)> {
    let data = map
        .data()
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut vars: Vec<(String, Var)> = data.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    vars.sort_by(|x, y| x.0.cmp(&y.0));
    vars
}
