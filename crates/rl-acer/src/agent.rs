//! [`Acer`]: the networks, the average policy network, and the update on a batch of segments.
//!
//! One update (Wang et al. 2017, algorithms 2 and 3), for `B` segments of `T` steps:
//!
//! 1. the current networks at every `s_t`; the average policy `f(·|φ_avg(s_t))`;
//!    `ρ_t = f(a_t|s_t) / μ(a_t|s_t)` against the behaviour policy stored with the segment;
//! 2. Retrace targets `Q_ret` backwards over each segment (eq. 5), from `V(s_T)` or the value of a
//!    truncated episode's final observation (`rl_math::returns::retrace`);
//! 3. the policy gradient with respect to the policy's statistics `φ`: truncated importance
//!    weights with bias correction (eq. 9 discrete, eq. 14 continuous), entropy bonus;
//! 4. the efficient trust region (eq. 12–13): `z* = ĝ − max(0, (kᵀĝ − δ)/‖k‖²) k` with
//!    `k = ∇_φ KL(f(·|φ_avg) ‖ f(·|φ))`, pushed through the network as `∂φ/∂θ · z*`;
//! 5. the critic loss (`q_coef · ½ (Q_ret − Q)²`; continuous: also `½ (V_target − V)²`);
//! 6. global-norm clipping, one RMSprop step, and `θ_a ← α θ_a + (1 − α) θ`.
//!
//! Discrete and continuous updates live in [`discrete`](crate::discrete) and
//! [`continuous`](crate::continuous).

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor, Var};
use rl_buffer::{ActionSpec, SegmentBatch};
use rl_math::clip::clip_grads;
use rl_math::distributions::{Categorical, DiagGaussian};
use rl_math::optim::{Optimizer, OptimizerState, RmsProp, RmsPropConfig};
use rl_math::polyak::polyak_update;
use rl_math::{RngState, SeededRng};
use rl_nn::ParamStore;
use rl_nn::checkpoint::{read_tensors, write_json, write_tensors};
use serde::{Deserialize, Serialize};

use crate::networks::{ContinuousNet, DiscreteLayout, DiscreteNet};
use crate::{AcerConfig, AcerError, Result};
use rl_nn::AgentError;

/// What one update measured.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AcerMetrics {
    /// `−mean` of the policy objective (before the trust region).
    pub policy_loss: f64,
    /// The critic loss (before `q_coef`).
    pub q_loss: f64,
    /// Mean policy entropy.
    pub entropy: f64,
    /// Mean importance weight `ρ_t` of the taken actions.
    pub rho: f64,
    /// Mean trust-region scale `max(0, (kᵀĝ − δ)/‖k‖²)` (0: the constraint never bit).
    pub trust_region_scale: f64,
    /// Global gradient norm before clipping.
    pub grad_norm: f64,
    /// Whether the batch was replayed (off-policy) or fresh (on-policy).
    pub off_policy: bool,
}

/// What acting on a batch of observations gives.
#[derive(Debug, Clone, PartialEq)]
pub struct Acted {
    /// One action per observation (`width` values; a discrete action is its index).
    pub actions: Vec<f32>,
    /// The behaviour distribution per observation: probabilities (discrete), or means then
    /// standard deviations (continuous).
    pub behaviour: Vec<f32>,
}

/// ACER's networks.
#[derive(Debug, Clone)]
pub(crate) enum Nets {
    Discrete(DiscreteNet),
    Continuous(ContinuousNet),
}

/// The ACER agent: networks, the average policy network, RMSprop.
pub struct Acer {
    pub(crate) config: AcerConfig,
    pub(crate) obs_dim: usize,
    pub(crate) action: ActionSpec,
    pub(crate) device: Device,
    pub(crate) params: ParamStore,
    pub(crate) avg_params: ParamStore,
    pub(crate) nets: Nets,
    pub(crate) avg_nets: Nets,
    pub(crate) log_std: Option<Var>,
    pub(crate) avg_log_std: Option<Var>,
    pub(crate) opt: RmsProp,
    pub(crate) rng: SeededRng,
    /// Draws for the next continuous update instead of `rng`'s (`set_update_noise`).
    pub(crate) noise: Option<Vec<f32>>,
    pub(crate) updates: u64,
}

