//! [`ActorCritic`]: the policy and value networks of the on-policy learners (SB3's
//! `ActorCriticPolicy` with its `MlpPolicy` defaults), shared by A2C and PPO so that each is its
//! loss and its update.

use candle_core::backprop::GradStore;
use candle_core::{D, DType, Device, Tensor, Var};
use rl_envs::ActionSpec;
use rl_math::SeededRng;
use rl_math::distributions::{Categorical, DiagGaussian, Gsde};

use crate::{Activation, AgentError, Init, Mlp, ParamStore, Trace};

type Result<T> = std::result::Result<T, AgentError>;

/// The shape of an [`ActorCritic`]: what A2C's and PPO's configurations say of their networks.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicySpec {
    /// Hidden layers of the policy and of the value network (separate networks, as SB3's
    /// `MlpPolicy` since 1.8).
    pub net_arch: Vec<usize>,
    /// Hidden activation.
    pub activation: Activation,
    /// Orthogonal initialization (gains √2 hidden, 0.01 policy head, 1 value head), else
    /// PyTorch's default.
    pub ortho_init: bool,
    /// Initial log standard deviation of the Gaussian policy; with `use_sde`, of every entry of
    /// the `[features, actions]` scale.
    pub log_std_init: f64,
    /// gSDE (continuous actions only): state-dependent noise, `rl_math::distributions::Gsde`.
    pub use_sde: bool,
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

/// The policy evaluated on a batch of observations and actions, differentiably: the learner
/// builds its loss from these tensors, takes `loss.backward()`, and hands the gradients to
/// [`ActorCritic::param_grads`].
#[derive(Debug)]
pub struct Evaluation {
    /// `log π(a|s)`, `[B]`.
    pub log_prob: Tensor,
    /// `H(π(·|s))`, `[B]`.
    pub entropy: Tensor,
    /// `V(s)`, `[B]`.
    pub values: Tensor,
    /// The Gaussian's mean standard deviation (continuous actions).
    pub std: Option<f64>,
    pi_leaf: Var,
    v_leaf: Var,
    pi_trace: Trace,
    v_trace: Trace,
}

/// A policy network (categorical logits, or a Gaussian mean with a state-independent learned
/// `log σ`, or with gSDE's state-dependent noise) and a separate value network, both MLPs.
///
/// The networks' gradients come from their explicit backward passes ([`Mlp::backward`]); the
/// distribution's and the loss's from candle's autograd on the small tensors between them.
///
/// ```
/// use candle_core::{DType, Device, Tensor};
/// use rl_envs::ActionSpec;
/// use rl_math::SeededRng;
/// use rl_nn::actor_critic::{ActorCritic, PolicySpec};
/// use rl_nn::{Activation, ParamStore};
///
/// let spec = PolicySpec { net_arch: vec![64, 64], activation: Activation::Tanh,
///                         ortho_init: true, log_std_init: 0.0, use_sde: false };
/// let mut params = ParamStore::new(&Device::Cpu, DType::F32);
/// let mut rng = SeededRng::new(0);
/// let mut policy = ActorCritic::new("PPO", &mut params, 4, ActionSpec::Discrete { n: 2 }, &spec, &mut rng)?;
/// let obs = Tensor::zeros((3, 4), DType::F32, &Device::Cpu)?;
/// let acted = policy.act(&obs, false, &mut rng)?;
/// assert_eq!(acted.actions.len(), 3);
/// let eval = policy.evaluate(&obs, &Tensor::from_slice(&acted.actions, 3, &Device::Cpu)?)?;
/// let loss = (eval.log_prob.mean_all()?.neg()? + eval.values.sqr()?.mean_all()?)?;
/// let grads = policy.param_grads(&eval, &mut loss.backward()?)?;
/// assert_eq!(grads.len(), params.params().len());
/// # Ok::<(), rl_nn::AgentError>(())
/// ```
#[derive(Debug)]
pub struct ActorCritic {
    learner: &'static str,
    obs_dim: usize,
    action: ActionSpec,
    use_sde: bool,
    device: Device,
    dtype: DType,
    pi: Mlp,
    vf: Mlp,
    log_std: Option<Var>,
    /// gSDE's exploration matrices, one per env (`[n, features, actions]`).
    exploration: Option<Tensor>,
}

