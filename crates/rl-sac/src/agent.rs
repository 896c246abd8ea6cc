//! [`Sac`]: the agent — networks, optimizers, temperature — with `act`, `update`, `save`, `load`.
//!
//! The three algorithms' updates live in their own files, each readable top to bottom against
//! `algorithms.md`: [`v2`](crate::v2) (twin Q, learned α), [`v1`](crate::v1) (value network,
//! fixed α) and [`discrete`](crate::discrete). This file holds what they share.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor, Var};
use rl_buffer::{ActionSpec, ReplayBatch};
use rl_envs::{Env, OwnedAction};
use rl_math::distributions::LogStdBounds;
use rl_math::optim::{Adam, AdamConfig, Optimizer, OptimizerState};
use rl_math::polyak::polyak_update;
use rl_math::{RngState, SeededRng};
use rl_nn::checkpoint::{read_tensors, write_json, write_tensors};
use rl_nn::{Mlp, ParamStore, Workers};
use serde::{Deserialize, Serialize};

use crate::config::{EntCoef, LogStdMode, TargetEntropy, Variant};
use crate::networks::{Actor, CategoricalActor, Critics, value_net};
use crate::{Result, SacConfig, SacError};
use rl_nn::AgentError;

/// What one gradient step measured.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct UpdateMetrics {
    /// The critics' loss `J_Q`.
    pub critic_loss: f64,
    /// The policy's loss `J_π`.
    pub actor_loss: f64,
    /// α used in this step (before its own update).
    pub ent_coef: f64,
    /// The temperature's loss `J(α)`, when α is learned.
    pub ent_coef_loss: Option<f64>,
    /// SAC v1's value-network loss `J_V`.
    pub value_loss: Option<f64>,
    /// The policy's entropy on the batch (`−mean log π(ã|s)`; exact for discrete actions).
    pub entropy: f64,
    /// Mean of the critics' `Q(s, a)` on the batch.
    pub mean_q: f64,
}

/// The policy network: a tanh-Gaussian for box actions, a categorical for discrete ones.
#[derive(Debug, Clone)]
pub(crate) enum Policy {
    Gaussian(Actor),
    Categorical(CategoricalActor),
}

/// A Soft Actor-Critic agent: SAC v2 (twin Q, automatic temperature), SAC v1 (a value network,
/// fixed temperature) or discrete SAC, chosen by [`SacConfig::variant`] and the action space.
///
/// Continuous actions are in `[-1, 1]^d` (the tanh policy's range); map them onto an
/// environment's bounds with `rl_envs::wrappers::RescaleAction` (the
/// [`SacTrainer`](crate::SacTrainer) does). Discrete actions are indices.
pub struct Sac {
    pub(crate) config: SacConfig,
    pub(crate) obs_dim: usize,
    pub(crate) action: ActionSpec,
    pub(crate) device: Device,
    pub(crate) actor_params: ParamStore,
    pub(crate) critic_params: ParamStore,
    /// Target critics (v2, discrete) or the target value network (v1).
    pub(crate) target_params: ParamStore,
    pub(crate) value_params: Option<ParamStore>,
    pub(crate) policy: Policy,
    pub(crate) critics: Critics,
    pub(crate) critic_target: Option<Critics>,
    pub(crate) value: Option<Mlp>,
    pub(crate) value_target: Option<Mlp>,
    pub(crate) log_alpha: Option<Var>,
    pub(crate) target_entropy: f64,
    pub(crate) actor_opt: Adam,
    /// One Adam per critic (their parameters and losses are disjoint).
    pub(crate) critic_opts: Vec<Adam>,
    pub(crate) value_opt: Option<Adam>,
    pub(crate) alpha_opt: Option<Adam>,
    pub(crate) rng: SeededRng,
    /// Noise for the next updates' draws instead of `rng`'s, last first (`set_update_noise`).
    pub(crate) noise: Vec<Tensor>,
    /// gSDE: the exploration matrix `θ_ε` (`[features, act_dim]`) the policy acts with until
    /// [`Sac::reset_noise`] draws the next.
    pub(crate) exploration: Option<Tensor>,
    pub(crate) updates: u64,
    /// Where the two critics' work (and other independent halves of an update) runs: a pool of
    /// worker threads, or the calling thread (results are identical either way).
    pub(crate) workers: Workers,
}

