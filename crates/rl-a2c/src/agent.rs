//! [`A2c`]: the actor-critic networks and their update.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{D, DType, Device, Tensor, Var};
use rl_buffer::{ActionSpec, RolloutBatch};
use rl_math::clip::clip_grads;
use rl_math::distributions::{Categorical, DiagGaussian, Gsde};
use rl_math::optim::{Adam, AdamConfig, Optimizer, OptimizerState, RmsProp, RmsPropConfig};
use rl_math::{RngState, SeededRng};
use rl_nn::checkpoint::{read_tensors, write_json, write_tensors};
use rl_nn::{Init, Mlp, ParamStore};
use serde::{Deserialize, Serialize};

use crate::losses::{entropy_loss, normalize_advantages, policy_loss, total_loss, value_loss};
use crate::{A2cConfig, A2cError, Result};
use rl_nn::AgentError;

/// What one update measured (SB3's `train/*` names).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct A2cMetrics {
    /// `−mean(log π · A)`.
    pub policy_loss: f64,
    /// `mean((R − V)²)`.
    pub value_loss: f64,
    /// `−mean(H)`.
    pub entropy_loss: f64,
    /// Global gradient norm before clipping.
    pub grad_norm: f64,
    /// `1 − Var(R − V) / Var(R)` over the rollout.
    pub explained_variance: f64,
    /// The Gaussian policy's mean standard deviation (continuous actions).
    pub std: Option<f64>,
}

/// What acting on a batch of observations gives.
#[derive(Debug, Clone, PartialEq)]
pub struct Acted {
    /// One action per observation: `width` values each (a discrete action is its index).
    pub actions: Vec<f32>,
    /// `V(s)` per observation.
    pub values: Vec<f64>,
    /// `log π(a|s)` per observation.
    pub log_probs: Vec<f64>,
}

/// The A2C agent: a policy network (categorical logits, or a Gaussian mean with a
/// state-independent learned `log σ`, or with gSDE's state-dependent noise) and a separate value
/// network, both MLPs (SB3's `MlpPolicy` for A2C), trained by one optimizer on the loss of
/// [`losses`](crate::losses).
pub struct A2c {
    config: A2cConfig,
    obs_dim: usize,
    action: ActionSpec,
    device: Device,
    params: ParamStore,
    pi: Mlp,
    vf: Mlp,
    log_std: Option<Var>,
    /// gSDE's exploration matrices, one per env (`[n, features, actions]`).
    exploration: Option<Tensor>,
    opt: Box<dyn Optimizer + Send>,
    rng: SeededRng,
    updates: u64,
}

impl std::fmt::Debug for A2c {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("A2c")
            .field("obs_dim", &self.obs_dim)
            .field("action", &self.action)
            .field("net_arch", &self.config.net_arch)
            .field("updates", &self.updates)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize, Deserialize)]
struct SavedA2c {
    algo: String,
    obs_dim: usize,
    action: ActionSpec,
    config: A2cConfig,
    updates: u64,
    rng: RngState,
    optimizer_kind: String,
    optimizer_step: u64,
}

const MODEL_FILE: &str = "a2c.safetensors";
const STATE_FILE: &str = "a2c.json";

impl A2c {
    /// A new agent for `obs_dim`-dimensional observations and `action`s, seeded by `seed`.
    pub fn new(
        config: A2cConfig,
        obs_dim: usize,
        action: ActionSpec,
        device: &Device,
        seed: u64,
    ) -> Result<Self> {
        Self::with_dtype(config, obs_dim, action, device, DType::F32, seed)
    }

