//! [`Sac`]: the agent — networks, optimizers, temperature — with `act` and `update`.

use std::path::Path;

use candle_core::{DType, Device, Tensor, Var};
use rl_buffer::ReplayBatch;
use rl_envs::{Env, Space};
use rl_math::distributions::LogStdBounds;
use rl_math::optim::{Adam, AdamConfig, Optimizer, OptimizerState};
use rl_math::polyak::polyak_update;
use rl_math::{RngState, SeededRng};
use rl_nn::ParamStore;
use rl_nn::checkpoint::{read_json, read_tensors, write_json, write_tensors};
use serde::{Deserialize, Serialize};

use crate::config::{EntCoef, LogStdMode, TargetEntropy};
use crate::losses::{actor_loss, critic_loss, soft_td_target, temperature_loss};
use crate::networks::{Actor, TwinCritic};
use crate::{Result, SacConfig, SacError};

/// What one gradient step measured.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct UpdateMetrics {
    /// `J_Q`, eq. (5).
    pub critic_loss: f64,
    /// `J_π`, eq. (7).
    pub actor_loss: f64,
    /// α used in this step (before its own update).
    pub ent_coef: f64,
    /// `J(α)`, eq. (18), when α is learned.
    pub ent_coef_loss: Option<f64>,
    /// `−mean log π(ã|s)` on the batch.
    pub entropy: f64,
    /// Mean of `Q_θ1(s, a)` and `Q_θ2(s, a)` on the batch.
    pub mean_q: f64,
}

/// The SAC v2 agent: a tanh-Gaussian actor, twin critics with Polyak-averaged targets, and an
/// automatically tuned (or fixed) temperature.
///
/// Actions are in `[-1, 1]^d` (the tanh policy's range); map them onto an environment's bounds with
/// `rl_envs::wrappers::RescaleAction` (the [`SacTrainer`](crate::SacTrainer) does).
#[derive(Debug)]
pub struct Sac {
    config: SacConfig,
    obs_dim: usize,
    act_dim: usize,
    device: Device,
    actor_params: ParamStore,
    critic_params: ParamStore,
    target_params: ParamStore,
    actor: Actor,
    critic: TwinCritic,
    critic_target: TwinCritic,
    log_alpha: Option<Var>,
    target_entropy: f64,
    actor_opt: Adam,
    critic_opt: Adam,
    alpha_opt: Option<Adam>,
    rng: SeededRng,
    updates: u64,
}

/// The JSON half of a saved agent.
#[derive(Serialize, Deserialize)]
struct SavedSac {
    algo: String,
    obs_dim: usize,
    act_dim: usize,
    config: SacConfig,
    updates: u64,
    rng: RngState,
    optimizer_steps: Vec<(String, u64)>,
}

const MODEL_FILE: &str = "sac.safetensors";
const STATE_FILE: &str = "sac.json";

impl Sac {
    /// A new agent for `obs_dim`-dimensional observations and `act_dim`-dimensional actions, its
    /// weights and every random draw seeded by `seed`.
    pub fn new(
        config: SacConfig,
        obs_dim: usize,
        act_dim: usize,
        device: &Device,
        seed: u64,
    ) -> Result<Self> {
        config.validate()?;
        if obs_dim == 0 || act_dim == 0 {
            return Err(SacError::UnsupportedEnv(format!(
                "SAC needs observations and actions with at least one component, got {obs_dim} and {act_dim}"
            )));
        }
        let mut rng = SeededRng::new(seed);
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
        let mut actor_params = ParamStore::new(device, DType::F32);
        let actor = Actor::new(
            &mut actor_params,
            obs_dim,
            act_dim,
            &config.net_arch,
            bounds,
            &mut rng,
        )?;
        let mut critic_params = ParamStore::new(device, DType::F32);
        let critic = TwinCritic::new(
            &mut critic_params,
            obs_dim,
            act_dim,
            &config.net_arch,
            &mut rng,
        )?;
        let target_params = critic_params.deep_copy()?;
        let critic_target = TwinCritic::bind(&target_params)?;

        let adam = AdamConfig {
            lr: config.learning_rate,
            ..AdamConfig::default()
        };
        let actor_opt = Adam::new(actor_params.params().to_vec(), adam)?;
        let critic_opt = Adam::new(critic_params.params().to_vec(), adam)?;
        let (log_alpha, alpha_opt) = match config.ent_coef {
            EntCoef::Auto { init } => {
                let v = Var::from_tensor(&Tensor::new(&[init.ln() as f32], device)?)?;
                let opt = Adam::new(vec![("log_alpha".into(), v.clone())], adam)?;
                (Some(v), Some(opt))
            }
            EntCoef::Fixed(_) => (None, None),
        };
        let target_entropy = match config.target_entropy {
            TargetEntropy::Auto => -(act_dim as f64),
            TargetEntropy::Value(h) => h,
        };
        Ok(Self {
            config,
            obs_dim,
            act_dim,
            device: device.clone(),
            actor_params,
            critic_params,
            target_params,
            actor,
            critic,
            critic_target,
            log_alpha,
            target_entropy,
            actor_opt,
            critic_opt,
            alpha_opt,
            rng,
            updates: 0,
        })
    }

