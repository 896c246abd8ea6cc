use serde::{Deserialize, Serialize};

use super::{forward_env, inner_accessors};
use crate::env::{unwrap_snapshot, wrap_snapshot};
use crate::{Action, Env, EnvError, Step};

/// Running mean and variance of vectors (Chan et al.'s parallel update), Gymnasium's and SB3's
/// `RunningMeanStd`: starts at mean 0, variance 1 and a pseudo-count of `1e-4`.
///
/// Kept in float64, as SB3's `VecNormalize` keeps it (Gymnasium's `NormalizeObservation` uses
/// float32; the two agree to float32 precision).
///
/// Serializable, so a trained agent's normalization can be saved next to its weights and restored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunningMeanStd {
    mean: Vec<f64>,
    var: Vec<f64>,
    count: f64,
}

impl RunningMeanStd {
    /// Statistics of `dim`-component vectors, before any sample.
    pub fn new(dim: usize) -> Self {
        Self {
            mean: vec![0.0; dim],
            var: vec![1.0; dim],
            count: 1e-4,
        }
    }

    /// Restores saved statistics: `mean` and `var` of the same length, finite, `var >= 0`, `count > 0`.
    pub fn from_parts(mean: Vec<f64>, var: Vec<f64>, count: f64) -> Result<Self, EnvError> {
        let bad = |why: String| {
            Err(EnvError::InvalidConfig(format!(
                "running statistics: {why}"
            )))
        };
        if mean.len() != var.len() {
            return bad(format!(
                "mean has {} values, var has {}",
                mean.len(),
                var.len()
            ));
        }
        if mean.iter().chain(&var).any(|v| !v.is_finite()) {
            return bad("mean and var must be finite".into());
        }
        if var.iter().any(|v| *v < 0.0) {
            return bad("var must be non-negative".into());
        }
        if !(count.is_finite() && count > 0.0) {
            return bad(format!("count must be positive, got {count}"));
        }
        Ok(Self { mean, var, count })
    }

    /// Per-component mean.
    pub fn mean(&self) -> &[f64] {
        &self.mean
    }

    /// Per-component (population) variance.
    pub fn var(&self) -> &[f64] {
        &self.var
    }

    /// Number of samples seen, plus the initial pseudo-count.
    pub fn count(&self) -> f64 {
        self.count
    }

    /// Number of components.
    pub fn dim(&self) -> usize {
        self.mean.len()
    }

    /// Adds a batch of `x.len() / dim` samples stored row after row.
    pub fn update(&mut self, x: &[f32]) -> Result<(), EnvError> {
        let dim = self.dim();
        if dim == 0 || x.is_empty() || !x.len().is_multiple_of(dim) {
            return Err(EnvError::InvalidConfig(format!(
                "running statistics of {dim} components cannot take a batch of {} values",
                x.len()
            )));
        }
        let n = (x.len() / dim) as f64;
        let tot_count = self.count + n;
        for j in 0..dim {
            let column = x.iter().skip(j).step_by(dim).map(|&v| f64::from(v));
            let batch_mean = column.clone().sum::<f64>() / n;
            let batch_var = column.map(|v| (v - batch_mean).powi(2)).sum::<f64>() / n;
            let delta = batch_mean - self.mean[j];
            let m2 = self.var[j] * self.count
                + batch_var * n
                + delta * delta * self.count * n / tot_count;
            self.mean[j] += delta * n / tot_count;
            self.var[j] = m2 / tot_count;
        }
        self.count = tot_count;
        Ok(())
    }

    /// `out = (x − mean) / sqrt(var + epsilon)`, clipped to `±clip` if given, row after row.
    pub fn normalize_into(&self, x: &[f32], epsilon: f64, clip: Option<f32>, out: &mut [f32]) {
        let dim = self.dim().max(1);
        for (i, (o, &v)) in out.iter_mut().zip(x).enumerate() {
            let j = i % dim;
            let z = ((f64::from(v) - self.mean[j]) / (self.var[j] + epsilon).sqrt()) as f32;
            *o = match clip {
                Some(c) => z.clamp(-c, c),
                None => z,
            };
        }
    }
}

/// Normalizes observations to zero mean and unit variance with running statistics
/// (Gymnasium's `NormalizeObservation`; with [`with_clip`](Self::with_clip), SB3's `VecNormalize`
/// observation clipping).
///
/// Every observation (from `reset` and `step`) first updates the statistics, then is normalized with
/// them: `(obs − mean) / sqrt(var + 1e-8)`. For evaluation, freeze the statistics with
/// [`set_update`](Self::set_update)`(false)` and load the trained ones with [`set_stats`](Self::set_stats).
#[derive(Debug, Clone)]
pub struct NormalizeObservation<E> {
    env: E,
    stats: RunningMeanStd,
    epsilon: f64,
    clip: Option<f32>,
    update: bool,
    obs: Vec<f32>,
}

