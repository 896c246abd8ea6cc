//! [`A2c`]: the actor-critic networks and their update.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use rl_buffer::{ActionSpec, RolloutBatch};
use rl_math::clip::clip_grads;
use rl_math::optim::{Adam, AdamConfig, Optimizer, OptimizerState, RmsProp, RmsPropConfig};
use rl_math::{RngState, SeededRng};
use rl_nn::actor_critic::{Acted, ActorCritic, PolicySpec, explained_variance};
use rl_nn::checkpoint::{read_tensors, write_json, write_tensors};
use rl_nn::{Mlp, ParamStore};
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
    policy: ActorCritic,
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
        let mut rng = SeededRng::new(seed);
        let mut params = ParamStore::new(device, dtype);
        let policy = ActorCritic::new(
            "A2C",
            &mut params,
            obs_dim,
            action,
            &PolicySpec {
                net_arch: config.net_arch.clone(),
                activation: config.activation_fn,
                ortho_init: config.ortho_init,
                log_std_init: config.log_std_init,
                use_sde: config.use_sde,
            },
            &mut rng,
        )?;
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
            policy,
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
        self.policy.policy_net()
    }

    /// The value network (observation → `V`).
    pub fn value_net(&self) -> &Mlp {
        self.policy.value_net()
    }

    /// With `use_sde`, draws `n` new exploration matrices (one per env) from the agent's
    /// generator: [`A2cTrainer`](crate::A2cTrainer) does it at the start of each rollout (and
    /// every `sde_sample_freq` steps). Stochastic [`act_batch`](Self::act_batch) calls then take
    /// batches of `n` observations (row `i` uses matrix `i`); the first call draws matrices for
    /// its batch if none were drawn. Without gSDE it does nothing.
    pub fn reset_noise(&mut self, n: usize) -> Result<()> {
        Ok(self.policy.reset_noise(n, &mut self.rng)?)
    }

    /// Replaces the generator the agent samples its actions from (its position is part of a
    /// checkpoint): for example [`SeededRng::replaying_normals`], to replay another library's
    /// recorded exploration noise and compare a whole run with it.
    pub fn set_rng(&mut self, rng: SeededRng) {
        self.rng = rng;
    }

    /// The networks and the generator they sample from (for `collect_rollout`).
    pub(crate) fn policy_and_rng(&mut self) -> (&mut ActorCritic, &mut SeededRng) {
        (&mut self.policy, &mut self.rng)
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
        self.policy.forget_noise();
        Ok(())
    }

    /// `V(s)` for a batch of observations `[B, obs_dim]`.
    pub fn values(&self, obs: &Tensor) -> Result<Vec<f64>> {
        Ok(self.policy.values(obs)?)
    }

    /// Actions, values and log-probabilities for a batch of observations `[B, obs_dim]`:
    /// samples, or (`deterministic`) the most probable action / the mean. Continuous actions are
    /// not clipped here (the log-probability is of the sampled value; clip when stepping).
    pub fn act_batch(&mut self, obs: &Tensor, deterministic: bool) -> Result<Acted> {
        Ok(self.policy.act(obs, deterministic, &mut self.rng)?)
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
        let eval = self.policy.evaluate(&batch.obs, &batch.actions)?;
        let advantages = if self.config.normalize_advantage {
            normalize_advantages(&batch.advantages)?
        } else {
            batch.advantages.clone()
        };
        let pl = policy_loss(&eval.log_prob, &advantages)?;
        let vl = value_loss(&eval.values, &batch.returns)?;
        let el = entropy_loss(&eval.entropy)?;
        let loss = total_loss(&pl, &el, &vl, self.config.ent_coef, self.config.vf_coef)?;
        let grads = self.policy.param_grads(&eval, &mut loss.backward()?)?;
        let scalar =
            |t: &Tensor| -> Result<f64> { Ok(t.to_dtype(DType::F64)?.to_scalar::<f64>()?) };
        Ok((
            grads,
            A2cMetrics {
                policy_loss: scalar(&pl)?,
                value_loss: scalar(&vl)?,
                entropy_loss: scalar(&el)?,
                grad_norm: 0.0,
                explained_variance: explained_variance(&eval.values, &batch.returns)?,
                std: eval.std,
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