impl std::fmt::Debug for Sac {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sac")
            .field("variant", &self.config.variant)
            .field("obs_dim", &self.obs_dim)
            .field("action", &self.action)
            .field("net_arch", &self.config.net_arch)
            .field("n_critics", &self.critics.len())
            .field("updates", &self.updates)
            .field("threads", &self.workers.threads())
            .finish_non_exhaustive()
    }
}

/// The JSON half of a saved agent.
#[derive(Serialize, Deserialize)]
struct SavedSac {
    algo: String,
    obs_dim: usize,
    action: ActionSpec,
    config: SacConfig,
    updates: u64,
    rng: RngState,
    optimizer_steps: Vec<(String, u64)>,
}

const MODEL_FILE: &str = "sac.safetensors";
const STATE_FILE: &str = "sac.json";
/// The gSDE exploration matrix's name in the checkpoint.
const EXPLORATION: &str = "sde/exploration";

impl Sac {
    /// A new agent for `obs_dim`-dimensional observations and `action`s, its weights and every
    /// random draw seeded by `seed`.
    pub fn new(
        config: SacConfig,
        obs_dim: usize,
        action: ActionSpec,
        device: &Device,
        seed: u64,
    ) -> Result<Self> {
        Self::with_dtype(config, obs_dim, action, device, DType::F32, seed)
    }

