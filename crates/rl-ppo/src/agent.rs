//! [`Ppo`]: the actor-critic networks and PPO's update (epochs of minibatches on one rollout).

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use rl_buffer::{ActionSpec, RolloutBatch};
use rl_math::clip::clip_grads;
use rl_math::optim::{Adam, AdamConfig, Optimizer, OptimizerState};
use rl_math::{RngState, SeededRng};
use rl_nn::AgentError;
use rl_nn::actor_critic::{Acted, ActorCritic, explained_variance};
use rl_nn::checkpoint::{read_tensors, write_json, write_tensors};
use rl_nn::{Mlp, ParamStore};
use serde::{Deserialize, Serialize};

use crate::losses::{
    approx_kl, clip_fraction, clipped_surrogate_loss, entropy_loss, normalize_advantages, ratio,
    total_loss, value_loss,
};
use crate::{PpoConfig, PpoError, Result};

/// What one update (the epochs on one rollout) measured, with SB3's `train/*` names: the losses
/// are means over the minibatches evaluated, `approx_kl` the mean over the last epoch's.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PpoMetrics {
    /// `−L^CLIP` (eq. 7), mean over minibatches.
    pub policy_gradient_loss: f64,
    /// `L^VF`, mean over minibatches.
    pub value_loss: f64,
    /// `−mean(H)`, mean over minibatches.
    pub entropy_loss: f64,
    /// The last minibatch's total loss (eq. 9, for descent).
    pub loss: f64,
    /// The estimated `KL(π_old ‖ π)`, mean over the last epoch's minibatches.
    pub approx_kl: f64,
    /// The share of rows whose ratio was clipped, mean over minibatches.
    pub clip_fraction: f64,
    /// The clipping ε used.
    pub clip_range: f64,
    /// Global gradient norm before clipping, mean over the gradient steps.
    pub grad_norm: f64,
    /// `1 − Var(R − V) / Var(R)` over the rollout (values at collection).
    pub explained_variance: f64,
    /// Epochs begun (fewer than `n_epochs` when `target_kl` stopped the update).
    pub epochs: usize,
    /// Gradient steps taken.
    pub gradient_steps: usize,
    /// Whether `target_kl` stopped the update early.
    pub stopped_early: bool,
    /// The Gaussian policy's mean standard deviation on the last minibatch (continuous actions).
    pub std: Option<f64>,
}

/// One minibatch's loss terms and diagnostics.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MinibatchMetrics {
    /// `−L^CLIP`.
    pub policy_gradient_loss: f64,
    /// `L^VF`.
    pub value_loss: f64,
    /// `−mean(H)`.
    pub entropy_loss: f64,
    /// The total (eq. 9, for descent).
    pub loss: f64,
    /// The estimated `KL(π_old ‖ π)`.
    pub approx_kl: f64,
    /// The share of rows whose ratio was clipped.
    pub clip_fraction: f64,
    /// The Gaussian policy's mean standard deviation (continuous actions).
    pub std: Option<f64>,
}

/// The PPO agent: an [`ActorCritic`] (SB3's `MlpPolicy`: separate policy and value MLPs,
/// categorical or diagonal-Gaussian policy, optional gSDE) trained by Adam on the clipped
/// surrogate of [`losses`](crate::losses), minibatch by minibatch.
pub struct Ppo {
    config: PpoConfig,
    device: Device,
    params: ParamStore,
    policy: ActorCritic,
    opt: Adam,
    rng: SeededRng,
    /// Epochs done (SB3's `n_updates`).
    updates: u64,
}

impl std::fmt::Debug for Ppo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ppo")
            .field("obs_dim", &self.policy.obs_dim())
            .field("action", &self.policy.action_spec())
            .field("net_arch", &self.config.net_arch)
            .field("updates", &self.updates)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize, Deserialize)]
struct SavedPpo {
    algo: String,
    obs_dim: usize,
    action: ActionSpec,
    config: PpoConfig,
    updates: u64,
    rng: RngState,
    optimizer_kind: String,
    optimizer_step: u64,
}

const MODEL_FILE: &str = "ppo.safetensors";
const STATE_FILE: &str = "ppo.json";

impl Ppo {
    /// A new agent for `obs_dim`-dimensional observations and `action`s, seeded by `seed`.
    pub fn new(
        config: PpoConfig,
        obs_dim: usize,
        action: ActionSpec,
        device: &Device,
        seed: u64,
    ) -> Result<Self> {
        Self::with_dtype(config, obs_dim, action, device, DType::F32, seed)
    }

