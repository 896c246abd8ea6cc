//! [`SacConfig`]: SAC's hyperparameters, with Stable-Baselines3's names and defaults.

use rl_math::optim::LrSchedule;
use serde::{Deserialize, Serialize};

use crate::{Result, SacError};

/// SAC's hyperparameters. Field names and defaults are Stable-Baselines3's (`SAC(...)` keyword
/// arguments, `policy_kwargs.net_arch`), so a zoo config carries over; unknown keys are an error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SacConfig {
    /// Adam learning rate of the actor, the critics and the temperature.
    pub learning_rate: f64,
    /// `"constant"` (SB3's default) or `"linear"` (rl-baselines3-zoo's `lin_<lr>`): every
    /// optimizer's rate falls from `learning_rate` to 0 over the run
    /// (`SacTrainer::set_total_timesteps`, which the runner sets to the run's `n_timesteps`).
    pub lr_schedule: LrSchedule,
    /// Replay buffer capacity (transitions).
    pub buffer_size: usize,
    /// Environment steps with uniform random actions before learning starts.
    pub learning_starts: u64,
    /// Transitions per gradient step.
    pub batch_size: usize,
    /// Polyak coefficient of the target critics.
    pub tau: f64,
    /// Discount factor.
    pub gamma: f64,
    /// Environment steps between training phases.
    pub train_freq: u64,
    /// Gradient steps per training phase.
    pub gradient_steps: usize,
    /// Entropy coefficient α: `"auto"` (learned, starting at 1), `"auto_<x>"` (learned, starting
    /// at x) or a fixed number.
    pub ent_coef: EntCoef,
    /// Gradient steps between target-critic updates.
    pub target_update_interval: u64,
    /// Target entropy of the temperature loss: `"auto"` (−dim(A)) or a number.
    pub target_entropy: TargetEntropy,
    /// Hidden layer widths of the actor and each critic.
    pub net_arch: Vec<usize>,
    /// How the actor's log-std is kept in range: `"clamp"` (SB3, default) or `"tanh"` (CleanRL).
    pub log_std_mode: LogStdMode,
    /// Lower log-std bound (−20 with `clamp`; CleanRL uses −5 with `tanh`).
    pub log_std_min: f64,
    /// Upper log-std bound.
    pub log_std_max: f64,
    /// Which SAC: `"v2"` (twin Q, automatic temperature; the default, and for discrete action
    /// spaces the discrete algorithm of Christodoulou 2019) or `"v1"` (the first paper's value
    /// network with a fixed temperature).
    pub variant: Variant,
    /// Number of Q-networks (SB3's `n_critics`): 2 (twin, the default) or 1.
    pub n_critics: usize,
    /// Rewards are multiplied by this before learning (SAC v1's knob; `α = 1 / reward_scale`
    /// with rewards unscaled is the same objective).
    pub reward_scale: f64,
    /// SAC v1: weight of the policy regularizer `mean(μ² + (log σ)²)` (the original code's 1e-3).
    pub policy_regularization: f64,
    /// Discrete SAC: target entropy `ratio · log |A|` when `target_entropy` is `"auto"` (0.98 in
    /// the paper's code; some libraries use 0.89).
    pub target_entropy_ratio: f64,
    /// Generalized state-dependent exploration (gSDE; Raffin et al. 2021, SB3's `use_sde`): the
    /// actor's Gaussian has a learned `[features, action dims]` log-std and its noise is the last
    /// hidden features times an exploration matrix kept for many steps
    /// (`rl_math::distributions::Gsde`). SAC v2 with continuous actions only.
    pub use_sde: bool,
    /// With `use_sde`: environment steps between new exploration matrices while collecting; −1
    /// (or 0) draws one at the start of each collection phase (every `train_freq` steps) only.
    pub sde_sample_freq: i64,
    /// With `use_sde`: the initial value of every entry of the learned log-std (SB3's
    /// `policy_kwargs.log_std_init`, −3 by default).
    pub log_std_init: f64,
    /// With `use_sde`: the policy's mean is clipped to `[−clip_mean, clip_mean]` before the noise
    /// (SB3's `Hardtanh`, 2 by default; 0 turns the clip off).
    pub clip_mean: f64,
    /// With `use_sde`: act with the gSDE policy instead of uniformly at random before
    /// `learning_starts`.
    pub use_sde_at_warmup: bool,
}