    /// [`Sac::new`] with parameters of `dtype` (`F32` for training; `F64` to compare one update
    /// with a float64 reference, as `tests/golden.rs` does). Batches and observations still come
    /// in `f32` and are converted; actions go out in `f32`.
    pub fn with_dtype(
        config: SacConfig,
        obs_dim: usize,
        action: ActionSpec,
        device: &Device,
        dtype: DType,
        seed: u64,
    ) -> Result<Self> {
        config.validate()?;
        let (width, n_actions) = match action {
            ActionSpec::Continuous { dim } => (dim, None),
            ActionSpec::Discrete { n } => (n, Some(n)),
        };
        if obs_dim == 0 || width == 0 {
            return Err(SacError::from(AgentError::UnsupportedEnv(format!(
                "SAC needs observations and actions with at least one component, got {obs_dim} and {width}"
            ))));
        }
        // Actor, critics and their targets (and SAC v1's value networks) on batches of batch_size.
        rl_math::memory::check_fits(
            &format!(
                "batch_size {} with net_arch {:?}",
                config.batch_size, config.net_arch
            ),
            rl_nn::training_memory(
                config.batch_size,
                obs_dim + width,
                &config.net_arch,
                2 * width,
                4 + 2 * config.n_critics,
            ),
        )
        .map_err(SacError::Config)?;
        if n_actions.is_some() && config.variant == Variant::V1 {
            return Err(SacError::Config(
                "SAC v1 is defined for continuous actions; discrete action spaces use variant \"v2\" (discrete SAC)"
                    .into(),
            ));
        }
        let mut rng = SeededRng::new(seed);
        let arch = config.net_arch.clone();
        let mut actor_params = ParamStore::new(device, dtype);
        let mut critic_params = ParamStore::new(device, dtype);
        let (policy, critics) = match action {
            ActionSpec::Continuous { dim } => {
                let bounds = match config.log_std_mode {
                    LogStdMode::Clamp => LogStdBounds::Clamp {
                        min: config.log_std_min,
                        max: config.log_std_max,
                    },
                    LogStdMode::Tanh => LogStdBounds::TanhRescale {
                        min: config.log_std_min,
                        max: config.log_std_max,
                    },
                };
                let actor = if config.use_sde {
                    Actor::new_sde(
                        &mut actor_params,
                        obs_dim,
                        dim,
                        &arch,
                        config.log_std_init,
                        config.clip_mean,
                        &mut rng,
                    )?
                } else {
                    Actor::new(&mut actor_params, obs_dim, dim, &arch, bounds, &mut rng)?
                };
                let critics = Critics::new(
                    &mut critic_params,
                    config.n_critics,
                    obs_dim + dim,
                    1,
                    &arch,
                    &mut rng,
                )?;
                (Policy::Gaussian(actor), critics)
            }
            ActionSpec::Discrete { .. } if config.use_sde => {
                return Err(SacError::from(AgentError::UnsupportedEnv(
                    "use_sde (state-dependent exploration) needs continuous actions".into(),
                )));
            }
            ActionSpec::Discrete { n } => {
                let actor = CategoricalActor::new(&mut actor_params, obs_dim, n, &arch, &mut rng)?;
                let critics = Critics::new(
                    &mut critic_params,
                    config.n_critics,
                    obs_dim,
                    n,
                    &arch,
                    &mut rng,
                )?;
                (Policy::Categorical(actor), critics)
            }
        };
        // v1 bootstraps from a target value network; v2 and discrete SAC from target critics.
        let (value_params, value, target_params, value_target, critic_target) =
            if config.variant == Variant::V1 {
                let mut store = ParamStore::new(device, dtype);
                let value = value_net(&mut store, obs_dim, &arch, &mut rng)?;
                let target = store.deep_copy()?;
                let value_target = Mlp::bind(&target, "value", rl_nn::Activation::Relu, false)?;
                (Some(store), Some(value), target, Some(value_target), None)
            } else {
                let target = critic_params.deep_copy()?;
                let critic_target = Critics::bind(&target, config.n_critics)?;
                (None, None, target, None, Some(critic_target))
            };

        let adam = AdamConfig {
            lr: config.learning_rate,
            ..AdamConfig::default()
        };
        let actor_opt = Adam::new(actor_params.params().to_vec(), adam)?;
        let critic_opts = (1..=config.n_critics)
            .map(|j| Adam::new(params_with_prefix(&critic_params, &format!("q{j}.")), adam))
            .collect::<std::result::Result<_, _>>()?;
        let value_opt = match &value_params {
            Some(store) => Some(Adam::new(store.params().to_vec(), adam)?),
            None => None,
        };
        let (log_alpha, alpha_opt) = match config.ent_coef {
            EntCoef::Auto { init } => {
                let v = Var::from_tensor(&Tensor::new(&[init.ln()], device)?.to_dtype(dtype)?)?;
                let opt = Adam::new(vec![("log_alpha".into(), v.clone())], adam)?;
                (Some(v), Some(opt))
            }
            EntCoef::Fixed(_) => (None, None),
        };
        let target_entropy = match (config.target_entropy, n_actions) {
            (TargetEntropy::Value(h), _) => h,
            (TargetEntropy::Auto, None) => -(width as f64),
            (TargetEntropy::Auto, Some(n)) => config.target_entropy_ratio * (n as f64).ln(),
        };
        Ok(Self {
            config,
            obs_dim,
            action,
            device: device.clone(),
            actor_params,
            critic_params,
            target_params,
            value_params,
            policy,
            critics,
            critic_target,
            value,
            value_target,
            log_alpha,
            target_entropy,
            actor_opt,
            critic_opts,
            value_opt,
            alpha_opt,
            rng,
            noise: Vec::new(),
            exploration: None,
            updates: 0,
            workers: default_workers(device),
        })
    }

    /// Makes the next draws of standard-normal noise in updates come from `draws` (one tensor
    /// `[B, act_dim]` per draw, in the update's order: v2's `ε` for `ã` at `s`, then for `a'` at
    /// `s'`; v1's one `ε`; with gSDE one `[features, act_dim]` draw per update, the exploration
    /// matrix's `ε`) instead of the agent's generator. For checking one update against a
    /// reference computed elsewhere (`tests/golden.rs`).
    pub fn set_update_noise(&mut self, draws: Vec<Tensor>) {
        self.noise = draws;
        self.noise.reverse();
    }