    /// A new agent sized for `env`, which must have a flat box observation space and a bounded
    /// box action space.
    pub fn for_env(config: SacConfig, env: &dyn Env, device: &Device, seed: u64) -> Result<Self> {
        let (obs_dim, act_dim) = check_env(env)?;
        Self::new(config, obs_dim, act_dim, device, seed)
    }

    /// The hyperparameters.
    pub fn config(&self) -> &SacConfig {
        &self.config
    }

    /// Observation components.
    pub fn obs_dim(&self) -> usize {
        self.obs_dim
    }

    /// Action components.
    pub fn act_dim(&self) -> usize {
        self.act_dim
    }

    /// The device the networks live on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Gradient steps taken.
    pub fn updates(&self) -> u64 {
        self.updates
    }

    /// The current entropy coefficient α.
    pub fn alpha(&self) -> Result<f64> {
        Ok(match (&self.log_alpha, self.config.ent_coef) {
            (Some(log_alpha), _) => {
                f64::from(log_alpha.as_tensor().flatten_all()?.to_vec1::<f32>()?[0]).exp()
            }
            (None, EntCoef::Fixed(a)) => a,
            (None, EntCoef::Auto { init }) => init,
        })
    }

    /// The target entropy `H̄` the temperature is tuned toward.
    pub fn target_entropy(&self) -> f64 {
        self.target_entropy
    }

    /// The actor network.
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// The twin critics.
    pub fn critic(&self) -> &TwinCritic {
        &self.critic
    }

    /// The actor, critics and target critics' parameters.
    pub fn params(&self) -> (&ParamStore, &ParamStore, &ParamStore) {
        (&self.actor_params, &self.critic_params, &self.target_params)
    }

    /// Actions in `[-1, 1]` for a batch of observations `[B, obs_dim]`: `tanh(μ)` when
    /// `deterministic`, a sample otherwise.
    pub fn act_batch(&mut self, obs: &Tensor, deterministic: bool) -> Result<Tensor> {
        let pi = self.actor.dist(obs)?;
        if deterministic {
            Ok(pi.deterministic()?.detach())
        } else {
            Ok(pi.sample(&mut self.rng)?.0.detach())
        }
    }

    /// The action in `[-1, 1]` for one observation.
    pub fn act(&mut self, obs: &[f32], deterministic: bool) -> Result<Vec<f32>> {
        if obs.len() != self.obs_dim {
            return Err(SacError::UnsupportedEnv(format!(
                "observation has {} components, the agent was built for {}",
                obs.len(),
                self.obs_dim
            )));
        }
        let x = Tensor::from_slice(obs, (1, self.obs_dim), &self.device)?;
        Ok(self
            .act_batch(&x, deterministic)?
            .flatten_all()?
            .to_vec1::<f32>()?)
    }