impl ActorCritic {
    /// The networks for `learner` (its name, for messages), their parameters added to `params`
    /// (`pi.*`, `vf.*`, then `log_std` for continuous actions) and initialized from `rng`.
    pub fn new(
        learner: &'static str,
        params: &mut ParamStore,
        obs_dim: usize,
        action: ActionSpec,
        spec: &PolicySpec,
        rng: &mut SeededRng,
    ) -> Result<Self> {
        // The policy's outputs: one logit per discrete action, or the Gaussian's mean.
        let out = action.size();
        if obs_dim == 0 || out == 0 {
            return Err(AgentError::UnsupportedEnv(format!(
                "{learner} needs observations and actions with at least one component, got {obs_dim} and {out}"
            )));
        }
        let (device, dtype) = (params.device().clone(), params.dtype());
        let (hidden, pi_head, vf_head) = if spec.ortho_init {
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
            s.extend_from_slice(&spec.net_arch);
            s.push(output);
            s
        };
        let act = spec.activation;
        let pi = Mlp::new(
            params,
            "pi",
            &sizes(out),
            act,
            false,
            (hidden, pi_head),
            rng,
        )?;
        let vf = Mlp::new(params, "vf", &sizes(1), act, false, (hidden, vf_head), rng)?;
        let log_std = match action {
            ActionSpec::Continuous { dim } if spec.use_sde => {
                // One scale per (feature, action) pair (SB3's `full_std=True`).
                let features = spec.net_arch.last().copied().unwrap_or(obs_dim);
                let init =
                    Tensor::full(spec.log_std_init, (features, dim), &device)?.to_dtype(dtype)?;
                Some(params.insert("log_std", &init)?)
            }
            ActionSpec::Continuous { dim } => {
                let init = Tensor::full(spec.log_std_init, dim, &device)?.to_dtype(dtype)?;
                Some(params.insert("log_std", &init)?)
            }
            ActionSpec::Discrete { .. } if spec.use_sde => {
                return Err(AgentError::UnsupportedEnv(
                    "use_sde (state-dependent exploration) needs continuous actions".into(),
                ));
            }
            ActionSpec::Discrete { .. } => None,
        };
        Ok(Self {
            learner,
            obs_dim,
            action,
            use_sde: spec.use_sde,
            device,
            dtype,
            pi,
            vf,
            log_std,
            exploration: None,
        })
    }

    /// Observation components.
    pub fn obs_dim(&self) -> usize {
        self.obs_dim
    }

    /// The device of the parameters.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The action kind and size.
    pub fn action_spec(&self) -> ActionSpec {
        self.action
    }

    /// The policy network (observation → logits, or the Gaussian mean).
    pub fn policy_net(&self) -> &Mlp {
        &self.pi
    }

    /// The value network (observation → `V`).
    pub fn value_net(&self) -> &Mlp {
        &self.vf
    }

    /// With gSDE, draws `n` new exploration matrices (one per env) from `rng`; stochastic
    /// [`act`](Self::act) calls then take batches of `n` observations (row `i` uses matrix `i`).
    /// The first stochastic call draws matrices for its batch if none were drawn. Without gSDE it
    /// does nothing.
    pub fn reset_noise(&mut self, n: usize, rng: &mut SeededRng) -> Result<()> {
        if self.use_sde {
            let log_std = self.log_std_tensor()?;
            self.exploration = Some(Gsde::sample_matrices(&log_std, n, rng)?);
        }
        Ok(())
    }

    /// Forgets gSDE's exploration matrices (drawn with a scale that has since been replaced).
    pub fn forget_noise(&mut self) {
        self.exploration = None;
    }

