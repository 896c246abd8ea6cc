//! [`VecNormalize`]: observation and reward normalization shared across a vector env's copies
//! (Stable-Baselines3's `VecNormalize`, which rl-baselines3-zoo's `normalize: true` applies).

use serde::{Deserialize, Serialize};

use crate::vector::{SyncVectorEnv, VecAction, VecStep};
use crate::wrappers::RunningMeanStd;
use crate::{BoxedEnv, Env, EnvError};

/// What [`VecNormalize`] normalizes, and how (SB3's defaults).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NormalizeConfig {
    /// Normalize observations with running statistics.
    pub obs: bool,
    /// Divide rewards by the running standard deviation of the discounted return.
    pub reward: bool,
    /// The discount of that return.
    pub gamma: f64,
    /// Normalized observations are clipped to `±clip_obs`.
    pub clip_obs: f32,
    /// Normalized rewards are clipped to `±clip_reward`.
    pub clip_reward: f64,
    /// Added to the variance before the square root.
    pub epsilon: f64,
}

impl Default for NormalizeConfig {
    fn default() -> Self {
        Self {
            obs: true,
            reward: true,
            gamma: 0.99,
            clip_obs: 10.0,
            clip_reward: 10.0,
            epsilon: 1e-8,
        }
    }
}

/// Normalization statistics to save with an agent and restore for evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NormalizeStats {
    /// Observation statistics, if observations are normalized.
    pub obs: Option<RunningMeanStd>,
    /// Statistics of the discounted return, if rewards are normalized.
    pub ret: Option<RunningMeanStd>,
}

/// A [`SyncVectorEnv`] whose observations (and rewards) are normalized with statistics shared by
/// all its envs, as SB3's `VecNormalize` does:
///
/// - each step (and reset) first updates the observation statistics with the batch of `N`
///   observations (after autoreset), then returns `clip((obs − mean) / √(var + ε), ±clip_obs)`;
///   the true final observation of a finished episode is normalized the same way;
/// - rewards are divided by `√(var + ε)` of the running discounted return `R ← γ R + r` (reset to 0
///   when an episode ends) and clipped; the raw rewards stay available in
///   [`raw_rewards`](Self::raw_rewards).
///
/// Statistics update only while [`training`](Self::set_training); freeze them to evaluate.
#[derive(Debug)]
pub struct VecNormalize<E = BoxedEnv> {
    venv: SyncVectorEnv<E>,
    config: NormalizeConfig,
    stats: NormalizeStats,
    training: bool,
    returns: Vec<f64>,
    obs: Vec<f32>,
    raw_obs: Vec<f32>,
    final_obs: Vec<f32>,
    raw_final_obs: Vec<f32>,
    rewards: Vec<f64>,
    raw_rewards: Vec<f64>,
    terminated: Vec<bool>,
    truncated: Vec<bool>,
}

impl<E: Env> VecNormalize<E> {
    /// Wraps `venv` (statistics start empty, training on).
    pub fn new(venv: SyncVectorEnv<E>, config: NormalizeConfig) -> Result<Self, EnvError> {
        if !(config.clip_obs > 0.0 && config.clip_reward > 0.0 && config.epsilon > 0.0) {
            return Err(EnvError::InvalidConfig(format!(
                "VecNormalize needs positive clip_obs, clip_reward and epsilon: {config:?}"
            )));
        }
        if !(0.0..=1.0).contains(&config.gamma) {
            return Err(EnvError::InvalidConfig(format!(
                "VecNormalize gamma must be in [0, 1], got {}",
                config.gamma
            )));
        }
        let n = venv.num_envs();
        let d = venv.obs_dim();
        Ok(Self {
            stats: NormalizeStats {
                obs: config.obs.then(|| RunningMeanStd::new(d)),
                ret: config.reward.then(|| RunningMeanStd::new(1)),
            },
            config,
            training: true,
            returns: vec![0.0; n],
            obs: vec![0.0; n * d],
            raw_obs: vec![0.0; n * d],
            final_obs: vec![0.0; n * d],
            raw_final_obs: vec![0.0; n * d],
            rewards: vec![0.0; n],
            raw_rewards: vec![0.0; n],
            terminated: vec![false; n],
            truncated: vec![false; n],
            venv,
        })
    }

