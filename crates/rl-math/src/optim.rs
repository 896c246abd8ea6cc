//! Adam and RMSprop whose state is plain named tensors, so it can be checkpointed.
//!
//! Candle's `AdamW` keeps its moment buffers private (a resumed run would restart them) and candle
//! has no RMSprop. These follow PyTorch's update rules (`torch.optim.Adam`, `torch.optim.RMSprop`)
//! and SB3's `RMSpropTFLike`; `tests/golden.rs` checks ten steps of each against them.
//!
//! Parameters are named (`from_varmap` uses the `VarMap`'s names, in sorted order); the state's
//! tensors are named after them (`"m.<param>"`, `"v.<param>"`, `"square_avg.<param>"`), so a saved
//! state loads into the same network built again, and a mismatch is an error, not a silent mix-up.

use candle_core::backprop::GradStore;
use candle_core::{Tensor, Var};
use candle_nn::VarMap;
use serde::{Deserialize, Serialize};

use crate::polyak::sorted_vars;
use crate::{MathError, Result};

/// How the learning rate moves over a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LrSchedule {
    /// The configured rate throughout.
    #[default]
    Constant,
    /// From the configured rate at the run's start to 0 at its end: `lr · (1 − done)` with
    /// `done` the fraction of the run's steps taken (Stable-Baselines 2's `linear`, and SB3's
    /// and rl-baselines3-zoo's `lin_<lr>`).
    Linear,
}

impl LrSchedule {
    /// The rate for `base` after `steps` of a run of `total` steps. Without a total (a learner
    /// never told its run's length) or with a total of 0, the rate stays `base`.
    ///
    /// ```
    /// use rl_math::optim::LrSchedule;
    /// assert_eq!(LrSchedule::Linear.rate(1e-3, 250, Some(1000)), 7.5e-4);
    /// assert_eq!(LrSchedule::Linear.rate(1e-3, 2000, Some(1000)), 0.0);
    /// assert_eq!(LrSchedule::Linear.rate(1e-3, 250, None), 1e-3);
    /// assert_eq!(LrSchedule::Constant.rate(1e-3, 250, Some(1000)), 1e-3);
    /// ```
    pub fn rate(self, base: f64, steps: u64, total: Option<u64>) -> f64 {
        match (self, total) {
            (Self::Linear, Some(total)) if total > 0 => {
                base * (1.0 - steps as f64 / total as f64).max(0.0)
            }
            _ => base,
        }
    }
}

/// What every optimizer here offers.
pub trait Optimizer {
    /// Applies one update from the gradients in `grads` (parameters without a gradient are left alone).
    fn step(&mut self, grads: &GradStore) -> Result<()> {
        let params: Vec<Var> = self.params().iter().map(|(_, v)| v.clone()).collect();
        let found: Vec<Option<Tensor>> = params.iter().map(|v| grads.get(v).cloned()).collect();
        self.step_with(&found)
    }

    /// Applies one update from explicit gradients, one per parameter in [`params`](Self::params)
    /// order (`None`: leave that parameter alone), as a hand-written backward pass produces them.
    fn step_with(&mut self, grads: &[Option<Tensor>]) -> Result<()>;

    /// The learning rate.
    fn learning_rate(&self) -> f64;

    /// Changes the learning rate (schedules).
    fn set_learning_rate(&mut self, lr: f64);

    /// The parameters this optimizer updates, with their names.
    fn params(&self) -> &[(String, Var)];

    /// A copy of the optimizer's state (step count and buffers).
    fn state(&self) -> Result<OptimizerState>;

    /// Restores a state saved from an optimizer of the same kind over the same parameters.
    fn load_state(&mut self, state: &OptimizerState) -> Result<()>;

    /// Backpropagates `loss` and steps. A NaN or infinite loss is an error and changes nothing.
    fn backward_step(&mut self, loss: &Tensor) -> Result<()> {
        let value = loss.to_dtype(candle_core::DType::F64)?.to_scalar::<f64>()?;
        if !value.is_finite() {
            return Err(MathError::NonFinite {
                what: "loss".into(),
                value,
            });
        }
        let grads = loss.backward()?;
        self.step(&grads)
    }
}