    /// `V(s)` for a batch of observations `[B, obs_dim]`.
    pub fn values(&self, obs: &Tensor) -> Result<Vec<f64>> {
        crate::ops::check_batch(obs, self.obs_dim, "observations")?;
        let obs = &obs.to_dtype(self.dtype)?;
        let v = self.vf.forward_detached(obs)?.squeeze(D::Minus1)?;
        Ok(v.to_dtype(DType::F64)?.to_vec1()?)
    }

    /// Actions, values and log-probabilities for a batch of observations `[B, obs_dim]`:
    /// samples drawn from `rng`, or (`deterministic`) the most probable action / the mean.
    /// Continuous actions are not clipped here (the log-probability is of the sampled value;
    /// clip when stepping).
    pub fn act(&mut self, obs: &Tensor, deterministic: bool, rng: &mut SeededRng) -> Result<Acted> {
        crate::ops::check_batch(obs, self.obs_dim, "observations")?;
        let obs = &obs.to_dtype(self.dtype)?;
        // `forward_detached` is this same pass without the trace; gSDE needs the trace's features.
        let (out, trace) = self.pi.forward_traced(obs)?;
        let values = self.values(obs)?;
        let (actions, log_probs) = match self.action {
            ActionSpec::Discrete { .. } => {
                let pi = Categorical::from_logits(&out)?;
                let a = if deterministic {
                    pi.mode()?
                } else {
                    pi.sample(rng)?
                };
                let idx = Tensor::from_slice(&a, a.len(), &self.device)?;
                let log_probs = pi.log_prob(&idx)?;
                (a.iter().map(|&i| i as f32).collect(), log_probs)
            }
            ActionSpec::Continuous { .. } => {
                let (log_std, noise) = if self.use_sde {
                    let features = self.last_features(&trace)?;
                    let log_std = Gsde::log_std(features, &self.log_std_tensor()?)?;
                    let noise = if deterministic {
                        None
                    } else {
                        Some(self.gsde_noise(features, rng)?)
                    };
                    (log_std, noise)
                } else {
                    (self.log_std_tensor()?, None)
                };
                let pi = DiagGaussian::new(&out, &log_std)?;
                let a = match noise {
                    Some(noise) => (&out + noise)?,
                    None if deterministic => out.clone(),
                    None => pi.sample(rng)?,
                };
                let log_probs = pi.log_prob(&a)?;
                (a.flatten_all()?.to_dtype(DType::F32)?.to_vec1()?, log_probs)
            }
        };
        Ok(Acted {
            actions,
            values,
            log_probs: log_probs.to_dtype(DType::F64)?.to_vec1()?,
        })
    }

    /// gSDE's noise for a batch of features, one exploration matrix per row.
    fn gsde_noise(&mut self, features: &Tensor, rng: &mut SeededRng) -> Result<Tensor> {
        let rows = features.dim(0)?;
        if self.exploration.is_none() {
            self.reset_noise(rows, rng)?;
        }
        let matrices = self
            .exploration
            .as_ref()
            .ok_or_else(|| AgentError::Internal {
                learner: self.learner,
                what: "no exploration matrices after drawing them".into(),
            })?;
        let kept = matrices.dim(0)?;
        if kept != rows {
            // Redrawing here would change the running rollout's exploration and the generator's
            // stream behind the caller's back.
            return Err(AgentError::UnsupportedEnv(format!(
                "a stochastic gSDE action for {rows} observations, with exploration matrices for \
                 {kept} envs: call reset_noise({rows}) first"
            )));
        }
        Ok(Gsde::noise(features, matrices)?)
    }