impl std::fmt::Debug for Acer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Acer")
            .field("obs_dim", &self.obs_dim)
            .field("action", &self.action)
            .field("net_arch", &self.config.net_arch)
            .field("updates", &self.updates)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize, Deserialize)]
struct SavedAcer {
    algo: String,
    obs_dim: usize,
    action: ActionSpec,
    config: AcerConfig,
    updates: u64,
    rng: RngState,
    optimizer_step: u64,
}

const MODEL_FILE: &str = "acer.safetensors";
const STATE_FILE: &str = "acer.json";

impl Acer {
    /// A new agent for `obs_dim`-dimensional observations and `action`s, seeded by `seed`.
    pub fn new(
        config: AcerConfig,
        obs_dim: usize,
        action: ActionSpec,
        device: &Device,
        seed: u64,
    ) -> Result<Self> {
        Self::with_dtype(config, obs_dim, action, device, DType::F32, seed)
    }

    /// [`Acer::new`] with parameters of `dtype` (`F32` for training; `F64` to compare one update
    /// with a float64 reference, as `tests/golden.rs` does). Observations, actions and behaviour
    /// statistics still come in `f32` and are converted.
    pub fn with_dtype(
        config: AcerConfig,
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
                rl_nn::training_memory(rows, obs_dim, &config.net_arch, 2 * action.size() + 1, 3)
            }),
        )
        .map_err(AcerError::Config)?;
        if obs_dim == 0 || action.size() == 0 {
            return Err(AcerError::from(AgentError::UnsupportedEnv(format!(
                "ACER needs observations and actions with at least one component, got {obs_dim} and {}",
                action.size()
            ))));
        }
        let mut rng = SeededRng::new(seed);
        let mut params = ParamStore::new(device, dtype);
        let (act, arch) = (config.activation_fn, config.net_arch.clone());
        let (nets, log_std) = match action {
            ActionSpec::Discrete { n } => (
                Nets::Discrete(DiscreteNet::new(
                    &mut params,
                    obs_dim,
                    n,
                    &arch,
                    act,
                    DiscreteLayout {
                        shared_body: config.shared_body,
                        ortho_init: config.ortho_init,
                    },
                    &mut rng,
                )?),
                None,
            ),
            ActionSpec::Continuous { .. } if config.ortho_init => {
                return Err(AcerError::Config(
                    "ortho_init is for discrete actions (the continuous networks use PyTorch's \
                     default initialization)"
                        .into(),
                ));
            }
            ActionSpec::Continuous { dim } => {
                let net = ContinuousNet::new(&mut params, obs_dim, dim, &arch, act, &mut rng)?;
                let init = Tensor::full(config.log_std_init, dim, device)?.to_dtype(dtype)?;
                let log_std = params.insert("log_std", &init)?;
                (Nets::Continuous(net), Some(log_std))
            }
        };
        let avg_params = params.deep_copy()?;
        let avg_nets = match &nets {
            Nets::Discrete(_) => Nets::Discrete(DiscreteNet::bind(&avg_params, act)?),
            Nets::Continuous(_) => Nets::Continuous(ContinuousNet::bind(&avg_params, act)?),
        };
        let avg_log_std = avg_params.get("log_std").cloned();
        let opt = RmsProp::new(
            params.params().to_vec(),
            RmsPropConfig {
                lr: config.learning_rate,
                alpha: config.rprop_alpha,
                eps: config.rprop_epsilon,
                style: config.rms_prop_style,
            },
        )?;
        Ok(Self {
            config,
            obs_dim,
            action,
            device: device.clone(),
            params,
            avg_params,
            nets,
            avg_nets,
            log_std,
            avg_log_std,
            opt,
            rng,
            noise: None,
            updates: 0,
        })
    }

    /// Makes the next continuous update use `eps` as its standard-normal draws instead of drawing
    /// them from the agent's generator: `(n_samples + 1) · N · d` values (`N = B·T` rows), the
    /// SDN's samples `u_1 … u_n` and then the bias correction's `a'`, each block row by row. For
    /// checking one update against a reference computed elsewhere (`tests/golden.rs`).
    pub fn set_update_noise(&mut self, eps: Vec<f32>) {
        self.noise = Some(eps);
    }

    /// Replaces the parameters of the networks and of the average network with `tensors`, named as
    /// in a checkpoint: `params/<name>` and `average/<name>` for every name of
    /// [`Acer::params`] (weights trained elsewhere, or a reference test's).
    pub fn load_parameters(&mut self, tensors: &HashMap<String, Tensor>) -> Result<()> {
        self.params.load_named("params/", tensors)?;
        self.avg_params.load_named("average/", tensors)?;
        Ok(())
    }

    /// The hyperparameters.
    pub fn config(&self) -> &AcerConfig {
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

    /// Sets the optimizer's learning rate for the next updates (the trainer's schedule; see
    /// [`AcerConfig::lr_schedule`]).
    pub fn set_learning_rate(&mut self, lr: f64) {
        self.opt.set_lr(lr);
    }

    /// The optimizer's current learning rate.
    pub fn learning_rate(&self) -> f64 {
        self.opt.config().lr
    }

    /// Every trainable parameter.
    pub fn params(&self) -> &ParamStore {
        &self.params
    }

    /// The average network's parameters (`θ_a`, the trust region's reference), named as
    /// [`Acer::params`].
    pub fn average_params(&self) -> &ParamStore {
        &self.avg_params
    }

    /// Values the behaviour distribution takes per step (`n` probabilities, or `2·dim`).
    pub fn behaviour_width(&self) -> usize {
        match self.action {
            ActionSpec::Discrete { n } => n,
            ActionSpec::Continuous { dim } => 2 * dim,
        }
    }

    /// Actions for a batch of observations, sampled (or the most probable / the mean when
    /// `deterministic`), with the behaviour distribution they were drawn from.
    pub fn act_batch(&mut self, obs: &Tensor, deterministic: bool) -> Result<Acted> {
        rl_nn::ops::check_batch(obs, self.obs_dim, "observations")?;
        let obs = &obs.to_dtype(self.params.dtype())?;
        match &self.nets {
            Nets::Discrete(net) => {
                let (logits, _) = net.forward(obs)?;
                let pi = Categorical::from_logits(&logits)?;
                let a = if deterministic {
                    pi.mode()?
                } else {
                    pi.sample(&mut self.rng)?
                };
                Ok(Acted {
                    actions: a.iter().map(|&i| i as f32).collect(),
                    behaviour: pi.probs()?.flatten_all()?.to_dtype(DType::F32)?.to_vec1()?,
                })
            }
            Nets::Continuous(net) => {
                let mean = net.mean.forward_detached(obs)?;
                let log_std = self.log_std_tensor()?;
                let pi = DiagGaussian::new(&mean, &log_std)?;
                let a = if deterministic {
                    mean.clone()
                } else {
                    pi.sample(&mut self.rng)?
                };
                let std = pi.log_std().exp()?;
                let behaviour = Tensor::cat(&[&mean, &std], 1)?;
                Ok(Acted {
                    actions: a.flatten_all()?.to_dtype(DType::F32)?.to_vec1()?,
                    behaviour: behaviour.flatten_all()?.to_dtype(DType::F32)?.to_vec1()?,
                })
            }
        }
    }

    pub(crate) fn log_std_tensor(&self) -> Result<Tensor> {
        self.log_std
            .as_ref()
            .map(|v| v.as_tensor().detach())
            .ok_or_else(|| {
                AcerError::from(AgentError::UnsupportedEnv(
                    "no log_std for discrete actions".into(),
                ))
            })
    }

    /// `V(s)` for a batch of observations (discrete: `Σ_a f(a|s) Q(s, a)`).
    pub fn values(&self, obs: &Tensor) -> Result<Tensor> {
        rl_nn::ops::check_batch(obs, self.obs_dim, "observations")?;
        let obs = &obs.to_dtype(self.params.dtype())?;
        match &self.nets {
            Nets::Discrete(net) => {
                let (logits, q) = net.forward(obs)?;
                let f = candle_nn::ops::softmax_last_dim(&logits)?;
                Ok((f * q)?.sum(1)?)
            }
            Nets::Continuous(net) => Ok(net.value.forward_detached(obs)?.squeeze(1)?),
        }
    }

    /// One update on `batch` (fresh or replayed segments).
    pub fn update(&mut self, batch: &SegmentBatch, off_policy: bool) -> Result<AcerMetrics> {
        let (_, _, width) = batch.obs.dims3()?;
        if width != self.obs_dim {
            return Err(rl_nn::NnError::Shape(format!(
                "batch observations have {width} components, the agent expects {}",
                self.obs_dim
            ))
            .into());
        }
        let place = format!("update {}", self.updates + 1);
        let (mut grads, metrics) = match self.action {
            ActionSpec::Discrete { .. } => self.discrete_gradients(batch)?,
            ActionSpec::Continuous { .. } => self.continuous_gradients(batch)?,
        };
        for (value, what) in [
            (metrics.policy_loss, "policy loss"),
            (metrics.q_loss, "critic loss"),
        ] {
            if !value.is_finite() {
                return Err(AcerError::from(AgentError::NonFinite {
                    what: what.into(),
                    value,
                    place,
                }));
            }
        }
        let norm = clip_grads(&mut grads, self.config.max_grad_norm).map_err(|e| match e {
            rl_math::MathError::NonFinite { what, value } => {
                AcerError::from(AgentError::NonFinite {
                    what,
                    value,
                    place: place.clone(),
                })
            }
            other => other.into(),
        })?;
        self.opt.step_with(&grads)?;
        // θ_a ← α θ_a + (1 − α) θ.
        polyak_update(
            &self.params.vars(),
            &self.avg_params.vars(),
            1.0 - self.config.alpha,
        )?;
        self.updates += 1;
        Ok(AcerMetrics {
            grad_norm: norm,
            off_policy,
            ..metrics
        })
    }

    /// Saves the networks, the average network, optimizer state, generator and counters.
    pub fn save(&self, dir: &Path) -> Result<()> {
        let mut tensors = self.params.named_tensors("params/")?;
        tensors.extend(self.avg_params.named_tensors("average/")?);
        let state = self.opt.state()?;
        let optimizer_step = state.step;
        tensors.extend(state.prefixed("opt/"));
        write_tensors(&dir.join(MODEL_FILE), &tensors)?;
        let saved = SavedAcer {
            algo: "acer".into(),
            obs_dim: self.obs_dim,
            action: self.action,
            config: self.config.clone(),
            updates: self.updates,
            rng: self.rng.state(),
            optimizer_step,
        };
        let json = serde_json::to_value(&saved)
            .map_err(|e| AcerError::from(AgentError::Checkpoint(e.to_string())))?;
        write_json(&dir.join(STATE_FILE), &json)?;
        Ok(())
    }

    /// Restores a folder written by [`save`](Self::save) into this agent (same shapes).
    pub fn load_into(&mut self, dir: &Path) -> Result<()> {
        let saved: SavedAcer =
            rl_nn::checkpoint::read_agent_state(dir, STATE_FILE, "acer", "ACER")?;
        rl_nn::checkpoint::check_same_shapes(
            (saved.obs_dim, saved.action, &saved.config.net_arch),
            (self.obs_dim, self.action, &self.config.net_arch),
        )?;
        rl_nn::checkpoint::check_same_config(&saved.config, &self.config, saved.config.validate())?;
        let tensors = read_tensors(&dir.join(MODEL_FILE), &self.device)?;
        self.load_parameters(&tensors)?;
        self.opt.load_state(&OptimizerState::from_prefixed(
            "rmsprop",
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

/// The segments of a batch as flat rows: the `B·T` training observations, the `B` last
/// observations, the per-step flags, rewards and the truncated steps' final observations.
pub(crate) struct Rows {
    pub(crate) obs: Tensor,
    pub(crate) last_obs: Tensor,
    pub(crate) rewards: Vec<f64>,
    pub(crate) terminated: Vec<bool>,
    pub(crate) truncated: Vec<bool>,
    /// `(row, final observation)` for every truncated, not terminated, step.
    pub(crate) finals: Vec<(usize, Tensor)>,
    pub(crate) b: usize,
    pub(crate) t: usize,
}

impl Rows {
    pub(crate) fn of(batch: &SegmentBatch) -> Result<Self> {
        let (b, t1, d) = batch.obs.dims3()?;
        let t = t1 - 1;
        let obs = batch.obs.narrow(1, 0, t)?.reshape((b * t, d))?;
        let last_obs = batch.obs.narrow(1, t, 1)?.reshape((b, d))?;
        let flags = |x: &Tensor| -> Result<Vec<bool>> {
            Ok(x.flatten_all()?
                .to_vec1::<f32>()?
                .iter()
                .map(|&v| v > 0.5)
                .collect())
        };
        let terminated = flags(&batch.terminated)?;
        let truncated = flags(&batch.truncated)?;
        let rewards: Vec<f64> = batch
            .rewards
            .flatten_all()?
            .to_vec1::<f32>()?
            .iter()
            .map(|&r| f64::from(r))
            .collect();
        let final_obs = batch.final_obs.reshape((b * t, d))?;
        let finals = (0..b * t)
            .filter(|&i| truncated[i] && !terminated[i])
            .map(|i| Ok((i, final_obs.narrow(0, i, 1)?)))
            .collect::<Result<_>>()?;
        Ok(Self {
            obs,
            last_obs,
            rewards,
            terminated,
            truncated,
            finals,
            b,
            t,
        })
    }

    /// The observations in `dtype` (the parameters').
    pub(crate) fn cast(self, dtype: DType) -> Result<Self> {
        let finals = self
            .finals
            .into_iter()
            .map(|(i, o)| Ok((i, o.to_dtype(dtype)?)))
            .collect::<Result<_>>()?;
        Ok(Self {
            obs: self.obs.to_dtype(dtype)?,
            last_obs: self.last_obs.to_dtype(dtype)?,
            finals,
            ..self
        })
    }

    /// `V` of the state after each step: the next row's value inside a segment, the last
    /// observation's after the segment, a truncated step's final observation's.
    pub(crate) fn next_values(
        &self,
        v: &[f64],
        v_last: &[f64],
        v_final: &[(usize, f64)],
    ) -> Vec<f64> {
        let mut next = vec![0.0; self.b * self.t];
        for (seg, &last) in v_last.iter().enumerate().take(self.b) {
            for step in 0..self.t {
                let i = seg * self.t + step;
                next[i] = if step + 1 < self.t { v[i + 1] } else { last };
            }
        }
        for &(i, value) in v_final {
            next[i] = value;
        }
        next
    }

    /// Retrace over every segment with `traces` (`rl_math::returns::retrace`).
    pub(crate) fn retrace(
        &self,
        q_taken: &[f64],
        values: &[f64],
        next_values: &[f64],
        traces: &[f64],
        gamma: f64,
    ) -> Result<Vec<f64>> {
        let mut out = Vec::with_capacity(self.b * self.t);
        for seg in 0..self.b {
            let r = seg * self.t..(seg + 1) * self.t;
            let traj = rl_math::returns::Trajectory {
                rewards: &self.rewards[r.clone()],
                values: &values[r.clone()],
                next_values: &next_values[r.clone()],
                terminated: &self.terminated[r.clone()],
                truncated: &self.truncated[r.clone()],
            };
            out.extend(rl_math::returns::retrace(
                &traj,
                &q_taken[r.clone()],
                &traces[r],
                gamma,
            )?);
        }
        Ok(out)
    }
}

/// A tensor's values as `f64`.
pub(crate) fn to_f64(t: &Tensor) -> Result<Vec<f64>> {
    Ok(t.flatten_all()?.to_dtype(DType::F64)?.to_vec1()?)
}