/// Which SAC (see [`SacConfig::variant`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Variant {
    /// "Soft Actor-Critic Algorithms and Applications": twin Q, learned α.
    V2,
    /// "Soft Actor-Critic: Off-Policy Maximum Entropy Deep RL with a Stochastic Actor": a value
    /// network and its Polyak target, fixed α.
    V1,
}

impl Default for SacConfig {
    fn default() -> Self {
        Self {
            learning_rate: 3e-4,
            lr_schedule: LrSchedule::Constant,
            buffer_size: 1_000_000,
            learning_starts: 100,
            batch_size: 256,
            tau: 0.005,
            gamma: 0.99,
            train_freq: 1,
            gradient_steps: 1,
            ent_coef: EntCoef::Auto { init: 1.0 },
            target_update_interval: 1,
            target_entropy: TargetEntropy::Auto,
            net_arch: vec![256, 256],
            log_std_mode: LogStdMode::Clamp,
            log_std_min: -20.0,
            log_std_max: 2.0,
            variant: Variant::V2,
            n_critics: 2,
            reward_scale: 1.0,
            policy_regularization: 1e-3,
            target_entropy_ratio: 0.98,
            use_sde: false,
            sde_sample_freq: -1,
            log_std_init: -3.0,
            clip_mean: 2.0,
            use_sde_at_warmup: false,
        }
    }
}

/// The entropy coefficient: learned from an initial value, or fixed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "EntCoefText", into = "EntCoefText")]
pub enum EntCoef {
    /// Learned by the temperature loss, starting at `init`.
    Auto {
        /// Initial α.
        init: f64,
    },
    /// Fixed α.
    Fixed(f64),
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum EntCoefText {
    Number(f64),
    Text(String),
}

impl TryFrom<EntCoefText> for EntCoef {
    type Error = String;

    fn try_from(v: EntCoefText) -> std::result::Result<Self, String> {
        match v {
            EntCoefText::Number(x) => Ok(EntCoef::Fixed(x)),
            EntCoefText::Text(s) if s == "auto" => Ok(EntCoef::Auto { init: 1.0 }),
            EntCoefText::Text(s) => s
                .strip_prefix("auto_")
                .and_then(|x| x.parse::<f64>().ok())
                .map(|init| EntCoef::Auto { init })
                .ok_or_else(|| {
                    format!(
                        "ent_coef must be \"auto\", \"auto_<initial value>\" or a number, got {s:?}"
                    )
                }),
        }
    }
}

impl From<EntCoef> for EntCoefText {
    fn from(e: EntCoef) -> Self {
        match e {
            EntCoef::Auto { init: 1.0 } => EntCoefText::Text("auto".into()),
            EntCoef::Auto { init } => EntCoefText::Text(format!("auto_{init}")),
            EntCoef::Fixed(x) => EntCoefText::Number(x),
        }
    }
}

/// The temperature loss's target entropy.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "EntCoefText", into = "EntCoefText")]
pub enum TargetEntropy {
    /// `−dim(A)`.
    Auto,
    /// A given value.
    Value(f64),
}

impl TryFrom<EntCoefText> for TargetEntropy {
    type Error = String;

    fn try_from(v: EntCoefText) -> std::result::Result<Self, String> {
        match v {
            EntCoefText::Number(x) => Ok(TargetEntropy::Value(x)),
            EntCoefText::Text(s) if s == "auto" => Ok(TargetEntropy::Auto),
            EntCoefText::Text(s) => Err(format!(
                "target_entropy must be \"auto\" or a number, got {s:?}"
            )),
        }
    }
}

impl From<TargetEntropy> for EntCoefText {
    fn from(t: TargetEntropy) -> Self {
        match t {
            TargetEntropy::Auto => EntCoefText::Text("auto".into()),
            TargetEntropy::Value(x) => EntCoefText::Number(x),
        }
    }
}

/// How the actor's raw log-std output is bounded (see `rl_math::distributions::LogStdBounds`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogStdMode {
    /// `clamp(x, min, max)`.
    Clamp,
    /// `min + ½ (max − min)(tanh x + 1)`.
    Tanh,
}