    /// `log π(a|s)`, `H(π(·|s))` and `V(s)` for a batch of observations `[B, obs_dim]` and the
    /// actions taken (`[B]` indices or `[B, dim]`), differentiable through leaves at the networks'
    /// outputs (and `log_std`).
    pub fn evaluate(&self, obs: &Tensor, actions: &Tensor) -> Result<Evaluation> {
        crate::ops::check_batch(obs, self.obs_dim, "observations")?;
        let obs = &obs.to_dtype(self.dtype)?;
        let actions = &if actions.dtype().is_float() {
            actions.to_dtype(self.dtype)?
        } else {
            actions.clone()
        };
        let (pi_out, pi_trace) = self.pi.forward_traced(obs)?;
        let (v_out, v_trace) = self.vf.forward_traced(obs)?;
        let pi_leaf = Var::from_tensor(&pi_out)?;
        let v_leaf = Var::from_tensor(&v_out.squeeze(D::Minus1)?)?;
        let (log_prob, entropy, std) = match self.action {
            ActionSpec::Discrete { .. } => {
                let pi = Categorical::from_logits(pi_leaf.as_tensor())?;
                (pi.log_prob(actions)?, pi.entropy()?, None)
            }
            ActionSpec::Continuous { .. } => {
                let log_std = self.log_std_var()?;
                // gSDE: the per-row σ of the features (detached) and the learned scale.
                let row_log_std = if self.use_sde {
                    Gsde::log_std(self.last_features(&pi_trace)?, log_std.as_tensor())?
                } else {
                    log_std.as_tensor().clone()
                };
                let pi = DiagGaussian::new(pi_leaf.as_tensor(), &row_log_std)?;
                let std = row_log_std
                    .exp()?
                    .mean_all()?
                    .to_dtype(DType::F64)?
                    .to_scalar::<f64>()?;
                (pi.log_prob(actions)?, pi.entropy()?, Some(std))
            }
        };
        Ok(Evaluation {
            log_prob,
            entropy,
            values: v_leaf.as_tensor().clone(),
            std,
            pi_leaf,
            v_leaf,
            pi_trace,
            v_trace,
        })
    }

    /// The gradient of every parameter (in the order the parameters were added: `pi.*`, `vf.*`,
    /// `log_std`) from the gradients of a loss built on `eval`.
    pub fn param_grads(
        &self,
        eval: &Evaluation,
        grads: &mut GradStore,
    ) -> Result<Vec<Option<Tensor>>> {
        let missing = || AgentError::Internal {
            learner: self.learner,
            what: "a gradient is missing".into(),
        };
        let g_pi = grads.remove(&eval.pi_leaf).ok_or_else(missing)?;
        let g_v = grads
            .remove(&eval.v_leaf)
            .ok_or_else(missing)?
            .unsqueeze(1)?;
        let mut out = self.pi.backward(&eval.pi_trace, &g_pi, true, false)?.params;
        out.extend(self.vf.backward(&eval.v_trace, &g_v, true, false)?.params);
        if let Some(log_std) = &self.log_std {
            out.push(Some(grads.remove(log_std.as_tensor()).ok_or_else(missing)?));
        }
        Ok(out)
    }

    fn log_std_var(&self) -> Result<&Var> {
        self.log_std
            .as_ref()
            .ok_or_else(|| AgentError::UnsupportedEnv("no log_std for discrete actions".into()))
    }

    fn log_std_tensor(&self) -> Result<Tensor> {
        Ok(self.log_std_var()?.as_tensor().detach())
    }

    /// The policy network's last hidden features from a forward trace (what gSDE builds on).
    fn last_features<'t>(&self, trace: &'t Trace) -> Result<&'t Tensor> {
        trace.last_features().ok_or_else(|| AgentError::Internal {
            learner: self.learner,
            what: "the policy network has no layers".into(),
        })
    }
}

/// `(A − mean A) / (std A + 1e-8)` (SB3's `normalize_advantage`; std with Bessel's correction, as
/// `torch.std`).
pub fn normalize_advantages(advantages: &Tensor) -> candle_core::Result<Tensor> {
    let n = advantages.elem_count();
    let mean = advantages.mean_all()?;
    let centered = advantages.broadcast_sub(&mean)?;
    let var = (centered.sqr()?.sum_all()? / (n.max(2) - 1) as f64)?;
    centered.broadcast_div(&(var.sqrt()? + 1e-8)?)
}

/// `1 − Var(R − V) / Var(R)` (SB3's `explained_variance`; NaN when `Var(R)` is 0).
pub fn explained_variance(values: &Tensor, returns: &Tensor) -> candle_core::Result<f64> {
    let var = |t: &Tensor| -> candle_core::Result<f64> {
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