/// An optimizer's state: its step count and named buffers.
#[derive(Debug, Clone)]
pub struct OptimizerState {
    /// Which optimizer wrote it (`"adam"`, `"rmsprop"`).
    pub kind: String,
    /// Updates applied so far.
    pub step: u64,
    /// Buffers, named `"<buffer>.<param>"`.
    pub tensors: Vec<(String, Tensor)>,
}

impl OptimizerState {
    /// The buffers with `prefix` before each name, to be saved beside other tensors in one file.
    pub fn prefixed(self, prefix: &str) -> impl Iterator<Item = (String, Tensor)> + '_ {
        self.tensors
            .into_iter()
            .map(move |(k, t)| (format!("{prefix}{k}"), t))
    }

    /// The state of a `kind` optimizer after `step` updates whose buffers are the tensors named
    /// `prefix…` (the prefix removed): what [`prefixed`](Self::prefixed) saved.
    pub fn from_prefixed<'a>(
        kind: &str,
        step: u64,
        tensors: impl IntoIterator<Item = (&'a String, &'a Tensor)>,
        prefix: &str,
    ) -> Self {
        Self {
            kind: kind.to_owned(),
            step,
            tensors: tensors
                .into_iter()
                .filter_map(|(k, t)| k.strip_prefix(prefix).map(|k| (k.to_owned(), t.clone())))
                .collect(),
        }
    }
}

/// Adam's hyperparameters (PyTorch's names and defaults, except `lr`: SB3's 3e-4).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdamConfig {
    /// Learning rate.
    pub lr: f64,
    /// Decay of the first moment.
    pub beta1: f64,
    /// Decay of the second moment.
    pub beta2: f64,
    /// Added to the denominator.
    pub eps: f64,
}

impl Default for AdamConfig {
    fn default() -> Self {
        Self {
            lr: 3e-4,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        }
    }
}

/// Adam (Kingma & Ba 2015) as `torch.optim.Adam` with `weight_decay = 0`:
///
/// ```text
/// m ← β₁ m + (1 − β₁) g        v ← β₂ v + (1 − β₂) g²
/// θ ← θ − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
/// ```
#[derive(Debug)]
pub struct Adam {
    params: Vec<(String, Var)>,
    m: Vec<Var>,
    v: Vec<Var>,
    step: u64,
    config: AdamConfig,
}

impl Adam {
    /// Adam over named parameters (names must be unique).
    pub fn new(params: Vec<(String, Var)>, config: AdamConfig) -> Result<Self> {
        check_params(&params)?;
        check_positive("lr", config.lr)?;
        for (name, b) in [("beta1", config.beta1), ("beta2", config.beta2)] {
            if !(0.0..1.0).contains(&b) {
                return Err(MathError::InvalidArgument(format!(
                    "Adam {name} must be in [0, 1), got {b}"
                )));
            }
        }
        check_positive("eps", config.eps)?;
        let m = zeros_like_all(&params)?;
        let v = zeros_like_all(&params)?;
        Ok(Self {
            params,
            m,
            v,
            step: 0,
            config,
        })
    }

    /// Adam over every variable of `varmap`, named as there.
    pub fn from_varmap(varmap: &VarMap, config: AdamConfig) -> Result<Self> {
        Self::new(sorted_vars(varmap), config)
    }

    /// The hyperparameters.
    pub fn config(&self) -> &AdamConfig {
        &self.config
    }
}