    /// [`A2c::new`] with parameters of `dtype` (`F32` for training; `F64` to compare one update
    /// with a float64 reference, as `tests/golden.rs` does). Batches and observations still come
    /// in `f32` and are converted; actions go out in `f32`.
    pub fn with_dtype(
        config: A2cConfig,
        obs_dim: usize,
        action: ActionSpec,
        device: &Device,
        dtype: DType,
        seed: u64,
    ) -> Result<Self> {
        config.validate()?;
        // The networks (and ACER's average network) on a rollout of n_envs × n_steps rows.
        rl_math::memory::check_fits(
            &format!(
                "n_envs {} × n_steps {} with net_arch {:?}",
                config.n_envs, config.n_steps, config.net_arch
            ),
            config.n_envs.checked_mul(config.n_steps).and_then(|rows| {
                rl_nn::training_memory(rows, obs_dim, &config.net_arch, 2 * action.size() + 1, 2)
            }),
        )
        .map_err(A2cError::Config)?;
        // The policy's outputs: one logit per discrete action, or the Gaussian's mean.
        let out = action.size();
        if obs_dim == 0 || out == 0 {
            return Err(A2cError::from(AgentError::UnsupportedEnv(format!(
                "A2C needs observations and actions with at least one component, got {obs_dim} and {out}"
            ))));
        }
        let mut rng = SeededRng::new(seed);
        let mut params = ParamStore::new(device, dtype);
        let (hidden, pi_head, vf_head) = if config.ortho_init {
            (
                Init::Orthogonal { gain: 2f64.sqrt() },
                Init::Orthogonal { gain: 0.01 },
                Init::Orthogonal { gain: 1.0 },
            )
        } else {
            (
                Init::PytorchDefault,
                Init::PytorchDefault,
                Init::PytorchDefault,
            )
        };
        let sizes = |output: usize| {
            let mut s = vec![obs_dim];
            s.extend_from_slice(&config.net_arch);
            s.push(output);
            s
        };
        let act = config.activation_fn;
        let pi = Mlp::new(
            &mut params,
            "pi",
            &sizes(out),
            act,
            false,
            (hidden, pi_head),
            &mut rng,
        )?;
        let vf = Mlp::new(
            &mut params,
            "vf",
            &sizes(1),
            act,
            false,
            (hidden, vf_head),
            &mut rng,
        )?;
        let log_std = match action {
            ActionSpec::Continuous { dim } if config.use_sde => {
                // One scale per (feature, action) pair (SB3's `full_std=True`).
                let features = config.net_arch.last().copied().unwrap_or(obs_dim);
                let init =
                    Tensor::full(config.log_std_init, (features, dim), device)?.to_dtype(dtype)?;
                Some(params.insert("log_std", &init)?)
            }
            ActionSpec::Continuous { dim } => {
                let init = Tensor::full(config.log_std_init, dim, device)?.to_dtype(dtype)?;
                Some(params.insert("log_std", &init)?)
            }
            ActionSpec::Discrete { .. } if config.use_sde => {
                return Err(A2cError::from(AgentError::UnsupportedEnv(
                    "use_sde (state-dependent exploration) needs continuous actions".into(),
                )));
            }
            ActionSpec::Discrete { .. } => None,
        };
        let opt: Box<dyn Optimizer + Send> = if config.use_rms_prop {
            Box::new(RmsProp::new(
                params.params().to_vec(),
                RmsPropConfig {
                    lr: config.learning_rate,
                    alpha: 0.99,
                    eps: config.rms_prop_eps,
                    style: config.rms_prop_style,
                },
            )?)
        } else {
            Box::new(Adam::new(
                params.params().to_vec(),
                AdamConfig {
                    lr: config.learning_rate,
                    ..AdamConfig::default()
                },
            )?)
        };
        Ok(Self {
            config,
            obs_dim,
            action,
            device: device.clone(),
            params,
            pi,
            vf,
            log_std,
            exploration: None,
            opt,
            rng,
            updates: 0,
        })
    }

    /// The hyperparameters.
    pub fn config(&self) -> &A2cConfig {
        &self.config
    }

    /// Observation components.
    pub fn obs_dim(&self) -> usize {
        self.obs_dim
    }

    /// The action kind and size.
    pub fn action_spec(&self) -> ActionSpec {
        self.action
    }

    /// The device.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Updates done.
    pub fn updates(&self) -> u64 {
        self.updates
    }

    /// Every parameter (`pi.*`, `vf.*`, and `log_std` for continuous actions).
    pub fn params(&self) -> &ParamStore {
        &self.params
    }

    /// The policy network (observation → logits, or the Gaussian mean).
    pub fn policy_net(&self) -> &Mlp {
        &self.pi
    }

    /// The value network (observation → `V`).
    pub fn value_net(&self) -> &Mlp {
        &self.vf
    }

    /// With `use_sde`, draws `n` new exploration matrices (one per env) from the agent's
    /// generator: [`A2cTrainer`](crate::A2cTrainer) does it at the start of each rollout (and
    /// every `sde_sample_freq` steps). Stochastic [`act_batch`](Self::act_batch) calls then take
    /// batches of `n` observations (row `i` uses matrix `i`); the first call draws matrices for
    /// its batch if none were drawn. Without gSDE it does nothing.
    pub fn reset_noise(&mut self, n: usize) -> Result<()> {
        if self.config.use_sde {
            let log_std = self.log_std_tensor()?;
            self.exploration = Some(Gsde::sample_matrices(&log_std, n, &mut self.rng)?);
        }
        Ok(())
    }