impl SacConfig {
    /// Parses the `[sac]` table of a preset or config file (TOML). Unknown keys are an error.
    pub fn from_toml(text: &str) -> Result<Self> {
        rl_nn::config::parse_table(text, "sac", SacError::Config, Self::validate)
    }

    /// The `[sac]` table of an already parsed configuration (what the runner passes, after
    /// merging preset, file, `--set` and flags). Unknown keys are an error.
    pub fn from_table(table: &toml::Table) -> Result<Self> {
        rl_nn::config::from_table(table, SacError::Config, Self::validate)
    }

    /// The shipped preset `name` (an environment id, or a variant's preset such as
    /// `"Pendulum-v1-sac-v1"`: see [`crate::presets`]), parsed.
    pub fn preset(name: &str) -> Result<Self> {
        Self::from_toml(
            crate::presets::PRESETS
                .text(name)
                .map_err(SacError::Config)?,
        )
    }

    /// Checks every value is usable, naming the first that is not.
    pub fn validate(&self) -> Result<()> {
        let bad = |what: String| Err(SacError::Config(what));
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return bad(format!(
                "learning_rate must be positive, got {}",
                self.learning_rate
            ));
        }
        if !(0.0..=1.0).contains(&self.gamma) {
            return bad(format!("gamma must be in [0, 1], got {}", self.gamma));
        }
        if !(self.tau > 0.0 && self.tau <= 1.0) {
            return bad(format!("tau must be in (0, 1], got {}", self.tau));
        }
        for (name, v) in [
            ("buffer_size", self.buffer_size as u64),
            ("batch_size", self.batch_size as u64),
            ("train_freq", self.train_freq),
            ("gradient_steps", self.gradient_steps as u64),
            ("target_update_interval", self.target_update_interval),
        ] {
            if v == 0 {
                return bad(format!("{name} must be at least 1"));
            }
        }
        if self.net_arch.contains(&0) {
            return bad(format!(
                "net_arch has a zero-width layer: {:?}",
                self.net_arch
            ));
        }
        if self.buffer_size < self.batch_size {
            return bad(format!(
                "buffer_size ({}) is smaller than batch_size ({}): no batch could ever be sampled",
                self.buffer_size, self.batch_size
            ));
        }
        match self.ent_coef {
            EntCoef::Auto { init } | EntCoef::Fixed(init) if !(init > 0.0 && init.is_finite()) => {
                return bad(format!("ent_coef must be positive, got {init}"));
            }
            _ => {}
        }
        if !(1..=2).contains(&self.n_critics) {
            return bad(format!("n_critics must be 1 or 2, got {}", self.n_critics));
        }
        if !self.reward_scale.is_finite() || self.reward_scale <= 0.0 {
            return bad(format!(
                "reward_scale must be positive, got {}",
                self.reward_scale
            ));
        }
        if !self.policy_regularization.is_finite() || self.policy_regularization < 0.0 {
            return bad(format!(
                "policy_regularization must be non-negative, got {}",
                self.policy_regularization
            ));
        }
        if !(self.target_entropy_ratio > 0.0 && self.target_entropy_ratio <= 1.0) {
            return bad(format!(
                "target_entropy_ratio must be in (0, 1], got {}",
                self.target_entropy_ratio
            ));
        }
        if self.variant == Variant::V1 && matches!(self.ent_coef, EntCoef::Auto { .. }) {
            return bad(
                "SAC v1 keeps α fixed: set ent_coef to a number (the first paper's \
                reward scale 5 is ent_coef = 0.2)"
                    .into(),
            );
        }
        if self.use_sde && self.variant == Variant::V1 {
            return bad("use_sde (state-dependent exploration) is for SAC v2: set variant = \"v2\" or use_sde = false".into());
        }
        if !self.log_std_init.is_finite() {
            return bad(format!(
                "log_std_init must be finite, got {}",
                self.log_std_init
            ));
        }
        if !(self.clip_mean.is_finite() && self.clip_mean >= 0.0) {
            return bad(format!(
                "clip_mean must be non-negative (0 turns the clip off), got {}",
                self.clip_mean
            ));
        }
        let (lo, hi) = (self.log_std_min, self.log_std_max);
        if lo.is_nan() || hi.is_nan() || lo >= hi {
            return bad(format!(
                "log_std_min ({}) must be below log_std_max ({})",
                self.log_std_min, self.log_std_max
            ));
        }
        Ok(())
    }
}
