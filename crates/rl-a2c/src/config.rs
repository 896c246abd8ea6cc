//! [`A2cConfig`]: A2C's hyperparameters, with Stable-Baselines3's names and defaults.

use rl_math::optim::{LrSchedule, RmsPropStyle};
use rl_nn::Activation;
use serde::{Deserialize, Serialize};

use crate::{A2cError, Result};

/// A2C's hyperparameters: SB3's `A2C(...)` keyword arguments and `policy_kwargs`, plus
/// rl-baselines3-zoo's `n_envs` and `normalize`; unknown keys are an error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct A2cConfig {
    /// Optimizer learning rate (the initial one under a linear schedule).
    pub learning_rate: f64,
    /// `"constant"` (SB3's default) or `"linear"` (rl-baselines3-zoo's `lin_<lr>`): the rate
    /// falls from `learning_rate` to 0 over the run (`A2cTrainer::set_total_timesteps`, which
    /// the runner sets to `n_timesteps`), set before each update from the steps taken so far.
    pub lr_schedule: LrSchedule,
    /// Steps per env per rollout (one update each).
    pub n_steps: usize,
    /// Envs stepped in lockstep.
    pub n_envs: usize,
    /// Discount factor.
    pub gamma: f64,
    /// GAE λ (1: n-step returns).
    pub gae_lambda: f64,
    /// Entropy bonus coefficient.
    pub ent_coef: f64,
    /// Value loss coefficient.
    pub vf_coef: f64,
    /// Global gradient-norm clip.
    pub max_grad_norm: f64,
    /// RMSprop's ε.
    pub rms_prop_eps: f64,
    /// RMSprop (SB3's default) or Adam.
    pub use_rms_prop: bool,
    /// Where RMSprop puts ε: `"pytorch"` (outside the square root, SB3's default `th.optim.RMSprop`)
    /// or `"tf_like"` (inside, state starting at 1: SB3's `RMSpropTFLike`, the original A2C).
    pub rms_prop_style: RmsPropStyle,
    /// Normalize advantages over each rollout.
    pub normalize_advantage: bool,
    /// Hidden layers of the policy and of the value network (separate networks, as SB3's A2C).
    pub net_arch: Vec<usize>,
    /// Hidden activation: `"tanh"` (SB3) or `"relu"`.
    pub activation_fn: Activation,
    /// Orthogonal initialization (gains √2 hidden, 0.01 policy head, 1 value head), else PyTorch's default.
    pub ortho_init: bool,
    /// Initial log standard deviation of the Gaussian policy (continuous actions); with
    /// `use_sde`, of every entry of the exploration matrices' `[features, actions]` scale.
    pub log_std_init: f64,
    /// Generalized state-dependent exploration (gSDE, Raffin et al. 2021; SB3's `use_sde`,
    /// continuous actions only): the noise is the policy's last hidden features times an
    /// exploration matrix drawn at the start of each rollout (and every `sde_sample_freq` steps),
    /// with a learned `[features, actions]` scale (`rl_math::distributions::Gsde`).
    pub use_sde: bool,
    /// With `use_sde`, draw new exploration matrices every this many steps within a rollout too;
    /// `-1` (SB3's default): only at the start of each rollout.
    pub sde_sample_freq: i64,
    /// Normalize observations with running statistics shared by the envs (zoo's `normalize`).
    pub normalize_obs: bool,
    /// Normalize rewards by the running std of the discounted return (zoo's `normalize`).
    pub normalize_reward: bool,
}

impl Default for A2cConfig {
    fn default() -> Self {
        Self {
            learning_rate: 7e-4,
            lr_schedule: LrSchedule::Constant,
            n_steps: 5,
            n_envs: 1,
            gamma: 0.99,
            gae_lambda: 1.0,
            ent_coef: 0.0,
            vf_coef: 0.5,
            max_grad_norm: 0.5,
            rms_prop_eps: 1e-5,
            use_rms_prop: true,
            rms_prop_style: RmsPropStyle::Pytorch,
            normalize_advantage: false,
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

impl A2cConfig {
    /// Parses the `[a2c]` table of a preset or config file (TOML). Unknown keys are an error.
    pub fn from_toml(text: &str) -> Result<Self> {
        rl_nn::config::parse_table(text, "a2c", A2cError::Config, Self::validate)
    }

    /// The `[a2c]` table of an already parsed configuration (what the runner passes, after
    /// merging preset, file, `--set` and flags). Unknown keys are an error.
    pub fn from_table(table: &toml::Table) -> Result<Self> {
        rl_nn::config::from_table(table, A2cError::Config, Self::validate)
    }

    /// The shipped preset `name` (see [`crate::presets`]), parsed.
    pub fn preset(name: &str) -> Result<Self> {
        Self::from_toml(
            crate::presets::PRESETS
                .text(name)
                .map_err(A2cError::Config)?,
        )
    }

    /// Checks every value is usable, naming the first that is not.
    pub fn validate(&self) -> Result<()> {
        let bad = |what: String| Err(A2cError::Config(what));
        let positive = |x: f64| x.is_finite() && x > 0.0;
        if self.sde_sample_freq == 0 || self.sde_sample_freq < -1 {
            return bad(format!(
                "sde_sample_freq must be -1 (once per rollout) or a positive number of steps, got {}",
                self.sde_sample_freq
            ));
        }
        if !positive(self.learning_rate) {
            return bad(format!(
                "learning_rate must be positive, got {}",
                self.learning_rate
            ));
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
        for (name, x) in [
            ("max_grad_norm", self.max_grad_norm),
            ("rms_prop_eps", self.rms_prop_eps),
        ] {
            if !positive(x) {
                return bad(format!("{name} must be positive, got {x}"));
            }
        }
        for (name, n) in [("n_steps", self.n_steps), ("n_envs", self.n_envs)] {
            if n == 0 {
                return bad(format!("{name} must be at least 1"));
            }
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
