//! [`AcerConfig`]: ACER's hyperparameters, with Stable-Baselines (v2)'s names and defaults.

use rl_math::optim::{LrSchedule, RmsPropStyle};
use rl_nn::Activation;
use serde::{Deserialize, Serialize};

use crate::{AcerError, Result};

/// ACER's hyperparameters: Stable-Baselines 2's `ACER(...)` keyword arguments (the last major
/// library that shipped it), plus the zoo's `n_envs` and `normalize` and the continuous
/// variant's knobs. Every switch the paper ablates is a key. Unknown keys are an error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AcerConfig {
    /// RMSprop learning rate (the initial one under a linear schedule).
    pub learning_rate: f64,
    /// `"linear"` (SB2's default, `lr_schedule='linear'`): the learning rate falls linearly from
    /// `learning_rate` at step 0 to 0 at the run's last step (`AcerTrainer::set_total_timesteps`,
    /// which the runner sets to `n_timesteps`); `"constant"`: `learning_rate` throughout.
    pub lr_schedule: LrSchedule,
    /// Steps per env per rollout (the trajectory length `k`).
    pub n_steps: usize,
    /// Envs stepped in lockstep.
    pub n_envs: usize,
    /// Discount factor.
    pub gamma: f64,
    /// Weight of the Q-value loss.
    pub q_coef: f64,
    /// Entropy bonus coefficient.
    pub ent_coef: f64,
    /// Global gradient-norm clip.
    pub max_grad_norm: f64,
    /// RMSprop decay.
    pub rprop_alpha: f64,
    /// RMSprop ε.
    pub rprop_epsilon: f64,
    /// Where RMSprop puts ε (`"pytorch"` or `"tf_like"`, as SB2 and the paper's TensorFlow code).
    pub rms_prop_style: RmsPropStyle,
    /// Mean of the Poisson number of off-policy updates after each on-policy one (0: on-policy only).
    pub replay_ratio: f64,
    /// Replay memory size in environment steps, counted across envs (50 000 by default: OpenAI
    /// Baselines' number, which Baselines counts per env). Stable-Baselines 2 and OpenAI
    /// Baselines count `buffer_size` per env: their memory holds `n_envs × buffer_size` steps, so
    /// SB2's default 5 000 with 16 envs is `buffer_size = 80_000` here.
    pub buffer_size: usize,
    /// Environment steps stored before replay starts, counted across envs (SB2 and OpenAI
    /// Baselines count `replay_start` per env, as `buffer_size`).
    pub replay_start: usize,
    /// Importance-weight truncation `c` of the policy gradient.
    pub correction_term: f64,
    /// The bias-correction term for the truncated importance weights.
    pub bias_correction: bool,
    /// The efficient trust region (else the raw truncated gradient).
    pub trust_region: bool,
    /// Trust-region bound `δ`.
    pub delta: f64,
    /// Decay `α` of the average policy network, `θ_a ← α θ_a + (1 − α) θ`.
    pub alpha: f64,
    /// Whether the entropy bonus's gradient enters the trust-region projection (inside `ĝ`, as
    /// OpenAI Baselines does) or is added after it.
    pub entropy_in_trust_region: bool,
    /// Continuous actions: samples `u_i` in the stochastic dueling network's mean advantage.
    pub n_samples: usize,
    /// Hidden layers.
    pub net_arch: Vec<usize>,
    /// Hidden activation (`"tanh"`, as SB2's `MlpPolicy`, or `"relu"`).
    pub activation_fn: Activation,
    /// Discrete actions: one body (`net_arch`) under the policy and `Q` heads (`true`: the paper's
    /// and OpenAI Baselines' network), or two networks of `net_arch` each, policy and `Q`
    /// (`false`: Stable-Baselines 2's `MlpPolicy`, whose `pi` and `vf` towers are separate). The
    /// continuous networks are always separate.
    pub shared_body: bool,
    /// Discrete actions: orthogonal initialization as Stable-Baselines 2 does it (hidden layers
    /// with gain `√2`, the policy and `Q` heads with gain 0.01, zero biases) instead of PyTorch's
    /// default.
    pub ortho_init: bool,
    /// Continuous actions: initial log standard deviation of the Gaussian policy.
    pub log_std_init: f64,
    /// Continuous actions: learn `log σ` (state-independent), or keep it at `log_std_init` (the
    /// paper's and PFRL's fixed covariance). A fixed `σ` is no statistic of the policy, so the
    /// trust region then acts on the mean alone.
    pub learn_log_std: bool,
    /// Normalize observations with running statistics shared by the envs.
    pub normalize_obs: bool,
    /// Normalize rewards by the running std of the discounted return.
    pub normalize_reward: bool,
}