    /// The wrapped vector env.
    pub fn venv(&self) -> &SyncVectorEnv<E> {
        &self.venv
    }

    /// Whether statistics update (training) or stay fixed (evaluation).
    pub fn set_training(&mut self, training: bool) {
        self.training = training;
    }

    /// The current statistics.
    pub fn stats(&self) -> &NormalizeStats {
        &self.stats
    }

    /// Replaces the statistics (e.g. saved ones). They must normalize the same things, with the
    /// observation dimension of this env.
    pub fn set_stats(&mut self, stats: NormalizeStats) -> Result<(), EnvError> {
        self.check_stats(&stats)?;
        self.stats = stats;
        Ok(())
    }

    fn check_stats(&self, stats: &NormalizeStats) -> Result<(), EnvError> {
        let fits = stats.obs.as_ref().map(RunningMeanStd::dim)
            == self.stats.obs.as_ref().map(RunningMeanStd::dim)
            && stats.ret.is_some() == self.stats.ret.is_some();
        if fits {
            Ok(())
        } else {
            Err(EnvError::InvalidConfig(
                "normalization statistics of another shape or kind".into(),
            ))
        }
    }

    /// The raw (unnormalized) rewards of the last step.
    pub fn raw_rewards(&self) -> &[f64] {
        &self.raw_rewards
    }

    /// The raw (unnormalized) observations of the last reset or step (after a
    /// [`restore`](Self::restore) from a snapshot that predates them, with normalized
    /// observations: stale until the next reset or step).
    pub fn raw_observations(&self) -> &[f32] {
        &self.raw_obs
    }

    /// The raw true final observations of the last step, `obs_dim` values per env: meaningful
    /// only for the envs whose episode ended at that step (as in [`VecStep`]).
    pub fn raw_final_observations(&self) -> &[f32] {
        &self.raw_final_obs
    }

    /// A raw reward `r` normalized with the current statistics: `r / √(var + ε)` of the
    /// discounted return, clipped to `±clip_reward` (unchanged if rewards are not normalized).
    pub fn normalize_reward(&self, r: f64) -> f64 {
        match &self.stats.ret {
            Some(rms) => (r / (rms.var()[0] + self.config.epsilon).sqrt())
                .clamp(-self.config.clip_reward, self.config.clip_reward),
            None => r,
        }
    }

    /// `obs` (rows of `obs_dim`) normalized with the current statistics (unchanged if
    /// observations are not normalized).
    pub fn normalize_obs(&self, obs: &[f32]) -> Vec<f32> {
        let mut out = obs.to_vec();
        if let Some(rms) = &self.stats.obs {
            rms.normalize_into(
                obs,
                self.config.epsilon,
                Some(self.config.clip_obs),
                &mut out,
            );
        }
        out
    }

    /// Resets every env (env `i` with `seed + i`) and returns the normalized observations.
    pub fn reset(&mut self, seed: Option<u64>) -> Result<&[f32], EnvError> {
        let raw = self.venv.reset(seed)?.to_vec();
        self.returns.iter_mut().for_each(|r| *r = 0.0);
        if let (true, Some(rms)) = (self.training, self.stats.obs.as_mut()) {
            rms.update(&raw)?;
        }
        self.obs = self.normalize_obs(&raw);
        self.raw_obs = raw;
        Ok(&self.obs)
    }