    /// Sets the optimizer's learning rate (what [`A2cTrainer`](crate::A2cTrainer) does before
    /// each update under a `linear` [`A2cConfig::lr_schedule`]).
    pub fn set_learning_rate(&mut self, lr: f64) {
        self.opt.set_learning_rate(lr);
    }

    /// The optimizer's current learning rate.
    pub fn learning_rate(&self) -> f64 {
        self.opt.learning_rate()
    }

    /// Replaces the parameters with `tensors`, named as in a checkpoint: `params/<name>` for every
    /// name of [`A2c::params`] (weights trained elsewhere, or a reference test's).
    pub fn load_parameters(&mut self, tensors: &HashMap<String, Tensor>) -> Result<()> {
        self.params.load_named("params/", tensors)?;
        // gSDE's matrices were drawn with the old scale: the next rollout draws new ones.
        self.exploration = None;
        Ok(())
    }

    /// `V(s)` for a batch of observations `[B, obs_dim]`.
    pub fn values(&self, obs: &Tensor) -> Result<Vec<f64>> {
        rl_nn::ops::check_batch(obs, self.obs_dim, "observations")?;
        let obs = &obs.to_dtype(self.params.dtype())?;
        let v = self.vf.forward_detached(obs)?.squeeze(D::Minus1)?;
        Ok(v.to_dtype(DType::F64)?.to_vec1()?)
    }

    /// Actions, values and log-probabilities for a batch of observations `[B, obs_dim]`:
    /// samples, or (`deterministic`) the most probable action / the mean. Continuous actions are
    /// not clipped here (the log-probability is of the sampled value; clip when stepping).
    pub fn act_batch(&mut self, obs: &Tensor, deterministic: bool) -> Result<Acted> {
        rl_nn::ops::check_batch(obs, self.obs_dim, "observations")?;
        let obs = &obs.to_dtype(self.params.dtype())?;
        // `forward_detached` is this same pass without the trace; gSDE needs the trace's features.
        let (out, trace) = self.pi.forward_traced(obs)?;
        let values = self.values(obs)?;
        match self.action {
            ActionSpec::Discrete { .. } => {
                let pi = Categorical::from_logits(&out)?;
                let a = if deterministic {
                    pi.mode()?
                } else {
                    pi.sample(&mut self.rng)?
                };
                let idx = Tensor::from_slice(&a, a.len(), &self.device)?;
                let log_probs = pi.log_prob(&idx)?.to_dtype(DType::F64)?.to_vec1()?;
                Ok(Acted {
                    actions: a.iter().map(|&i| i as f32).collect(),
                    values,
                    log_probs,
                })
            }
            ActionSpec::Continuous { .. } if self.config.use_sde => {
                let features = last_features(&trace)?;
                let log_std = self.log_std_tensor()?;
                let pi = DiagGaussian::new(&out, &Gsde::log_std(features, &log_std)?)?;
                let a = if deterministic {
                    out.clone()
                } else {
                    let rows = features.dim(0)?;
                    if self.exploration.is_none() {
                        self.reset_noise(rows)?;
                    }
                    let matrices = self
                        .exploration
                        .as_ref()
                        .ok_or_else(|| A2cError::Config("no exploration matrices".into()))?;
                    let kept = matrices.dim(0)?;
                    if kept != rows {
                        // Redrawing here would change the running rollout's exploration and the
                        // generator's stream behind the caller's back.
                        return Err(A2cError::Config(format!(
                            "a stochastic gSDE action for {rows} observations, with exploration \
                             matrices for {kept} envs: call reset_noise({rows}) first"
                        )));
                    }
                    (&out + Gsde::noise(features, matrices)?)?
                };
                let log_probs = pi.log_prob(&a)?.to_dtype(DType::F64)?.to_vec1()?;
                Ok(Acted {
                    actions: a.flatten_all()?.to_dtype(DType::F32)?.to_vec1()?,
                    values,
                    log_probs,
                })
            }
            ActionSpec::Continuous { .. } => {
                let log_std = self.log_std_tensor()?;
                let pi = DiagGaussian::new(&out, &log_std)?;
                let a = if deterministic {
                    out.clone()
                } else {
                    pi.sample(&mut self.rng)?
                };
                let log_probs = pi.log_prob(&a)?.to_dtype(DType::F64)?.to_vec1()?;
                Ok(Acted {
                    actions: a.flatten_all()?.to_dtype(DType::F32)?.to_vec1()?,
                    values,
                    log_probs,
                })
            }
        }
    }