impl Default for AcerConfig {
    fn default() -> Self {
        Self {
            learning_rate: 7e-4,
            n_steps: 20,
            n_envs: 1,
            gamma: 0.99,
            q_coef: 0.5,
            ent_coef: 0.01,
            max_grad_norm: 10.0,
            rprop_alpha: 0.99,
            rprop_epsilon: 1e-5,
            rms_prop_style: RmsPropStyle::TfLike,
            replay_ratio: 4.0,
            buffer_size: 50_000,
            replay_start: 1_000,
            correction_term: 10.0,
            bias_correction: true,
            trust_region: true,
            delta: 1.0,
            alpha: 0.99,
            entropy_in_trust_region: true,
            n_samples: 5,
            net_arch: vec![64, 64],
            activation_fn: Activation::Tanh,
            shared_body: true,
            ortho_init: false,
            log_std_init: 0.0,
            learn_log_std: true,
            normalize_obs: false,
            normalize_reward: false,
            lr_schedule: LrSchedule::Linear,
        }
    }
}

impl AcerConfig {
    /// Parses the `[acer]` table of a preset or config file (TOML). Unknown keys are an error.
    pub fn from_toml(text: &str) -> Result<Self> {
        rl_nn::config::parse_table(text, "acer", AcerError::Config, Self::validate)
    }

    /// The `[acer]` table of an already parsed configuration (what the runner passes, after
    /// merging preset, file, `--set` and flags). Unknown keys are an error.
    pub fn from_table(table: &toml::Table) -> Result<Self> {
        rl_nn::config::from_table(table, AcerError::Config, Self::validate)
    }

    /// The shipped preset `name` (see [`crate::presets`]), parsed.
    pub fn preset(name: &str) -> Result<Self> {
        Self::from_toml(
            crate::presets::PRESETS
                .text(name)
                .map_err(AcerError::Config)?,
        )
    }

    /// Checks every value is usable, naming the first that is not.
    pub fn validate(&self) -> Result<()> {
        let bad = |what: String| Err(AcerError::Config(what));
        let positive = |x: f64| x.is_finite() && x > 0.0;
        for (name, x) in [
            ("learning_rate", self.learning_rate),
            ("max_grad_norm", self.max_grad_norm),
            ("rprop_epsilon", self.rprop_epsilon),
            ("delta", self.delta),
        ] {
            if !positive(x) {
                return bad(format!("{name} must be positive, got {x}"));
            }
        }
        if self.correction_term.is_nan() || self.correction_term <= 0.0 {
            return bad(format!(
                "correction_term must be positive (inf for no truncation), got {}",
                self.correction_term
            ));
        }
        for (name, x) in [
            ("gamma", self.gamma),
            ("alpha", self.alpha),
            ("rprop_alpha", self.rprop_alpha),
        ] {
            if !(0.0..=1.0).contains(&x) {
                return bad(format!("{name} must be in [0, 1], got {x}"));
            }
        }
        for (name, x) in [
            ("q_coef", self.q_coef),
            ("ent_coef", self.ent_coef),
            ("replay_ratio", self.replay_ratio),
        ] {
            if !x.is_finite() || x < 0.0 {
                return bad(format!("{name} must be non-negative, got {x}"));
            }
        }
        for (name, n) in [
            ("n_steps", self.n_steps),
            ("n_envs", self.n_envs),
            ("n_samples", self.n_samples),
        ] {
            if n == 0 {
                return bad(format!("{name} must be at least 1"));
            }
        }
        if self.replay_ratio > 0.0 && self.buffer_size < self.n_steps {
            return bad(format!(
                "buffer_size ({}) must hold at least one segment of n_steps ({})",
                self.buffer_size, self.n_steps
            ));
        }
        if self.net_arch.is_empty() || self.net_arch.contains(&0) {
            return bad(format!(
                "net_arch needs non-empty layers, got {:?}",
                self.net_arch
            ));
        }
        Ok(())
    }
}