    /// Replaces every network's parameters with `tensors`, named as in a checkpoint: `actor/…`,
    /// `critic/…`, `target/…` (and `value/…` for v1), names as in [`Sac::params`], plus
    /// `log_alpha` when α is learned (weights trained elsewhere, or a reference test's).
    pub fn load_parameters(&mut self, tensors: &HashMap<String, Tensor>) -> Result<()> {
        self.actor_params.load_named("actor/", tensors)?;
        self.critic_params.load_named("critic/", tensors)?;
        self.target_params.load_named("target/", tensors)?;
        if let Some(store) = &self.value_params {
            store.load_named("value/", tensors)?;
        }
        if let Some(log_alpha) = &self.log_alpha {
            let t = tensors.get("log_alpha").ok_or_else(|| {
                SacError::from(AgentError::Checkpoint(
                    "no log_alpha (α was fixed when saved)".into(),
                ))
            })?;
            log_alpha.set(&t.to_dtype(log_alpha.dtype())?.reshape(log_alpha.dims())?)?;
        }
        Ok(())
    }

    /// A new agent sized for `env`, which must have a flat box observation space and a bounded
    /// box or discrete action space.
    pub fn for_env(config: SacConfig, env: &dyn Env, device: &Device, seed: u64) -> Result<Self> {
        let (obs_dim, action) = check_env(env)?;
        Self::new(config, obs_dim, action, device, seed)
    }

