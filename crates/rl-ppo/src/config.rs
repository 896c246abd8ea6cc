//! [`PpoConfig`]: PPO's hyperparameters, with Stable-Baselines3's names and defaults.

use rl_math::optim::LrSchedule;
use rl_nn::Activation;
use rl_nn::actor_critic::PolicySpec;
use serde::{Deserialize, Serialize};

use crate::{PpoError, Result};

/// PPO's hyperparameters: SB3's `PPO(...)` keyword arguments and `policy_kwargs`, plus
/// rl-baselines3-zoo's `n_envs`, `normalize` and `lin_` schedules; unknown keys are an error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PpoConfig {
    /// Adam's learning rate (the initial one under a linear schedule).
    pub learning_rate: f64,
    /// `"constant"` (SB3's default) or `"linear"` (the zoo's `lin_<lr>`): the rate falls from
    /// `learning_rate` to 0 over the run (`PpoTrainer::set_total_timesteps`, which the runner
    /// sets to `n_timesteps`), set before each update from the steps taken so far.
    pub lr_schedule: LrSchedule,
    /// Steps per env per rollout (one update of `n_epochs` epochs each).
    pub n_steps: usize,
    /// Envs stepped in lockstep.
    pub n_envs: usize,
    /// Minibatch size (SB3's `batch_size`); the last minibatch of an epoch is smaller when it
    /// does not divide `n_steps × n_envs`.
    pub batch_size: usize,
    /// Passes over each rollout.
    pub n_epochs: usize,
    /// Discount factor.
    pub gamma: f64,
    /// GAE λ.
    pub gae_lambda: f64,
    /// The surrogate's clipping ε (eq. 7).
    pub clip_range: f64,
    /// `"constant"` or `"linear"` (the zoo's `lin_<ε>`): ε falls to 0 over the run like the
    /// learning rate.
    pub clip_range_schedule: LrSchedule,
    /// Clip the value prediction to within this of the value at collection (SB3's
    /// `clip_range_vf`); absent: no value clipping (SB3's default).
    pub clip_range_vf: Option<f64>,
    /// Normalize advantages over each minibatch.
    pub normalize_advantage: bool,
    /// Entropy bonus coefficient.
    pub ent_coef: f64,
    /// Value loss coefficient.
    pub vf_coef: f64,
    /// Global gradient-norm clip.
    pub max_grad_norm: f64,
    /// Stop the rollout's epochs early once a minibatch's approximate KL to the collecting policy
    /// exceeds 1.5 × this (SB3's `target_kl`); absent: never.
    pub target_kl: Option<f64>,
    /// Adam's ε (SB3 gives its policies' Adam 1e-5).
    pub adam_eps: f64,
    /// Hidden layers of the policy and of the value network (separate networks, SB3's
    /// `MlpPolicy`).
    pub net_arch: Vec<usize>,
    /// Hidden activation: `"tanh"` (SB3) or `"relu"`.
    pub activation_fn: Activation,
    /// Orthogonal initialization (gains √2 hidden, 0.01 policy head, 1 value head), else
    /// PyTorch's default.
    pub ortho_init: bool,
    /// Initial log standard deviation of the Gaussian policy; with `use_sde`, of every entry of
    /// the exploration matrices' `[features, actions]` scale.
    pub log_std_init: f64,
    /// Generalized state-dependent exploration (gSDE, Raffin et al. 2021; continuous actions):
    /// the noise is the policy's last hidden features times an exploration matrix drawn at the
    /// start of each rollout (and every `sde_sample_freq` steps).
    pub use_sde: bool,
    /// With `use_sde`, draw new exploration matrices every this many steps within a rollout too;
    /// `-1` (SB3's default): only at the start of each rollout.
    pub sde_sample_freq: i64,
    /// Normalize observations with running statistics shared by the envs (zoo's `normalize`).
    pub normalize_obs: bool,
    /// Normalize rewards by the running std of the discounted return (zoo's `normalize`).
    pub normalize_reward: bool,
}