    fn log_std_tensor(&self) -> Result<Tensor> {
        self.log_std
            .as_ref()
            .map(|v| v.as_tensor().detach())
            .ok_or_else(|| {
                A2cError::from(AgentError::UnsupportedEnv(
                    "no log_std for discrete actions".into(),
                ))
            })
    }

    /// One A2C update on a rollout: the loss of [`losses`](crate::losses) over the whole batch,
    /// gradients clipped to `max_grad_norm`, one optimizer step.
    ///
    /// The networks' gradients come from their explicit backward passes (`rl_nn::Mlp::backward`);
    /// the distribution's and the loss's derivatives from candle's autograd on the small tensors
    /// between them. `tests/a2c.rs` checks them against autograd through the whole graph.
    pub fn update(&mut self, batch: &RolloutBatch) -> Result<A2cMetrics> {
        rl_nn::ops::check_batch(&batch.obs, self.obs_dim, "batch observations")?;
        let place = || format!("update {}", self.updates + 1);
        let (grads, metrics) = self.gradients(batch)?;
        for (value, what) in [
            (metrics.policy_loss, "policy loss"),
            (metrics.value_loss, "value loss"),
            (metrics.entropy_loss, "entropy loss"),
        ] {
            if !value.is_finite() {
                return Err(A2cError::from(AgentError::NonFinite {
                    what: what.into(),
                    value,
                    place: place(),
                }));
            }
        }
        let mut grads = grads;
        let norm = clip_grads(&mut grads, self.config.max_grad_norm).map_err(|e| match e {
            rl_math::MathError::NonFinite { what, value } => {
                A2cError::from(AgentError::NonFinite {
                    what,
                    value,
                    place: place(),
                })
            }
            other => other.into(),
        })?;
        self.opt.step_with(&grads)?;
        self.updates += 1;
        Ok(A2cMetrics {
            grad_norm: norm,
            ..metrics
        })
    }

    /// The loss's gradient for every parameter (in [`params`](Self::params) order) and the
    /// metrics, without changing anything.
    pub fn gradients(&self, batch: &RolloutBatch) -> Result<(Vec<Option<Tensor>>, A2cMetrics)> {
        let dtype = self.params.dtype();
        let float = |t: &Tensor| -> Result<Tensor> {
            Ok(if t.dtype().is_float() {
                t.to_dtype(dtype)?
            } else {
                t.clone()
            })
        };
        let batch = &RolloutBatch {
            obs: float(&batch.obs)?,
            actions: float(&batch.actions)?,
            values: float(&batch.values)?,
            log_probs: float(&batch.log_probs)?,
            advantages: float(&batch.advantages)?,
            returns: float(&batch.returns)?,
        };
        let (pi_out, pi_trace) = self.pi.forward_traced(&batch.obs)?;
        let (v_out, v_trace) = self.vf.forward_traced(&batch.obs)?;
        let pi_leaf = Var::from_tensor(&pi_out)?;
        let v_leaf = Var::from_tensor(&v_out.squeeze(D::Minus1)?)?;
        let (log_prob, entropy, std) = match self.action {
            ActionSpec::Discrete { .. } => {
                let pi = Categorical::from_logits(pi_leaf.as_tensor())?;
                (pi.log_prob(&batch.actions)?, pi.entropy()?, None)
            }
            ActionSpec::Continuous { .. } => {
                let log_std = self.log_std.as_ref().ok_or_else(|| {
                    A2cError::from(AgentError::UnsupportedEnv("no log_std".into()))
                })?;
                // gSDE: the per-row σ of the features (detached) and the learned scale.
                let row_log_std = if self.config.use_sde {
                    Gsde::log_std(last_features(&pi_trace)?, log_std.as_tensor())?
                } else {
                    log_std.as_tensor().clone()
                };
                let pi = DiagGaussian::new(pi_leaf.as_tensor(), &row_log_std)?;
                let std = row_log_std
                    .exp()?
                    .mean_all()?
                    .to_dtype(DType::F64)?
                    .to_scalar::<f64>()?;
                (pi.log_prob(&batch.actions)?, pi.entropy()?, Some(std))
            }
        };
        let advantages = if self.config.normalize_advantage {
            normalize_advantages(&batch.advantages)?
        } else {
            batch.advantages.clone()
        };
        let pl = policy_loss(&log_prob, &advantages)?;
        let vl = value_loss(v_leaf.as_tensor(), &batch.returns)?;
        let el = entropy_loss(&entropy)?;
        let loss = total_loss(&pl, &el, &vl, self.config.ent_coef, self.config.vf_coef)?;
        let mut g = loss.backward()?;
        let missing = || {
            A2cError::from(AgentError::Internal {
                learner: "A2C",
                what: "a gradient is missing".into(),
            })
        };
        let g_pi = g.remove(&pi_leaf).ok_or_else(missing)?;
        let g_v = g.remove(&v_leaf).ok_or_else(missing)?.unsqueeze(1)?;
        let mut grads = self.pi.backward(&pi_trace, &g_pi, true, false)?.params;
        grads.extend(self.vf.backward(&v_trace, &g_v, true, false)?.params);
        if let Some(log_std) = &self.log_std {
            grads.push(Some(g.remove(log_std.as_tensor()).ok_or_else(missing)?));
        }
        let scalar =
            |t: &Tensor| -> Result<f64> { Ok(t.to_dtype(DType::F64)?.to_scalar::<f64>()?) };
        Ok((
            grads,
            A2cMetrics {
                policy_loss: scalar(&pl)?,
                value_loss: scalar(&vl)?,
                entropy_loss: scalar(&el)?,
                grad_norm: 0.0,
                explained_variance: explained_variance(&v_out.squeeze(D::Minus1)?, &batch.returns)?,
                std,
            },
        ))
    }