    /// [`Ppo::new`] with parameters of `dtype` (`F32` for training; `F64` to compare an update
    /// with a float64 reference, as `tests/golden.rs` does). Batches and observations still come
    /// in `f32` and are converted; actions go out in `f32`.
    pub fn with_dtype(
        config: PpoConfig,
        obs_dim: usize,
        action: ActionSpec,
        device: &Device,
        dtype: DType,
        seed: u64,
    ) -> Result<Self> {
        config.validate()?;
        // The networks on a rollout of n_envs × n_steps rows (the rollout is held whole).
        rl_math::memory::check_fits(
            &format!(
                "n_envs {} × n_steps {} with net_arch {:?}",
                config.n_envs, config.n_steps, config.net_arch
            ),
            config.n_envs.checked_mul(config.n_steps).and_then(|rows| {
                rl_nn::training_memory(rows, obs_dim, &config.net_arch, 2 * action.size() + 1, 2)
            }),
        )
        .map_err(PpoError::Config)?;
        let mut rng = SeededRng::new(seed);
        let mut params = ParamStore::new(device, dtype);
        let policy = ActorCritic::new(
            "PPO",
            &mut params,
            obs_dim,
            action,
            &config.policy_spec(),
            &mut rng,
        )?;
        let opt = Adam::new(
            params.params().to_vec(),
            AdamConfig {
                lr: config.learning_rate,
                eps: config.adam_eps,
                ..AdamConfig::default()
            },
        )?;
        Ok(Self {
            config,
            device: device.clone(),
            params,
            policy,
            opt,
            rng,
            updates: 0,
        })
    }

    /// The hyperparameters.
    pub fn config(&self) -> &PpoConfig {
        &self.config
    }

    /// Observation components.
    pub fn obs_dim(&self) -> usize {
        self.policy.obs_dim()
    }

    /// The action kind and size.
    pub fn action_spec(&self) -> ActionSpec {
        self.policy.action_spec()
    }

    /// The device.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Epochs done over all updates (SB3's `n_updates`).
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

    /// The networks and the generator they sample from (for `collect_rollout`).
    pub(crate) fn policy_and_rng(&mut self) -> (&mut ActorCritic, &mut SeededRng) {
        (&mut self.policy, &mut self.rng)
    }

    /// With `use_sde`, draws `n` new exploration matrices (one per env) from the agent's
    /// generator (the trainer does it at the start of each rollout and every `sde_sample_freq`
    /// steps); without gSDE it does nothing.
    pub fn reset_noise(&mut self, n: usize) -> Result<()> {
        Ok(self.policy.reset_noise(n, &mut self.rng)?)
    }

    /// Sets Adam's learning rate (what the trainer does before each update under a `linear`
    /// [`PpoConfig::lr_schedule`]).
    pub fn set_learning_rate(&mut self, lr: f64) {
        self.opt.set_learning_rate(lr);
    }

    /// Adam's current learning rate.
    pub fn learning_rate(&self) -> f64 {
        self.opt.learning_rate()
    }

    /// Replaces the parameters with `tensors`, named as in a checkpoint: `params/<name>` for every
    /// name of [`Ppo::params`].
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

    /// PPO's update on a rollout (SB3's `PPO.train`): `n_epochs` passes, each over a fresh random
    /// permutation of the rows (drawn from the agent's generator) cut into minibatches of
    /// `batch_size`, one Adam step per minibatch on eq. (9) with surrogate clipping `clip_range`;
    /// with `target_kl`, the update stops at the first minibatch whose approximate KL exceeds
    /// 1.5 × `target_kl`, before its step.
    pub fn update(&mut self, batch: &RolloutBatch, clip_range: f64) -> Result<PpoMetrics> {
        let rows = batch.obs.dim(0)?;
        let mut orders = Vec::with_capacity(self.config.n_epochs);
        for _ in 0..self.config.n_epochs {
            orders.push(self.rng.permutation(rows));
        }
        self.update_in_order(batch, clip_range, &orders)
    }