    /// Steps every env; observations, final observations and rewards come back normalized.
    pub fn step(&mut self, actions: VecAction<'_>) -> Result<VecStep<'_>, EnvError> {
        let d = self.venv.obs_dim();
        let step = self.venv.step(actions)?;
        let raw_obs = step.observations.to_vec();
        self.raw_rewards.copy_from_slice(step.rewards);
        self.terminated.copy_from_slice(step.terminated);
        self.truncated.copy_from_slice(step.truncated);
        let finals: Vec<(usize, Vec<f32>)> = (0..self.terminated.len())
            .filter_map(|i| step.final_observation(i).map(|o| (i, o.to_vec())))
            .collect();
        if let (true, Some(rms)) = (self.training, self.stats.obs.as_mut()) {
            rms.update(&raw_obs)?;
        }
        self.obs = self.normalize_obs(&raw_obs);
        self.raw_obs = raw_obs;
        for (i, o) in finals {
            let normalized = self.normalize_obs(&o);
            self.final_obs[i * d..(i + 1) * d].copy_from_slice(&normalized);
            self.raw_final_obs[i * d..(i + 1) * d].copy_from_slice(&o);
        }
        for (i, r) in self.raw_rewards.iter().enumerate() {
            self.returns[i] = self.returns[i] * self.config.gamma + r;
        }
        if let (true, Some(rms)) = (self.training, self.stats.ret.as_mut()) {
            let returns: Vec<f32> = self.returns.iter().map(|&r| r as f32).collect();
            rms.update(&returns)?;
        }
        for i in 0..self.raw_rewards.len() {
            self.rewards[i] = self.normalize_reward(self.raw_rewards[i]);
            if self.terminated[i] || self.truncated[i] {
                self.returns[i] = 0.0;
            }
        }
        Ok(VecStep {
            observations: &self.obs,
            rewards: &self.rewards,
            terminated: &self.terminated,
            truncated: &self.truncated,
            final_observations: &self.final_obs,
            obs_dim: d,
        })
    }

    /// The statistics, the discounted returns and the vector env's snapshot (`null` if its envs
    /// do not support snapshots: [`EnvError::SnapshotUnsupported`]).
    pub fn snapshot(&self) -> Result<serde_json::Value, EnvError> {
        let venv = match self.venv.snapshot() {
            Ok(v) => v,
            Err(EnvError::SnapshotUnsupported { .. }) => serde_json::Value::Null,
            Err(e) => return Err(e),
        };
        Ok(serde_json::json!({
            "stats": self.stats,
            "training": self.training,
            "returns": self.returns,
            "obs": self.obs,
            "raw_obs": self.raw_obs,
            "venv": venv,
        }))
    }

    /// Puts everything back where [`snapshot`](Self::snapshot) found it, and returns whether the
    /// envs themselves were restored. If the snapshot has no envs (they do not support
    /// snapshots), only the statistics are restored: the discounted returns restart from zero and
    /// the envs must be reset before the next step.
    pub fn restore(&mut self, snapshot: &serde_json::Value) -> Result<bool, EnvError> {
        let err = |reason: String| EnvError::Snapshot {
            env: "VecNormalize".into(),
            reason,
        };
        let stats: NormalizeStats =
            serde_json::from_value(snapshot["stats"].clone()).map_err(|e| err(e.to_string()))?;
        let returns: Vec<f64> =
            serde_json::from_value(snapshot["returns"].clone()).map_err(|e| err(e.to_string()))?;
        let obs: Vec<f32> =
            serde_json::from_value(snapshot["obs"].clone()).map_err(|e| err(e.to_string()))?;
        if returns.len() != self.returns.len() || obs.len() != self.obs.len() {
            return Err(err("another number of envs".into()));
        }
        // Snapshots from before raw observations were kept have none: the raw observations then
        // stay as they are until the next reset or step.
        let raw_obs: Option<Vec<f32>> = match snapshot.get("raw_obs") {
            Some(v) => Some(serde_json::from_value(v.clone()).map_err(|e| err(e.to_string()))?),
            None => None,
        };
        if raw_obs
            .as_ref()
            .is_some_and(|r| r.len() != self.raw_obs.len())
        {
            return Err(err("another number of envs".into()));
        }
        // Checked before anything changes: statistics of another shape leave everything as it was.
        self.check_stats(&stats)?;
        let exact = !snapshot["venv"].is_null();
        if exact {
            self.venv.restore(&snapshot["venv"])?;
        }
        self.stats = stats;
        self.training = snapshot["training"].as_bool().unwrap_or(true);
        if exact {
            self.returns = returns;
            self.obs = obs;
            match raw_obs {
                Some(raw) => self.raw_obs = raw,
                // Without observation normalization the raw observations are the returned ones.
                None if self.stats.obs.is_none() => self.raw_obs = self.obs.clone(),
                // Otherwise they cannot be recovered (normalization clips): they stay stale until
                // the next reset or step.
                None => {}
            }
        } else {
            self.returns.fill(0.0);
        }
        Ok(exact)
    }
}
