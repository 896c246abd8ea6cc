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
use crate::losses::{actor_loss, critic_half_loss, soft_td_target, temperature_loss};
use crate::networks::{Actor, TwinCritic, critic_input};
use crate::{Result, SacConfig, SacError};
use rl_nn::Trace;

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
    /// One Adam per critic (their parameters and losses are disjoint).
    critic_opts: [Adam; 2],
    alpha_opt: Option<Adam>,
    rng: SeededRng,
    updates: u64,
    /// Run the two critics' work on two threads (results are identical either way).
    parallel: bool,
}

/// One critic's half of eq. (5): its loss, its values `Q_j(s, a)` and its parameter gradients.
#[derive(Debug, Clone)]
pub struct CriticHalf {
    /// `½ mean((Q_j − y)²)`.
    pub loss: Tensor,
    /// `Q_j(s, a)`, `[B]`.
    pub q: Tensor,
    /// `∂ loss / ∂θ_j`, one per parameter of critic `j`.
    pub grads: Vec<Option<Tensor>>,
}

/// A reparameterized policy sample at the actor's output: the leaf the output was turned into,
/// the actor's trace (for its backward pass), `ã` and `log π(ã|s)` (functions of the leaf).
struct PolicySample {
    out_leaf: Var,
    trace: Trace,
    action: Tensor,
    log_prob: Tensor,
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
        let critic_opt = |j: usize| {
            let prefix = format!("q{}.", j + 1);
            let params = critic_params
                .params()
                .iter()
                .filter(|(n, _)| n.starts_with(&prefix))
                .cloned()
                .collect();
            Adam::new(params, adam)
        };
        let critic_opts = [critic_opt(0)?, critic_opt(1)?];
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
            critic_opts,
            alpha_opt,
            rng,
            updates: 0,
            parallel: parallel_by_default(),
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