    /// The hyperparameters.
    pub fn config(&self) -> &SacConfig {
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

    /// The device the networks live on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Gradient steps taken.
    pub fn updates(&self) -> u64 {
        self.updates
    }

    /// Sets the learning rate of every optimizer (actor, critics, value network, temperature), as
    /// SB3's SAC updates them all from one schedule (`SacTrainer` does, under a `linear`
    /// [`SacConfig::lr_schedule`]).
    pub fn set_learning_rate(&mut self, lr: f64) {
        self.actor_opt.set_learning_rate(lr);
        for opt in &mut self.critic_opts {
            opt.set_learning_rate(lr);
        }
        for opt in [&mut self.value_opt, &mut self.alpha_opt]
            .into_iter()
            .flatten()
        {
            opt.set_learning_rate(lr);
        }
    }

    /// The actor optimizer's current learning rate (all optimizers share it).
    pub fn learning_rate(&self) -> f64 {
        self.actor_opt.learning_rate()
    }

    /// The current entropy coefficient α.
    pub fn alpha(&self) -> Result<f64> {
        Ok(match (&self.log_alpha, self.config.ent_coef) {
            (Some(log_alpha), _) => log_alpha
                .as_tensor()
                .flatten_all()?
                .to_dtype(DType::F64)?
                .to_vec1::<f64>()?[0]
                .exp(),
            (None, EntCoef::Fixed(a)) => a,
            (None, EntCoef::Auto { init }) => init,
        })
    }

    /// The target entropy `H̄` the temperature is tuned toward.
    pub fn target_entropy(&self) -> f64 {
        self.target_entropy
    }

    /// Whether the independent halves of an update (the two critics' passes, a layer's weight and
    /// input gradients) run on worker threads kept for the agent's life, one per core (the
    /// default when the machine has more than one) or one after the other on the calling thread. The results
    /// are bit-identical either way. The matrix products themselves stay on one thread
    /// ([`rl_math::matmul`]), whatever `RAYON_NUM_THREADS` says (docs/performance.md). On a
    /// GPU the update stays on the calling thread whatever `parallel` says: Candle gives each
    /// thread its own CUDA stream and does not order one stream's kernels after another's.
    ///
    /// # Errors
    /// If the operating system refuses the worker threads.
    pub fn set_parallel(&mut self, parallel: bool) -> Result<()> {
        self.workers = if parallel && self.device.is_cpu() {
            // At least two, even on one core: asked for, the forks run on two threads.
            let per_core = Workers::per_core()?;
            if per_core.threads() > 1 {
                per_core
            } else {
                Workers::new(2)?
            }
        } else {
            Workers::sequential()
        };
        Ok(())
    }

    /// The tanh-Gaussian actor (continuous actions).
    pub fn actor(&self) -> Option<&Actor> {
        match &self.policy {
            Policy::Gaussian(a) => Some(a),
            Policy::Categorical(_) => None,
        }
    }

    /// The categorical actor (discrete actions).
    pub fn categorical_actor(&self) -> Option<&CategoricalActor> {
        match &self.policy {
            Policy::Categorical(a) => Some(a),
            Policy::Gaussian(_) => None,
        }
    }

    /// The Q-networks.
    pub fn critics(&self) -> &Critics {
        &self.critics
    }

    /// SAC v1's value network.
    pub fn value_net(&self) -> Option<&Mlp> {
        self.value.as_ref()
    }

    /// The actor's, the critics' and the target networks' parameters.
    pub fn params(&self) -> (&ParamStore, &ParamStore, &ParamStore) {
        (&self.actor_params, &self.critic_params, &self.target_params)
    }

    /// SAC v1's value network `V_ψ` (its target is the third store of [`Sac::params`]); `None`
    /// for v2 and discrete SAC.
    pub fn value_params(&self) -> Option<&ParamStore> {
        self.value_params.as_ref()
    }

    /// gSDE: draws the exploration matrix the policy acts with from now on,
    /// `θ_ε = ε ⊙ exp(log_std)` with `ε` from the agent's generator (SB3's `reset_noise`; the
    /// [`SacTrainer`](crate::SacTrainer) calls it at the start of every collection phase and
    /// every `sde_sample_freq` steps). Without gSDE it does nothing.
    pub fn reset_noise(&mut self) -> Result<()> {
        let Some(log_std) = self
            .actor()
            .and_then(|a| a.sde())
            .map(|h| h.log_std.as_tensor().clone())
        else {
            return Ok(());
        };
        let matrices = rl_math::distributions::Gsde::sample_matrices(&log_std, 1, &mut self.rng)?;
        self.exploration = Some(matrices.squeeze(0)?);
        Ok(())
    }

    /// Actions for a batch of observations `[B, obs_dim]`: for box actions `[B, d]` in `[-1, 1]`
    /// (`tanh(μ)` when `deterministic`, a sample otherwise; with gSDE `tanh(μ + z θ_ε)` with the
    /// current exploration matrix for every row, drawn first if there is none); for discrete ones
    /// `[B]` indices (the most probable, or a sample).
    pub fn act_batch(&mut self, obs: &Tensor, deterministic: bool) -> Result<Tensor> {
        rl_nn::ops::check_batch(obs, self.obs_dim, "observations")?;
        let obs = &obs.to_dtype(self.actor_params.dtype())?;
        if let Some(actor) = self.actor().filter(|a| a.sde().is_some()).cloned() {
            let (mean, features, _) = actor.sde_forward(obs)?;
            let u = if deterministic {
                mean
            } else {
                if self.exploration.is_none() {
                    self.reset_noise()?;
                }
                let w = self.exploration.as_ref().ok_or_else(|| {
                    SacError::from(AgentError::Internal {
                        learner: "SAC",
                        what: "no gSDE exploration matrix after drawing one".into(),
                    })
                })?;
                (mean + rl_math::matmul(&features, w)?)?
            };
            return Ok(u.tanh()?.to_dtype(DType::F32)?);
        }
        match &self.policy {
            Policy::Gaussian(actor) => {
                let pi = actor.dist_detached(obs)?;
                let a = if deterministic {
                    pi.deterministic()?
                } else {
                    pi.sample(&mut self.rng)?.0.detach()
                };
                Ok(a.to_dtype(DType::F32)?)
            }
            Policy::Categorical(actor) => {
                let pi = actor.dist_detached(obs)?;
                let a = if deterministic {
                    pi.mode()?
                } else {
                    pi.sample(&mut self.rng)?
                };
                let n = a.len();
                Ok(Tensor::from_vec(a, n, &self.device)?)
            }
        }
    }

    /// The action for one observation: a vector in `[-1, 1]^d`, or an index.
    pub fn act(&mut self, obs: &[f32], deterministic: bool) -> Result<OwnedAction> {
        if obs.len() != self.obs_dim {
            return Err(SacError::from(AgentError::UnsupportedEnv(format!(
                "observation has {} components, the agent was built for {}",
                obs.len(),
                self.obs_dim
            ))));
        }
        let x = Tensor::from_slice(obs, (1, self.obs_dim), &self.device)?;
        let a = self.act_batch(&x, deterministic)?;
        Ok(match self.action {
            ActionSpec::Continuous { .. } => {
                OwnedAction::Continuous(a.flatten_all()?.to_vec1::<f32>()?)
            }
            ActionSpec::Discrete { .. } => OwnedAction::Discrete(a.to_vec1::<u32>()?[0] as usize),
        })
    }

    /// One gradient step on `batch` with the configured algorithm (see [`v2`](crate::v2),
    /// [`v1`](crate::v1), [`discrete`](crate::discrete)). A NaN or infinite loss is an error
    /// before anything is changed by it.
    pub fn update(&mut self, batch: &ReplayBatch) -> Result<UpdateMetrics> {
        rl_nn::ops::check_batch(&batch.obs, self.obs_dim, "batch observations")?;
        rl_nn::ops::check_batch(&batch.next_obs, self.obs_dim, "batch next observations")?;
        let cast;
        let batch = if batch.obs.dtype() == self.actor_params.dtype() {
            batch
        } else {
            let dtype = self.actor_params.dtype();
            let float = |t: &Tensor| -> Result<Tensor> {
                Ok(if t.dtype().is_float() {
                    t.to_dtype(dtype)?
                } else {
                    t.clone()
                })
            };
            cast = ReplayBatch {
                obs: float(&batch.obs)?,
                actions: float(&batch.actions)?,
                rewards: float(&batch.rewards)?,
                next_obs: float(&batch.next_obs)?,
                terminated: float(&batch.terminated)?,
                truncated: float(&batch.truncated)?,
            };
            &cast
        };
        // The whole update on the pool, so its forks hand work to a running thread.
        let workers = self.workers.clone();
        workers.run(|| match (&self.policy, self.config.variant) {
            (Policy::Gaussian(_), Variant::V2) => self.update_v2(batch),
            (Policy::Gaussian(_), Variant::V1) => self.update_v1(batch),
            (Policy::Categorical(_), _) => self.update_discrete(batch),
        })
    }

    /// `f(j)` for every critic `j`, forked on the workers when there are two.
    pub(crate) fn each_critic<T: Send>(
        &self,
        f: impl Fn(usize) -> Result<T> + Sync,
    ) -> Result<Vec<T>> {
        if self.critics.len() == 2 {
            let (a, b) = both(&self.workers, || f(0), || f(1))?;
            Ok(vec![a, b])
        } else {
            Ok(vec![f(0)?])
        }
    }

    /// Steps critic `j`'s optimizer with `grads[j]` and, when `polyak`, moves target critic `j`
    /// toward it, `θ̄_j ← τ θ_j + (1 − τ) θ̄_j`: each critic's two steps on its own worker. (The
    /// target critics are read only by the next update's TD target, so averaging them here,
    /// before the actor's step, gives the same numbers as averaging them last.)
    pub(crate) fn step_critics(
        &mut self,
        grads: &[Vec<Option<Tensor>>],
        polyak: bool,
    ) -> Result<()> {
        let (tau, source, dest) = (self.config.tau, &self.critic_params, &self.target_params);
        let step = |opt: &mut Adam, j: usize| -> Result<()> {
            opt.step_with(&grads[j])?;
            if polyak {
                let prefix = format!("q{}.", j + 1);
                let vars = |s: &ParamStore| -> Vec<Var> {
                    params_with_prefix(s, &prefix)
                        .into_iter()
                        .map(|(_, v)| v)
                        .collect()
                };
                polyak_update(&vars(source), &vars(dest), tau)?;
            }
            Ok(())
        };
        match self.critic_opts.as_mut_slice() {
            [opt1, opt2] => {
                both(&self.workers, || step(opt1, 0), || step(opt2, 1))?;
            }
            [opt] => step(opt, 0)?,
            _ => {}
        }
        Ok(())
    }

    /// Whether this update (the `updates + 1`-th) ends with the target critics' Polyak step.
    pub(crate) fn polyak_due(&self) -> bool {
        (self.updates + 1).is_multiple_of(self.config.target_update_interval)
    }

    /// Saves everything needed to continue training exactly (networks, target networks, α,
    /// optimizer moments, generator position, counters, configuration) into the folder `dir`:
    /// `sac.safetensors` and `sac.json`.
    pub fn save(&self, dir: &Path) -> Result<()> {
        let mut tensors = self.actor_params.named_tensors("actor/")?;
        tensors.extend(self.critic_params.named_tensors("critic/")?);
        tensors.extend(self.target_params.named_tensors("target/")?);
        if let Some(store) = &self.value_params {
            tensors.extend(store.named_tensors("value/")?);
        }
        if let Some(log_alpha) = &self.log_alpha {
            tensors.push(("log_alpha".into(), log_alpha.as_tensor().copy()?));
        }
        if let Some(w) = &self.exploration {
            tensors.push((EXPLORATION.into(), w.copy()?));
        }
        let mut optimizer_steps = Vec::new();
        for (name, state) in self.optimizer_states()? {
            optimizer_steps.push((name.clone(), state.step));
            tensors.extend(state.prefixed(&format!("opt.{name}/")));
        }
        write_tensors(&dir.join(MODEL_FILE), &tensors)?;
        let saved = SavedSac {
            algo: "sac".into(),
            obs_dim: self.obs_dim,
            action: self.action,
            config: self.config.clone(),
            updates: self.updates,
            rng: self.rng.state(),
            optimizer_steps,
        };
        let json = serde_json::to_value(&saved)
            .map_err(|e| SacError::from(AgentError::Checkpoint(e.to_string())))?;
        write_json(&dir.join(STATE_FILE), &json)?;
        Ok(())
    }

    /// An agent restored from a folder written by [`save`](Self::save), on `device`.
    pub fn load(dir: &Path, device: &Device) -> Result<Self> {
        let saved: SavedSac = rl_nn::checkpoint::read_agent_state(dir, STATE_FILE, "sac", "SAC")?;
        let mut agent = Self::new(saved.config.clone(), saved.obs_dim, saved.action, device, 0)?;
        agent.restore(dir, saved)?;
        Ok(agent)
    }

    /// Restores this agent's state from a folder written by [`save`](Self::save). The checkpoint
    /// must come from SAC with the same variant, dimensions and network shapes.
    pub fn load_into(&mut self, dir: &Path) -> Result<()> {
        let saved: SavedSac = rl_nn::checkpoint::read_agent_state(dir, STATE_FILE, "sac", "SAC")?;
        if (saved.obs_dim, saved.action) != (self.obs_dim, self.action) {
            return Err(SacError::from(AgentError::Checkpoint(format!(
                "it was saved for {}-dim observations and {:?} actions, this agent has {} and {:?}",
                saved.obs_dim, saved.action, self.obs_dim, self.action
            ))));
        }
        if saved.config.net_arch != self.config.net_arch
            || saved.config.n_critics != self.config.n_critics
        {
            return Err(SacError::from(AgentError::Checkpoint(format!(
                "its networks are {:?} x{}, this agent's are {:?} x{}",
                saved.config.net_arch,
                saved.config.n_critics,
                self.config.net_arch,
                self.config.n_critics
            ))));
        }
        if saved.config.variant != self.config.variant {
            return Err(SacError::from(AgentError::Checkpoint(format!(
                "it is SAC {:?}, this agent is SAC {:?}",
                saved.config.variant, self.config.variant
            ))));
        }
        rl_nn::checkpoint::check_same_config(&saved.config, &self.config, saved.config.validate())?;
        self.restore(dir, saved)
    }

    fn restore(&mut self, dir: &Path, saved: SavedSac) -> Result<()> {
        let tensors = read_tensors(&dir.join(MODEL_FILE), &self.device)?;
        self.load_parameters(&tensors)?;
        self.exploration = match (tensors.get(EXPLORATION), self.actor().and_then(|a| a.sde())) {
            (Some(w), Some(head)) if w.dims() == head.log_std.dims() => {
                Some(w.to_dtype(self.actor_params.dtype())?)
            }
            (Some(w), _) => {
                return Err(SacError::from(AgentError::Checkpoint(format!(
                    "its gSDE exploration matrix is {:?}, this agent's actor has no gSDE log-std of that shape",
                    w.dims()
                ))));
            }
            (None, _) => None,
        };
        for (name, step) in &saved.optimizer_steps {
            let state =
                OptimizerState::from_prefixed("adam", *step, &tensors, &format!("opt.{name}/"));
            self.optimizer_mut(name)?.load_state(&state)?;
        }
        self.config = saved.config;
        self.updates = saved.updates;
        self.rng = SeededRng::from_state(saved.rng);
        Ok(())
    }

    fn optimizer_mut(&mut self, name: &str) -> Result<&mut Adam> {
        let missing = || {
            SacError::from(AgentError::Checkpoint(format!(
                "optimizer state {name:?} does not fit this agent"
            )))
        };
        match name {
            "actor" => Ok(&mut self.actor_opt),
            "value" => self.value_opt.as_mut().ok_or_else(missing),
            "alpha" => self.alpha_opt.as_mut().ok_or_else(missing),
            _ => {
                let j: usize = name
                    .strip_prefix("critic_q")
                    .and_then(|j| j.parse().ok())
                    .ok_or_else(missing)?;
                self.critic_opts
                    .get_mut(j.wrapping_sub(1))
                    .ok_or_else(missing)
            }
        }
    }

    fn optimizer_states(&self) -> Result<Vec<(String, OptimizerState)>> {
        let mut out = vec![("actor".to_owned(), self.actor_opt.state()?)];
        for (j, opt) in self.critic_opts.iter().enumerate() {
            out.push((format!("critic_q{}", j + 1), opt.state()?));
        }
        if let Some(opt) = &self.value_opt {
            out.push(("value".to_owned(), opt.state()?));
        }
        if let Some(opt) = &self.alpha_opt {
            out.push(("alpha".to_owned(), opt.state()?));
        }
        Ok(out)
    }
}

/// The parameters of `store` whose names start with `prefix`, in order.
pub(crate) fn params_with_prefix(store: &ParamStore, prefix: &str) -> Vec<(String, Var)> {
    store
        .params()
        .iter()
        .filter(|(n, _)| n.starts_with(prefix))
        .cloned()
        .collect()
}

/// `(obs_dim, action)` of an env SAC can learn on: a flat box observation, and a bounded box or
/// a discrete action space.
pub fn check_env(env: &dyn Env) -> Result<(usize, ActionSpec)> {
    Ok(rl_envs::learner_spaces(
        "SAC",
        env.id(),
        env.observation_space(),
        env.action_space(),
        true,
    )?)
}

pub(crate) fn scalar(t: &Tensor) -> Result<f64> {
    Ok(t.to_dtype(DType::F64)?.to_scalar::<f64>()?)
}

/// The loss value, or the error naming it if it is NaN or infinite.
pub(crate) fn finite(what: &str, loss: &Tensor, place: &dyn Fn() -> String) -> Result<f64> {
    let value = scalar(loss)?;
    if value.is_finite() {
        Ok(value)
    } else {
        Err(SacError::from(AgentError::NonFinite {
            what: what.into(),
            value,
            place: place(),
        }))
    }
}

/// [`Workers::per_core`] (on 2 cores, SAC v2 updates per second: 350 with them and
/// single-threaded matrix products, 280 with them and candle's threaded ones, 130–135 sequential
/// with candle's threaded ones; docs/performance.md), or sequential if the threads cannot be
/// started, and always on a GPU (see [`Sac::set_parallel`]).
fn default_workers(device: &Device) -> Workers {
    if !device.is_cpu() {
        return Workers::sequential();
    }
    Workers::per_core().unwrap_or_else(|_| Workers::sequential())
}

/// `(a(), b())`, forked on `workers`.
pub(crate) fn both<A: Send, B: Send>(
    workers: &Workers,
    a: impl FnOnce() -> Result<A> + Send,
    b: impl FnOnce() -> Result<B> + Send,
) -> Result<(A, B)> {
    let (ra, rb) = workers.join(a, b);
    Ok((ra?, rb?))
}