impl Optimizer for Adam {
    fn step_with(&mut self, grads: &[Option<Tensor>]) -> Result<()> {
        check_grads(&self.params, grads)?;
        self.step += 1;
        let AdamConfig {
            lr,
            beta1,
            beta2,
            eps,
        } = self.config;
        let t = self.step as i32;
        let bias_correction1 = 1.0 - beta1.powi(t);
        let bias_correction2_sqrt = (1.0 - beta2.powi(t)).sqrt();
        let step_size = lr / bias_correction1;
        for ((((_, param), m), v), g) in self.params.iter().zip(&self.m).zip(&self.v).zip(grads) {
            let Some(g) = g else { continue };
            let g = g.detach();
            let (p, mt, vt) = (param.as_tensor(), m.as_tensor(), v.as_tensor());
            if crate::fused::usable(&[p, mt, vt, &g]) {
                // The same arithmetic in one in-place pass per buffer (bit-identical).
                crate::fused::mix(mt, &g, beta1, 1.0 - beta1, false, true)?;
                crate::fused::mix(vt, &g, beta2, 1.0 - beta2, true, true)?;
                crate::fused::adam_step(p, mt, vt, 1.0 / bias_correction2_sqrt, eps, step_size)?;
                continue;
            }
            let next_m =
                flush_tiny(&(m.as_tensor().affine(beta1, 0.0)? + g.affine(1.0 - beta1, 0.0)?)?)?;
            let next_v = flush_tiny(
                &(v.as_tensor().affine(beta2, 0.0)? + g.sqr()?.affine(1.0 - beta2, 0.0)?)?,
            )?;
            let denom = next_v.sqrt()?.affine(1.0 / bias_correction2_sqrt, eps)?;
            let update = (next_m.div(&denom)?).affine(step_size, 0.0)?;
            param.set(&(param.as_tensor().detach() - update)?)?;
            m.set(&next_m)?;
            v.set(&next_v)?;
        }
        Ok(())
    }

    fn learning_rate(&self) -> f64 {
        self.config.lr
    }

    fn set_learning_rate(&mut self, lr: f64) {
        self.config.lr = lr;
    }

    fn params(&self) -> &[(String, Var)] {
        &self.params
    }

    fn state(&self) -> Result<OptimizerState> {
        Ok(OptimizerState {
            kind: "adam".into(),
            step: self.step,
            tensors: named_buffers(&self.params, &[("m", &self.m), ("v", &self.v)])?,
        })
    }

    fn load_state(&mut self, state: &OptimizerState) -> Result<()> {
        load_buffers(
            "adam",
            &self.params,
            &[("m", &self.m), ("v", &self.v)],
            state,
        )?;
        self.step = state.step;
        Ok(())
    }
}

/// Where RMSprop adds `ε`, and how it starts its average of squared gradients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RmsPropStyle {
    /// PyTorch's `torch.optim.RMSprop` (what SB3's A2C uses by default): `θ ← θ − lr g / (√s + ε)`,
    /// `s` starting at 0.
    Pytorch,
    /// TensorFlow's RMSProp, as SB3's `RMSpropTFLike` and the original A2C/ACER code:
    /// `θ ← θ − lr g / √(s + ε)`, `s` starting at 1.
    TfLike,
}

/// RMSprop's hyperparameters (SB3's A2C defaults).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RmsPropConfig {
    /// Learning rate.
    pub lr: f64,
    /// Decay of the average of squared gradients.
    pub alpha: f64,
    /// Added inside or outside the square root (see `style`).
    pub eps: f64,
    /// PyTorch's or TensorFlow's variant.
    pub style: RmsPropStyle,
}

impl Default for RmsPropConfig {
    fn default() -> Self {
        Self {
            lr: 7e-4,
            alpha: 0.99,
            eps: 1e-5,
            style: RmsPropStyle::Pytorch,
        }
    }
}

/// RMSprop (Tieleman & Hinton 2012): `s ← α s + (1 − α) g²`, then a step scaled by `1/√s`
/// (see [`RmsPropStyle`] for where `ε` goes).
#[derive(Debug)]
pub struct RmsProp {
    params: Vec<(String, Var)>,
    square_avg: Vec<Var>,
    step: u64,
    config: RmsPropConfig,
}