    /// Saves the networks, optimizer state, generator and counters into the folder `dir`
    /// (`a2c.safetensors`, `a2c.json`).
    pub fn save(&self, dir: &Path) -> Result<()> {
        let mut tensors = self.params.named_tensors("params/")?;
        let state = self.opt.state()?;
        let (optimizer_kind, optimizer_step) = (state.kind.clone(), state.step);
        tensors.extend(state.prefixed("opt/"));
        write_tensors(&dir.join(MODEL_FILE), &tensors)?;
        let saved = SavedA2c {
            algo: "a2c".into(),
            obs_dim: self.obs_dim,
            action: self.action,
            config: self.config.clone(),
            updates: self.updates,
            rng: self.rng.state(),
            optimizer_kind,
            optimizer_step,
        };
        let json = serde_json::to_value(&saved)
            .map_err(|e| A2cError::from(AgentError::Checkpoint(e.to_string())))?;
        write_json(&dir.join(STATE_FILE), &json)?;
        Ok(())
    }

    /// Restores a folder written by [`save`](Self::save) into this agent (same shapes).
    pub fn load_into(&mut self, dir: &Path) -> Result<()> {
        let saved: SavedA2c = rl_nn::checkpoint::read_agent_state(dir, STATE_FILE, "a2c", "A2C")?;
        rl_nn::checkpoint::check_same_shapes(
            (saved.obs_dim, saved.action, &saved.config.net_arch),
            (self.obs_dim, self.action, &self.config.net_arch),
        )?;
        rl_nn::checkpoint::check_same_config(&saved.config, &self.config, saved.config.validate())?;
        let tensors = read_tensors(&dir.join(MODEL_FILE), &self.device)?;
        self.load_parameters(&tensors)?;
        self.opt.load_state(&OptimizerState::from_prefixed(
            &saved.optimizer_kind,
            saved.optimizer_step,
            &tensors,
            "opt/",
        ))?;
        self.config = saved.config;
        self.updates = saved.updates;
        self.rng = SeededRng::from_state(saved.rng);
        Ok(())
    }
}

/// `1 − Var(R − V) / Var(R)` (SB3's `explained_variance`; NaN when `Var(R)` is 0).
fn explained_variance(values: &Tensor, returns: &Tensor) -> Result<f64> {
    let var = |t: &Tensor| -> Result<f64> {
        let v: Vec<f64> = t.to_dtype(DType::F64)?.to_vec1()?;
        let n = v.len().max(1) as f64;
        let mean = v.iter().sum::<f64>() / n;
        Ok(v.iter().map(|&x| (x - mean).powi(2)).sum::<f64>() / n)
    };
    let var_r = var(returns)?;
    if var_r == 0.0 {
        return Ok(f64::NAN);
    }
    Ok(1.0 - var(&(returns - values)?)? / var_r)
}

/// The policy network's last hidden features from a forward trace (what gSDE's noise is built on).
fn last_features(trace: &rl_nn::Trace) -> Result<&Tensor> {
    trace
        .last_features()
        .ok_or_else(|| A2cError::Config("the policy network has no layers".into()))
}