    /// [`update`](Self::update) with each epoch's order of rows given (`orders[e]` a permutation
    /// of `0..rows`, one per epoch): what `update` does after drawing them, and what
    /// `tests/golden.rs` replays from PyTorch.
    pub fn update_in_order(
        &mut self,
        batch: &RolloutBatch,
        clip_range: f64,
        orders: &[Vec<usize>],
    ) -> Result<PpoMetrics> {
        rl_nn::ops::check_batch(&batch.obs, self.obs_dim(), "batch observations")?;
        let rows = batch.obs.dim(0)?;
        if orders.iter().any(|o| {
            let mut seen = vec![false; rows];
            o.len() != rows
                || !o
                    .iter()
                    .all(|&i| i < rows && !std::mem::replace(&mut seen[i], true))
        }) {
            return Err(PpoError::Config(format!(
                "each epoch's order must be a permutation of the {rows} rows"
            )));
        }
        let batch = &self.to_param_dtype(batch)?;
        let mut sums = [0.0; 4]; // policy, value, entropy losses, clip fraction
        let (mut evaluated, mut steps, mut norm_sum) = (0usize, 0usize, 0.0);
        let (mut last, mut epoch_kl) = (None, Vec::new());
        let mut stopped_early = false;
        let mut epochs = 0;
        for order in orders {
            epochs += 1;
            epoch_kl.clear();
            for chunk in order.chunks(self.config.batch_size) {
                let idx: Vec<u32> = chunk.iter().map(|&i| i as u32).collect();
                let mb = select_rows(batch, &Tensor::from_vec(idx, chunk.len(), &self.device)?)?;
                let (grads, m) = self.gradients(&mb, clip_range)?;
                self.check_finite(&m)?;
                for (sum, x) in sums.iter_mut().zip([
                    m.policy_gradient_loss,
                    m.value_loss,
                    m.entropy_loss,
                    m.clip_fraction,
                ]) {
                    *sum += x;
                }
                evaluated += 1;
                epoch_kl.push(m.approx_kl);
                last = Some(m);
                if self
                    .config
                    .target_kl
                    .is_some_and(|kl| m.approx_kl > 1.5 * kl)
                {
                    stopped_early = true;
                    break;
                }
                norm_sum += self.step(grads)?;
                steps += 1;
            }
            self.updates += 1;
            if stopped_early {
                break;
            }
        }
        let last = last.ok_or_else(|| {
            PpoError::Config("an update needs at least one epoch and one row".into())
        })?;
        let mean = |s: f64| s / evaluated as f64;
        Ok(PpoMetrics {
            policy_gradient_loss: mean(sums[0]),
            value_loss: mean(sums[1]),
            entropy_loss: mean(sums[2]),
            loss: last.loss,
            approx_kl: epoch_kl.iter().sum::<f64>() / epoch_kl.len().max(1) as f64,
            clip_fraction: mean(sums[3]),
            clip_range,
            grad_norm: if steps > 0 {
                norm_sum / steps as f64
            } else {
                0.0
            },
            explained_variance: explained_variance(&batch.values, &batch.returns)?,
            epochs,
            gradient_steps: steps,
            stopped_early,
            std: last.std,
        })
    }

    /// Clips `grads` to `max_grad_norm` and takes one Adam step; returns the norm before clipping.
    fn step(&mut self, mut grads: Vec<Option<Tensor>>) -> Result<f64> {
        let place = format!("epoch {}", self.updates + 1);
        let norm = clip_grads(&mut grads, self.config.max_grad_norm).map_err(|e| match e {
            rl_math::MathError::NonFinite { what, value } => {
                PpoError::from(AgentError::NonFinite { what, value, place })
            }
            other => other.into(),
        })?;
        self.opt.step_with(&grads)?;
        Ok(norm)
    }

    fn check_finite(&self, m: &MinibatchMetrics) -> Result<()> {
        for (value, what) in [
            (m.policy_gradient_loss, "policy loss"),
            (m.value_loss, "value loss"),
            (m.entropy_loss, "entropy loss"),
        ] {
            if !value.is_finite() {
                return Err(PpoError::from(AgentError::NonFinite {
                    what: what.into(),
                    value,
                    place: format!("epoch {}", self.updates + 1),
                }));
            }
        }
        Ok(())
    }