impl<E: Env> NormalizeObservation<E> {
    /// Wraps `env` with fresh statistics, `epsilon = 1e-8`, no clipping, updating.
    pub fn new(env: E) -> Self {
        let dim = env.observation_space().flat_dim();
        Self {
            env,
            stats: RunningMeanStd::new(dim),
            epsilon: 1e-8,
            clip: None,
            update: true,
            obs: vec![0.0; dim],
        }
    }

    /// Clips normalized observations to `[-clip, clip]` (SB3 uses 10); `clip` must be positive.
    pub fn with_clip(mut self, clip: f32) -> Result<Self, EnvError> {
        if clip.is_nan() || clip <= 0.0 {
            return Err(EnvError::InvalidConfig(format!(
                "observation clip must be positive, got {clip}"
            )));
        }
        self.clip = Some(clip);
        Ok(self)
    }

    /// The current statistics (save these with the agent).
    pub fn stats(&self) -> &RunningMeanStd {
        &self.stats
    }

    /// Replaces the statistics, for example with saved ones; their dimension must match.
    pub fn set_stats(&mut self, stats: RunningMeanStd) -> Result<(), EnvError> {
        if stats.dim() != self.obs.len() {
            return Err(EnvError::InvalidConfig(format!(
                "statistics have {} components, observations have {}",
                stats.dim(),
                self.obs.len()
            )));
        }
        self.stats = stats;
        Ok(())
    }

    /// Whether observations keep updating the statistics (turn off for evaluation).
    pub fn set_update(&mut self, update: bool) {
        self.update = update;
    }

    inner_accessors!();
}

/// Updates `stats` with `raw` (if `update`) and writes the normalized observation into `out`.
fn normalize(
    stats: &mut RunningMeanStd,
    update: bool,
    epsilon: f64,
    clip: Option<f32>,
    raw: &[f32],
    out: &mut [f32],
) -> Result<(), EnvError> {
    if let Some(index) = raw.iter().position(|v| !v.is_finite()) {
        return Err(EnvError::NonFiniteObservation {
            index,
            value: raw[index],
        });
    }
    if update {
        stats.update(raw)?;
    }
    stats.normalize_into(raw, epsilon, clip, out);
    Ok(())
}

impl<E: Env> Env for NormalizeObservation<E> {
    forward_env!(
        id,
        observation_space,
        action_space,
        state,
        max_episode_steps,
        render
    );

    fn reset(&mut self, seed: Option<u64>) -> Result<&[f32], EnvError> {
        let raw = self.env.reset(seed)?;
        normalize(
            &mut self.stats,
            self.update,
            self.epsilon,
            self.clip,
            raw,
            &mut self.obs,
        )?;
        Ok(&self.obs)
    }

    fn step(&mut self, action: Action<'_>) -> Result<Step<'_>, EnvError> {
        let step = self.env.step(action)?;
        normalize(
            &mut self.stats,
            self.update,
            self.epsilon,
            self.clip,
            step.observation,
            &mut self.obs,
        )?;
        Ok(Step {
            observation: &self.obs,
            ..step
        })
    }

    fn set_state(&mut self, state: &[f64]) -> Result<&[f32], EnvError> {
        let raw = self.env.set_state(state)?;
        self.stats
            .normalize_into(raw, self.epsilon, self.clip, &mut self.obs);
        Ok(&self.obs)
    }

    fn snapshot(&self) -> Result<serde_json::Value, EnvError> {
        let own =
            serde_json::json!({ "stats": self.stats, "update": self.update, "obs": self.obs });
        wrap_snapshot(&self.env, own)
    }

    fn restore(&mut self, snapshot: &serde_json::Value) -> Result<(), EnvError> {
        #[derive(Deserialize)]
        struct Own {
            stats: RunningMeanStd,
            update: bool,
            obs: Vec<f32>,
        }
        let (own, inner): (Own, _) = unwrap_snapshot(self.env.id(), snapshot)?;
        if own.obs.len() != self.obs.len() || own.stats.dim() != self.obs.len() {
            return Err(EnvError::Snapshot {
                env: self.env.id().to_owned(),
                reason: "normalization statistics of another dimension".into(),
            });
        }
        self.env.restore(&inner)?;
        self.stats = own.stats;
        self.update = own.update;
        self.obs = own.obs;
        Ok(())
    }
}