    /// Whether the two critics' forward and backward passes run on two threads. The default is
    /// yes when the machine has more than one core and candle runs single-threaded
    /// (`RAYON_NUM_THREADS=1`, as `cargo xtask` and `cargo test` set it): with candle's own
    /// threads also splitting every operation, two workers oversubscribe the cores. The results
    /// are bit-identical either way.
    pub fn set_parallel(&mut self, parallel: bool) {
        self.parallel = parallel;
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
        let pi = self.actor.dist_detached(obs)?;
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
    ///
    /// The networks' gradients come from their explicit backward passes (`Mlp::backward`), which
    /// compute only what each loss needs (the actor's loss needs `∂Q/∂a` from the critics, not
    /// their weight gradients); the distributions' and losses' derivatives come from candle's
    /// autograd on the small `[B, ·]` tensors between the networks. The two critics' work touches
    /// disjoint parameters and runs on two threads when [`set_parallel`](Self::set_parallel)
    /// allows. `tests/gradients.rs` checks every gradient against autograd through the whole graph.
    pub fn update(&mut self, batch: &ReplayBatch) -> Result<UpdateMetrics> {
        let place = || format!("gradient step {}", self.updates + 1);
        let alpha = self.alpha()?;
        let shape = [batch.obs.dim(0)?, self.act_dim];
        let eps_pi = self.rng.normal(&shape, DType::F32, &self.device)?;
        let eps_next = self.rng.normal(&shape, DType::F32, &self.device)?;
        let par = self.parallel;

        // The actor at s (kept for its backward pass) and at s' (for the target only).
        let actor = &self.actor;
        let ((actor_out, actor_trace), next_dist) = both(
            par,
            || Ok(actor.net().forward_traced(&batch.obs)?),
            || actor.dist_detached(&batch.next_obs),
        )?;
        // ã = tanh(μ + σ ε) at s, differentiable in the actor's output only (a leaf).
        let out_leaf = Var::from_tensor(&actor_out)?;
        let (a_pi, log_prob_pi) = actor
            .dist_from_output(out_leaf.as_tensor())?
            .rsample(&eps_pi)?;

        // Temperature, eq. (18).
        let mut ent_coef_loss = None;
        if let (Some(log_alpha), Some(opt)) = (&self.log_alpha, &mut self.alpha_opt) {
            let loss = temperature_loss(log_alpha.as_tensor(), &log_prob_pi, self.target_entropy)?;
            let value = finite("entropy coefficient loss", &loss, &place)?;
            opt.step(&loss.backward()?)?;
            ent_coef_loss = Some(value);
        }

        // Critics, eq. (5): the soft TD target from the target critics at (s', a' ~ π(·|s')).
        let (next_a, next_log_prob) = next_dist.rsample(&eps_next)?;
        let next_x = critic_input(&batch.next_obs, &next_a.detach())?;
        let target = &self.critic_target;
        let (tq1, tq2) = both(
            par,
            || Ok(target.q_traced(0, &next_x)?.0),
            || Ok(target.q_traced(1, &next_x)?.0),
        )?;
        let y = soft_td_target(
            &batch.rewards,
            &batch.terminated,
            &tq1,
            &tq2,
            &next_log_prob.detach(),
            alpha,
            self.config.gamma,
        )?;
        let x = critic_input(&batch.obs, &batch.actions)?;
        let [h1, h2] = self.critic_gradients(&x, &y)?;
        let (l1, q1, g1) = (h1.loss, h1.q, h1.grads);
        let (l2, q2, g2) = (h2.loss, h2.q, h2.grads);
        let critic_loss_value = finite("critic loss", &(&l1 + &l2)?, &place)?;
        let mean_q = (scalar(&q1.mean_all()?)? + scalar(&q2.mean_all()?)?) / 2.0;
        let [opt1, opt2] = &mut self.critic_opts;
        both(
            par,
            || Ok(opt1.step_with(&g1)?),
            || Ok(opt2.step_with(&g2)?),
        )?;

        // Actor, eq. (7), through the just-updated critics.
        let policy = PolicySample {
            out_leaf,
            trace: actor_trace,
            action: a_pi,
            log_prob: log_prob_pi.clone(),
        };
        let (actor_loss_value, grads) = self.actor_gradients_at(&batch.obs, &policy, alpha)?;
        if !actor_loss_value.is_finite() {
            return Err(SacError::NonFinite {
                what: "actor loss".into(),
                value: actor_loss_value,
                place: place(),
            });
        }
        self.actor_opt.step_with(&grads)?;

        // Target critics: θ̄ ← τ θ + (1 − τ) θ̄.
        self.updates += 1;
        if self.updates % self.config.target_update_interval == 0 {
            let tau = self.config.tau;
            let (source, dest) = (&self.critic_params, &self.target_params);
            let polyak = |j: usize| {
                let prefix = format!("q{}.", j + 1);
                let pick = |store: &ParamStore| -> Vec<Var> {
                    store
                        .params()
                        .iter()
                        .filter(|(n, _)| n.starts_with(&prefix))
                        .map(|(_, v)| v.clone())
                        .collect()
                };
                Ok(polyak_update(&pick(source), &pick(dest), tau)?)
            };
            both(par, || polyak(0), || polyak(1))?;
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

    /// Each critic's half of eq. (5) at `x = [s, a]` toward the target `y`, its values `Q_j(s, a)`,
    /// and its parameter gradients (`∂/∂Q_j ½ mean((Q_j − y)²) = (Q_j − y) / B`, then the
    /// critic's backward pass), for critics 1 and 2 (on two threads when parallel).
    pub fn critic_gradients(&self, x: &Tensor, y: &Tensor) -> Result<[CriticHalf; 2]> {
        let n = x.dim(0)? as f64;
        let critic = &self.critic;
        let half = |j: usize| -> Result<CriticHalf> {
            let (q, trace) = critic.q_traced(j, x)?;
            let loss = critic_half_loss(&q, y)?;
            let grad_q = ((&q - y)? / n)?.unsqueeze(1)?;
            let grads = critic.net(j).backward(&trace, &grad_q, true, false)?.params;
            Ok(CriticHalf { loss, q, grads })
        };
        let (a, b) = both(self.parallel, || half(0), || half(1))?;
        Ok([a, b])
    }

    /// Eq. (7) at observations `obs` with noise `eps` (`ã = tanh(μ + σ ε)`) and temperature
    /// `alpha`, through the current critics: the loss and the actor's parameter gradients.
    pub fn actor_gradients(
        &self,
        obs: &Tensor,
        eps: &Tensor,
        alpha: f64,
    ) -> Result<(f64, Vec<Option<Tensor>>)> {
        let (out, trace) = self.actor.net().forward_traced(obs)?;
        let out_leaf = Var::from_tensor(&out)?;
        let (action, log_prob) = self
            .actor
            .dist_from_output(out_leaf.as_tensor())?
            .rsample(eps)?;
        let policy = PolicySample {
            out_leaf,
            trace,
            action,
            log_prob,
        };
        self.actor_gradients_at(obs, &policy, alpha)
    }

    /// [`actor_gradients`](Self::actor_gradients) for an already drawn `ã`: `∂J_π/∂ã` from the
    /// critics' input gradients (`−1/B` on whichever critic is the smaller at each sample), then
    /// `J_π` backpropagated to the actor's output with `∂J_π/∂ã` held fixed (so `α log π`
    /// contributes directly and `−min Q` through `ã`), then the actor's backward pass.
    fn actor_gradients_at(
        &self,
        obs: &Tensor,
        policy: &PolicySample,
        alpha: f64,
    ) -> Result<(f64, Vec<Option<Tensor>>)> {
        let n = obs.dim(0)? as f64;
        let critic = &self.critic;
        let x_pi = critic_input(obs, &policy.action.detach())?;
        let ((q1, trace1), (q2, trace2)) = both(
            self.parallel,
            || critic.q_traced(0, &x_pi),
            || critic.q_traced(1, &x_pi),
        )?;
        let loss = scalar(&actor_loss(&policy.log_prob.detach(), &q1, &q2, alpha)?)?;
        let first_is_min = q1.le(&q2)?.to_dtype(q1.dtype())?;
        let dq1 = first_is_min.affine(-1.0 / n, 0.0)?.unsqueeze(1)?;
        let dq2 = first_is_min.affine(1.0 / n, -1.0 / n)?.unsqueeze(1)?;
        let action_grad = |j: usize, trace: &Trace, dq: &Tensor| -> Result<Tensor> {
            let dx = critic.net(j).backward(trace, dq, false, true)?.input;
            let dx = dx.ok_or_else(|| SacError::Checkpoint("no input gradient".into()))?;
            Ok(dx.narrow(1, self.obs_dim, self.act_dim)?)
        };
        let (da1, da2) = both(
            self.parallel,
            || action_grad(0, &trace1, &dq1),
            || action_grad(1, &trace2, &dq2),
        )?;
        let grad_action = (da1 + da2)?;
        let surrogate = ((&policy.log_prob * alpha)?.mean_all()?
            + (&policy.action * &grad_action)?.sum_all()?)?;
        let grad_out = surrogate
            .backward()?
            .remove(&policy.out_leaf)
            .ok_or_else(|| SacError::Checkpoint("no gradient at the actor's output".into()))?;
        let grads = self
            .actor
            .net()
            .backward(&policy.trace, &grad_out, true, false)?
            .params;
        Ok((loss, grads))
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
                "critic_q1" => &mut self.critic_opts[0],
                "critic_q2" => &mut self.critic_opts[1],
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
            ("critic_q1".to_owned(), self.critic_opts[0].state()?),
            ("critic_q2".to_owned(), self.critic_opts[1].state()?),
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

/// Two critic threads by default: more than one core, and candle itself single-threaded.
fn parallel_by_default() -> bool {
    let one = |var: &str| std::env::var(var).is_ok_and(|v| v.trim() == "1");
    let candle_single = one("RAYON_NUM_THREADS")
        && std::env::var("CANDLE_NUM_THREADS").map_or(true, |v| v.trim() == "1");
    candle_single && std::thread::available_parallelism().is_ok_and(|n| n.get() > 1)
}

/// `(a(), b())`, on two threads when `parallel` (the calling thread runs `a`).
fn both<A: Send, B: Send>(
    parallel: bool,
    a: impl FnOnce() -> Result<A> + Send,
    b: impl FnOnce() -> Result<B> + Send,
) -> Result<(A, B)> {
    if !parallel {
        return Ok((a()?, b()?));
    }
    std::thread::scope(|scope| {
        let handle = scope.spawn(b);
        let ra = a();
        let rb = handle
            .join()
            .map_err(|_| SacError::Checkpoint("a critic worker thread panicked".into()))?;
        Ok((ra?, rb?))
    })
}