    fn to_param_dtype(&self, batch: &RolloutBatch) -> Result<RolloutBatch> {
        let dtype = self.params.dtype();
        let float = |t: &Tensor| -> Result<Tensor> {
            Ok(if t.dtype().is_float() {
                t.to_dtype(dtype)?
            } else {
                t.clone()
            })
        };
        Ok(RolloutBatch {
            obs: float(&batch.obs)?,
            actions: float(&batch.actions)?,
            values: float(&batch.values)?,
            log_probs: float(&batch.log_probs)?,
            advantages: float(&batch.advantages)?,
            returns: float(&batch.returns)?,
        })
    }

    /// The gradient of eq. (9) on one minibatch for every parameter (in [`params`](Self::params)
    /// order) and its terms, without changing anything. Advantages are normalized over the
    /// minibatch when configured (and it has more than one row, as SB3).
    pub fn gradients(
        &self,
        mb: &RolloutBatch,
        clip_range: f64,
    ) -> Result<(Vec<Option<Tensor>>, MinibatchMetrics)> {
        let mb = &self.to_param_dtype(mb)?;
        let eval = self.policy.evaluate(&mb.obs, &mb.actions)?;
        let advantages = if self.config.normalize_advantage && mb.advantages.elem_count() > 1 {
            normalize_advantages(&mb.advantages)?
        } else {
            mb.advantages.clone()
        };
        let r = ratio(&eval.log_prob, &mb.log_probs)?;
        let pl = clipped_surrogate_loss(&r, &advantages, clip_range)?;
        let vl = value_loss(
            &eval.values,
            &mb.values,
            &mb.returns,
            self.config.clip_range_vf,
        )?;
        let el = entropy_loss(&eval.entropy)?;
        let loss = total_loss(&pl, &el, &vl, self.config.ent_coef, self.config.vf_coef)?;
        let grads = self.policy.param_grads(&eval, &mut loss.backward()?)?;
        let scalar =
            |t: &Tensor| -> Result<f64> { Ok(t.to_dtype(DType::F64)?.to_scalar::<f64>()?) };
        let log_ratio = (eval.log_prob.detach() - &mb.log_probs)?;
        Ok((
            grads,
            MinibatchMetrics {
                policy_gradient_loss: scalar(&pl)?,
                value_loss: scalar(&vl)?,
                entropy_loss: scalar(&el)?,
                loss: scalar(&loss)?,
                approx_kl: approx_kl(&log_ratio)?,
                clip_fraction: clip_fraction(&r, clip_range)?,
                std: eval.std,
            },
        ))
    }

    /// Saves the networks, Adam's state, the generator and counters into the folder `dir`
    /// (`ppo.safetensors`, `ppo.json`).
    pub fn save(&self, dir: &Path) -> Result<()> {
        let mut tensors = self.params.named_tensors("params/")?;
        let state = self.opt.state()?;
        let (optimizer_kind, optimizer_step) = (state.kind.clone(), state.step);
        tensors.extend(state.prefixed("opt/"));
        write_tensors(&dir.join(MODEL_FILE), &tensors)?;
        let saved = SavedPpo {
            algo: "ppo".into(),
            obs_dim: self.obs_dim(),
            action: self.action_spec(),
            config: self.config.clone(),
            updates: self.updates,
            rng: self.rng.state(),
            optimizer_kind,
            optimizer_step,
        };
        let json = serde_json::to_value(&saved)
            .map_err(|e| PpoError::from(AgentError::Checkpoint(e.to_string())))?;
        write_json(&dir.join(STATE_FILE), &json)?;
        Ok(())
    }

    /// Restores a folder written by [`save`](Self::save) into this agent (same shapes).
    pub fn load_into(&mut self, dir: &Path) -> Result<()> {
        let saved: SavedPpo = rl_nn::checkpoint::read_agent_state(dir, STATE_FILE, "ppo", "PPO")?;
        rl_nn::checkpoint::check_same_shapes(
            (saved.obs_dim, saved.action, &saved.config.net_arch),
            (self.obs_dim(), self.action_spec(), &self.config.net_arch),
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

/// The rows `idx` of every tensor of a rollout batch.
fn select_rows(batch: &RolloutBatch, idx: &Tensor) -> Result<RolloutBatch> {
    let pick = |t: &Tensor| t.index_select(idx, 0);
    Ok(RolloutBatch {
        obs: pick(&batch.obs)?,
        actions: pick(&batch.actions)?,
        values: pick(&batch.values)?,
        log_probs: pick(&batch.log_probs)?,
        advantages: pick(&batch.advantages)?,
        returns: pick(&batch.returns)?,
    })
}