impl Default for PpoConfig {
    fn default() -> Self {
        Self {
            learning_rate: 3e-4,
            lr_schedule: LrSchedule::Constant,
            n_steps: 2048,
            n_envs: 1,
            batch_size: 64,
            n_epochs: 10,
            gamma: 0.99,
            gae_lambda: 0.95,
            clip_range: 0.2,
            clip_range_schedule: LrSchedule::Constant,
            clip_range_vf: None,
            normalize_advantage: true,
            ent_coef: 0.0,
            vf_coef: 0.5,
            max_grad_norm: 0.5,
            target_kl: None,
            adam_eps: 1e-5,
            net_arch: vec![64, 64],
            activation_fn: Activation::Tanh,
            ortho_init: true,
            log_std_init: 0.0,
            use_sde: false,
            sde_sample_freq: -1,
            normalize_obs: false,
            normalize_reward: false,
        }
    }
}

impl PpoConfig {
    /// Parses the `[ppo]` table of a preset or config file (TOML). Unknown keys are an error.
    pub fn from_toml(text: &str) -> Result<Self> {
        rl_nn::config::parse_table(text, "ppo", PpoError::Config, Self::validate)
    }

    /// The `[ppo]` table of an already parsed configuration (what the runner passes, after
    /// merging preset, file, `--set` and flags). Unknown keys are an error.
    pub fn from_table(table: &toml::Table) -> Result<Self> {
        rl_nn::config::from_table(table, PpoError::Config, Self::validate)
    }

    /// The shipped preset `name` (see [`crate::presets`]), parsed.
    pub fn preset(name: &str) -> Result<Self> {
        Self::from_toml(
            crate::presets::PRESETS
                .text(name)
                .map_err(PpoError::Config)?,
        )
    }

    /// The networks' shape.
    pub fn policy_spec(&self) -> PolicySpec {
        PolicySpec {
            net_arch: self.net_arch.clone(),
            activation: self.activation_fn,
            ortho_init: self.ortho_init,
            log_std_init: self.log_std_init,
            use_sde: self.use_sde,
        }
    }

    /// Checks every value is usable, naming the first that is not.
    pub fn validate(&self) -> Result<()> {
        let bad = |what: String| Err(PpoError::Config(what));
        let positive = |x: f64| x.is_finite() && x > 0.0;
        for (name, x) in [
            ("learning_rate", self.learning_rate),
            ("clip_range", self.clip_range),
            ("max_grad_norm", self.max_grad_norm),
            ("adam_eps", self.adam_eps),
        ] {
            if !positive(x) {
                return bad(format!("{name} must be positive, got {x}"));
            }
        }
        for (name, x) in [
            ("clip_range_vf", self.clip_range_vf),
            ("target_kl", self.target_kl),
        ] {
            if let Some(x) = x.filter(|&x| !positive(x)) {
                return bad(format!("{name} must be positive (or left out), got {x}"));
            }
        }
        for (name, x) in [("gamma", self.gamma), ("gae_lambda", self.gae_lambda)] {
            if !(0.0..=1.0).contains(&x) {
                return bad(format!("{name} must be in [0, 1], got {x}"));
            }
        }
        for (name, x) in [("ent_coef", self.ent_coef), ("vf_coef", self.vf_coef)] {
            if !x.is_finite() || x < 0.0 {
                return bad(format!("{name} must be non-negative, got {x}"));
            }
        }
        for (name, n) in [
            ("n_steps", self.n_steps),
            ("n_envs", self.n_envs),
            ("batch_size", self.batch_size),
            ("n_epochs", self.n_epochs),
        ] {
            if n == 0 {
                return bad(format!("{name} must be at least 1"));
            }
        }
        if self.normalize_advantage && self.batch_size == 1 {
            // SB3 skips the normalization of a 1-row minibatch; a 1-row batch size would never
            // normalize at all.
            return bad(
                "batch_size 1 with normalize_advantage: the std of one advantage is undefined"
                    .into(),
            );
        }
        if self.sde_sample_freq == 0 || self.sde_sample_freq < -1 {
            return bad(format!(
                "sde_sample_freq must be -1 (once per rollout) or a positive number of steps, got {}",
                self.sde_sample_freq
            ));
        }
        if self.net_arch.contains(&0) {
            return bad(format!(
                "net_arch has a zero-width layer: {:?}",
                self.net_arch
            ));
        }
        if !self.log_std_init.is_finite() {
            return bad(format!(
                "log_std_init must be finite, got {}",
                self.log_std_init
            ));
        }
        Ok(())
    }
}