    /// One gradient step on `batch`, in SB3's order: temperature (eq. 18), critics (eq. 5),
    /// actor (eq. 7), then the Polyak update of the target critics. α in the critic target and the
    /// actor loss is its value before this step's temperature update. A NaN or infinite loss is an
    /// error before anything is changed by it.
    pub fn update(&mut self, batch: &ReplayBatch) -> Result<UpdateMetrics> {
        let place = || format!("gradient step {}", self.updates + 1);
        let alpha = self.alpha()?;

        // A fresh reparameterized action at s, for the temperature and actor losses.
        let pi = self.actor.dist(&batch.obs)?;
        let eps = self
            .rng
            .normal(pi.mean().dims(), DType::F32, &self.device)?;
        let (a_pi, log_prob_pi) = pi.rsample(&eps)?;

        // Temperature, eq. (18).
        let mut ent_coef_loss = None;
        if let (Some(log_alpha), Some(opt)) = (&self.log_alpha, &mut self.alpha_opt) {
            let loss = temperature_loss(log_alpha.as_tensor(), &log_prob_pi, self.target_entropy)?;
            let value = finite("entropy coefficient loss", &loss, &place)?;
            opt.step(&loss.backward()?)?;
            ent_coef_loss = Some(value);
        }

        // Critics, eq. (5), toward the soft TD target from the target critics.
        let next = self.actor.dist(&batch.next_obs)?;
        let eps = self
            .rng
            .normal(next.mean().dims(), DType::F32, &self.device)?;
        let (next_a, next_log_prob) = next.rsample(&eps)?;
        let (tq1, tq2) = self.critic_target.forward(&batch.next_obs, &next_a)?;
        let y = soft_td_target(
            &batch.rewards,
            &batch.terminated,
            &tq1,
            &tq2,
            &next_log_prob,
            alpha,
            self.config.gamma,
        )?;
        let (q1, q2) = self.critic.forward(&batch.obs, &batch.actions)?;
        let mean_q = (scalar(&q1.mean_all()?)? + scalar(&q2.mean_all()?)?) / 2.0;
        let loss_q = critic_loss(&q1, &q2, &y)?;
        let critic_loss_value = finite("critic loss", &loss_q, &place)?;
        self.critic_opt.step(&loss_q.backward()?)?;

        // Actor, eq. (7), through the just-updated critics; only the actor's parameters move.
        let (q1_pi, q2_pi) = self.critic.forward(&batch.obs, &a_pi)?;
        let loss_pi = actor_loss(&log_prob_pi, &q1_pi, &q2_pi, alpha)?;
        let actor_loss_value = finite("actor loss", &loss_pi, &place)?;
        self.actor_opt.step(&loss_pi.backward()?)?;

        // Target critics: θ̄ ← τ θ + (1 − τ) θ̄.
        self.updates += 1;
        if self.updates % self.config.target_update_interval == 0 {
            polyak_update(
                &self.critic_params.vars(),
                &self.target_params.vars(),
                self.config.tau,
            )?;
        }
        Ok(UpdateMetrics {
            critic_loss: critic_loss_value,
            actor_loss: actor_loss_value,
            ent_coef: alpha,
            ent_coef_loss,
            entropy: -scalar(&log_prob_pi.mean_all()?)?,
            mean_q,
        })
    }

    /// Saves everything needed to continue training exactly (networks, target networks, α,
    /// optimizer moments, generator position, counters, configuration) into the folder `dir`:
    /// `sac.safetensors` and `sac.json`.
    pub fn save(&self, dir: &Path) -> Result<()> {
        let mut tensors = self.actor_params.named_tensors("actor/")?;
        tensors.extend(self.critic_params.named_tensors("critic/")?);
        tensors.extend(self.target_params.named_tensors("critic_target/")?);
        if let Some(log_alpha) = &self.log_alpha {
            tensors.push(("log_alpha".into(), log_alpha.as_tensor().copy()?));
        }
        let mut optimizer_steps = Vec::new();
        for (name, state) in self.optimizer_states()? {
            optimizer_steps.push((name.clone(), state.step));
            tensors.extend(
                state
                    .tensors
                    .into_iter()
                    .map(|(k, t)| (format!("opt.{name}/{k}"), t)),
            );
        }
        write_tensors(&dir.join(MODEL_FILE), &tensors)?;
        let saved = SavedSac {
            algo: "sac".into(),
            obs_dim: self.obs_dim,
            act_dim: self.act_dim,
            config: self.config.clone(),
            updates: self.updates,
            rng: self.rng.state(),
            optimizer_steps,
        };
        let json = serde_json::to_value(&saved).map_err(|e| SacError::Checkpoint(e.to_string()))?;
        write_json(&dir.join(STATE_FILE), &json)?;
        Ok(())
    }

    /// An agent restored from a folder written by [`save`](Self::save), on `device`.
    pub fn load(dir: &Path, device: &Device) -> Result<Self> {
        let saved = read_saved(dir)?;
        let mut agent = Self::new(
            saved.config.clone(),
            saved.obs_dim,
            saved.act_dim,
            device,
            0,
        )?;
        agent.restore(dir, saved)?;
        Ok(agent)
    }