impl RmsProp {
    /// RMSprop over named parameters (names must be unique).
    pub fn new(params: Vec<(String, Var)>, config: RmsPropConfig) -> Result<Self> {
        check_params(&params)?;
        check_positive("lr", config.lr)?;
        check_positive("eps", config.eps)?;
        if !(0.0..1.0).contains(&config.alpha) {
            return Err(MathError::InvalidArgument(format!(
                "RMSprop alpha must be in [0, 1), got {}",
                config.alpha
            )));
        }
        let square_avg = params
            .iter()
            .map(|(_, p)| {
                let init = match config.style {
                    RmsPropStyle::Pytorch => p.zeros_like()?,
                    RmsPropStyle::TfLike => p.ones_like()?,
                };
                Ok(Var::from_tensor(&init)?)
            })
            .collect::<Result<_>>()?;
        Ok(Self {
            params,
            square_avg,
            step: 0,
            config,
        })
    }

    /// RMSprop over every variable of `varmap`, named as there.
    pub fn from_varmap(varmap: &VarMap, config: RmsPropConfig) -> Result<Self> {
        Self::new(sorted_vars(varmap), config)
    }

    /// The hyperparameters.
    pub fn config(&self) -> &RmsPropConfig {
        &self.config
    }

    /// Sets the learning rate of the next steps (a schedule's current value).
    pub fn set_lr(&mut self, lr: f64) {
        self.config.lr = lr;
    }
}

impl Optimizer for RmsProp {
    fn step_with(&mut self, grads: &[Option<Tensor>]) -> Result<()> {
        check_grads(&self.params, grads)?;
        self.step += 1;
        let RmsPropConfig {
            lr,
            alpha,
            eps,
            style,
        } = self.config;
        for (((_, param), s), g) in self.params.iter().zip(&self.square_avg).zip(grads) {
            let Some(g) = g else { continue };
            let g = g.detach();
            let (p, st) = (param.as_tensor(), s.as_tensor());
            if crate::fused::usable(&[p, st, &g]) {
                // The same arithmetic in one in-place pass per buffer (bit-identical).
                crate::fused::mix(st, &g, alpha, 1.0 - alpha, true, true)?;
                crate::fused::rms_step(p, &g, st, lr, eps, style == RmsPropStyle::TfLike)?;
                continue;
            }
            let next_s = flush_tiny(
                &(s.as_tensor().affine(alpha, 0.0)? + g.sqr()?.affine(1.0 - alpha, 0.0)?)?,
            )?;
            let denom = match style {
                RmsPropStyle::Pytorch => next_s.sqrt()?.affine(1.0, eps)?,
                RmsPropStyle::TfLike => next_s.affine(1.0, eps)?.sqrt()?,
            };
            let update = g.div(&denom)?.affine(lr, 0.0)?;
            param.set(&(param.as_tensor().detach() - update)?)?;
            s.set(&next_s)?;
        }
        Ok(())
    }

    fn learning_rate(&self) -> f64 {
        self.config.lr
    }

    fn set_learning_rate(&mut self, lr: f64) {
        self.config.lr = lr;
    }

    fn params(&self) -> &[(String, Var)] {
        &self.params
    }

    fn state(&self) -> Result<OptimizerState> {
        Ok(OptimizerState {
            kind: "rmsprop".into(),
            step: self.step,
            tensors: named_buffers(&self.params, &[("square_avg", &self.square_avg)])?,
        })
    }

    fn load_state(&mut self, state: &OptimizerState) -> Result<()> {
        load_buffers(
            "rmsprop",
            &self.params,
            &[("square_avg", &self.square_avg)],
            state,
        )?;
        self.step = state.step;
        Ok(())
    }
}

/// `(x + 2⁻¹⁰⁰) − 2⁻¹⁰⁰`: rounds `x` to a multiple of 2⁻¹²³ where `|x| < 2⁻⁷⁶ ≈ 1e-23` and leaves
/// float32 values above that unchanged (float64 ones within 2⁻¹⁵³).
///
/// A moment whose gradient has gone to zero (a dead ReLU unit) decays geometrically; without this
/// it spends a hundred steps or more as a subnormal float, and x86 CPUs compute on subnormals
/// tens of times slower. Measured on a SAC update: 135 → 100 updates/s after a few hundred steps,
/// back to 135 with this (docs/performance.md). The effect on the update is below 1e-15 of a
/// learning rate: such moments are divided by `√v + ε ≥ ε`.
fn flush_tiny(x: &Tensor) -> Result<Tensor> {
    const C: f64 = crate::fused::FLUSH; // 2^-100
    Ok(x.affine(1.0, C)?.affine(1.0, -C)?)
}

/// One gradient per parameter, each of its parameter's shape.
fn check_grads(params: &[(String, Var)], grads: &[Option<Tensor>]) -> Result<()> {
    if params.len() != grads.len() {
        return Err(MathError::Shape(format!(
            "{} gradients for {} parameters",
            grads.len(),
            params.len()
        )));
    }
    for ((name, p), g) in params.iter().zip(grads) {
        if let Some(g) = g
            && g.dims() != p.dims()
        {
            return Err(MathError::Shape(format!(
                "gradient of {name:?} has shape {:?}, the parameter {:?}",
                g.dims(),
                p.dims()
            )));
        }
    }
    Ok(())
}

fn check_positive(name: &str, x: f64) -> Result<()> {
    if x.is_finite() && x > 0.0 {
        Ok(())
    } else {
        Err(MathError::InvalidArgument(format!(
            "{name} must be positive and finite, got {x}"
        )))
    }
}

fn check_params(params: &[(String, Var)]) -> Result<()> {
    let mut names: Vec<&str> = params.iter().map(|(n, _)| n.as_str()).collect();
    names.sort_unstable();
    match names.windows(2).find(|w| w[0] == w[1]) {
        Some(w) => Err(MathError::InvalidArgument(format!(
            "parameter name {:?} appears twice",
            w[0]
        ))),
        None => Ok(()),
    }
}

fn zeros_like_all(params: &[(String, Var)]) -> Result<Vec<Var>> {
    params
        .iter()
        .map(|(_, p)| Ok(Var::from_tensor(&p.zeros_like()?)?))
        .collect()
}

/// Copies of `buffers` named `"<buffer>.<param>"`.
fn named_buffers(
    params: &[(String, Var)],
    buffers: &[(&str, &Vec<Var>)],
) -> Result<Vec<(String, Tensor)>> {
    let mut out = Vec::new();
    for (buffer, vars) in buffers {
        for ((name, _), var) in params.iter().zip(vars.iter()) {
            out.push((format!("{buffer}.{name}"), var.as_tensor().copy()?));
        }
    }
    Ok(out)
}

/// Loads `state` into `buffers`, requiring exactly the expected names with matching shapes.
fn load_buffers(
    kind: &str,
    params: &[(String, Var)],
    buffers: &[(&str, &Vec<Var>)],
    state: &OptimizerState,
) -> Result<()> {
    if state.kind != kind {
        return Err(MathError::StateMismatch(format!(
            "a {} optimizer state cannot load into {kind}",
            state.kind
        )));
    }
    let expected = buffers.iter().map(|(_, v)| v.len()).sum::<usize>();
    if state.tensors.len() != expected {
        return Err(MathError::StateMismatch(format!(
            "{kind} state has {} buffers, this optimizer has {expected}",
            state.tensors.len()
        )));
    }
    // Check everything before changing anything.
    let mut plan = Vec::with_capacity(expected);
    for (buffer, vars) in buffers {
        for ((name, _), var) in params.iter().zip(vars.iter()) {
            let key = format!("{buffer}.{name}");
            let tensor = state
                .tensors
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, t)| t)
                .ok_or_else(|| MathError::StateMismatch(format!("{kind} state has no {key:?}")))?;
            if tensor.dims() != var.dims() {
                return Err(MathError::StateMismatch(format!(
                    "{key:?} has shape {:?} in the saved state, {:?} here",
                    tensor.dims(),
                    var.dims()
                )));
            }
            plan.push((var, tensor));
        }
    }
    for (var, tensor) in plan {
        var.set(&tensor.to_dtype(var.dtype())?.to_device(var.device())?)?;
    }
    Ok(())
}