    /// Restores this agent's state from a folder written by [`save`](Self::save). The checkpoint
    /// must come from SAC with the same dimensions and network shapes.
    pub fn load_into(&mut self, dir: &Path) -> Result<()> {
        let saved = read_saved(dir)?;
        if (saved.obs_dim, saved.act_dim) != (self.obs_dim, self.act_dim) {
            return Err(SacError::Checkpoint(format!(
                "it was saved for {}-dim observations and {}-dim actions, this agent has {} and {}",
                saved.obs_dim, saved.act_dim, self.obs_dim, self.act_dim
            )));
        }
        if saved.config.net_arch != self.config.net_arch {
            return Err(SacError::Checkpoint(format!(
                "its networks are {:?}, this agent's are {:?}",
                saved.config.net_arch, self.config.net_arch
            )));
        }
        self.restore(dir, saved)
    }

    fn restore(&mut self, dir: &Path, saved: SavedSac) -> Result<()> {
        let tensors = read_tensors(&dir.join(MODEL_FILE), &self.device)?;
        self.actor_params.load_named("actor/", &tensors)?;
        self.critic_params.load_named("critic/", &tensors)?;
        self.target_params.load_named("critic_target/", &tensors)?;
        if let Some(log_alpha) = &self.log_alpha {
            let t = tensors.get("log_alpha").ok_or_else(|| {
                SacError::Checkpoint("no log_alpha (α was fixed when saved)".into())
            })?;
            log_alpha.set(t)?;
        }
        for (name, step) in &saved.optimizer_steps {
            let prefix = format!("opt.{name}/");
            let state = OptimizerState {
                kind: "adam".into(),
                step: *step,
                tensors: tensors
                    .iter()
                    .filter_map(|(k, t)| k.strip_prefix(&prefix).map(|k| (k.to_owned(), t.clone())))
                    .collect(),
            };
            let opt = match name.as_str() {
                "actor" => &mut self.actor_opt,
                "critic" => &mut self.critic_opt,
                "alpha" => self.alpha_opt.as_mut().ok_or_else(|| {
                    SacError::Checkpoint("α optimizer state, but α is fixed".into())
                })?,
                other => return Err(SacError::Checkpoint(format!("unknown optimizer {other:?}"))),
            };
            opt.load_state(&state)?;
        }
        self.config = saved.config;
        self.updates = saved.updates;
        self.rng = SeededRng::from_state(saved.rng);
        Ok(())
    }

    fn optimizer_states(&self) -> Result<Vec<(String, OptimizerState)>> {
        let mut out = vec![
            ("actor".to_owned(), self.actor_opt.state()?),
            ("critic".to_owned(), self.critic_opt.state()?),
        ];
        if let Some(opt) = &self.alpha_opt {
            out.push(("alpha".to_owned(), opt.state()?));
        }
        Ok(out)
    }
}

fn read_saved(dir: &Path) -> Result<SavedSac> {
    let json = read_json(&dir.join(STATE_FILE))?;
    let algo = json
        .get("algo")
        .and_then(|a| a.as_str())
        .unwrap_or("unknown");
    if algo != "sac" {
        return Err(SacError::Checkpoint(format!(
            "{} was written by {algo}, not SAC",
            dir.display()
        )));
    }
    serde_json::from_value(json)
        .map_err(|e| SacError::Checkpoint(format!("{}: {e}", dir.display())))
}

/// `(obs_dim, act_dim)` of an env SAC can learn on.
pub fn check_env(env: &dyn Env) -> Result<(usize, usize)> {
    let obs_dim = match env.observation_space() {
        Space::Box(b) if b.shape().len() == 1 => b.dim(),
        other => {
            return Err(SacError::UnsupportedEnv(format!(
                "SAC needs a flat vector observation, {} has {other}",
                env.id()
            )));
        }
    };
    let act_dim = match env.action_space() {
        Space::Box(b) if b.is_bounded() && b.shape().len() == 1 => b.dim(),
        other => {
            return Err(SacError::UnsupportedEnv(format!(
                "SAC (v2) needs a bounded box action space, {} has {other}",
                env.id()
            )));
        }
    };
    Ok((obs_dim, act_dim))
}

fn scalar(t: &Tensor) -> Result<f64> {
    Ok(f64::from(t.to_dtype(DType::F32)?.to_scalar::<f32>()?))
}

/// The loss value, or the error naming it if it is NaN or infinite.
fn finite(what: &str, loss: &Tensor, place: &dyn Fn() -> String) -> Result<f64> {
    let value = scalar(loss)?;
    if value.is_finite() {
        Ok(value)
    } else {
        Err(SacError::NonFinite {
            what: what.into(),
            value,
            place: place(),
        })
    }
}
