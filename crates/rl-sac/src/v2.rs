//! SAC v2 (Haarnoja et al. 2018b, "Soft Actor-Critic Algorithms and Applications"): twin soft
//! Q-functions with Polyak-averaged targets, a reparameterized tanh-Gaussian policy and an
//! automatically tuned temperature, updated in SB3's order:
//!
//! 1. temperature, eq. (18): `J(α) = mean(−log α · sg(log π(ã|s) + H̄))`;
//! 2. critics, eq. (5): `J_Q = ½ Σ_j mean((Q_θj(s, a) − y)²)`,
//!    `y = r + γ (1 − d) [min_j Q_θ̄j(s', a') − α log π(a'|s')]`, `a' ~ π(·|s')`;
//! 3. actor, eq. (7): `J_π = mean(α log π(ã|s) − min_j Q_θj(s, ã))` through the just-updated
//!    critics, `ã = tanh(μ + σ ε)`;
//! 4. Polyak: `θ̄ ← τ θ + (1 − τ) θ̄` (computed right after step 2, each critic's on its worker:
//!    the targets are read only by the next update's step 2, so the numbers are the same).
//!
//! α in steps 2 and 3 is its value before step 1. The gradients are those of the functions in
//! `losses.rs`: the temperature loss through candle's autograd; each critic's term of eq. (5) as
//! `critic_half_loss_grad` (its gradient at the critic's output) and the critic's explicit
//! backward pass (`rl_nn::Mlp::backward`, which computes only what the loss needs); eq. (7) as
//! `actor_loss_critic_grads` through the critics to `∂J_π/∂ã`, then `actor_surrogate` through
//! the distribution by autograd and the actor's backward pass. `tests/gradients.rs` checks every gradient against autograd
//! through the whole graph.

use candle_core::{DType, Tensor, Var};
use rl_buffer::ReplayBatch;
use rl_math::distributions::Gsde;
use rl_math::optim::Optimizer;
use rl_nn::Trace;

use crate::agent::{Policy, Sac, UpdateMetrics, both, finite, scalar};
use crate::losses::{
    actor_loss, actor_loss_critic_grads, actor_loss_v1, actor_surrogate, critic_half_loss_grad,
    soft_td_target, temperature_loss,
};
use crate::networks::{Actor, critic_input};
use crate::{Result, SacError};
use rl_nn::AgentError;

/// One critic's half of `J_Q`: its loss, its values `Q_j(s, a)` and its parameter gradients.
#[derive(Debug, Clone)]
pub struct CriticHalf {
    /// `½ mean((Q_j − y)²)`.
    pub loss: Tensor,
    /// `Q_j(s, a)`, `[B]`.
    pub q: Tensor,
    /// `∂ loss / ∂θ_j`, one per parameter of critic `j`.
    pub grads: Vec<Option<Tensor>>,
}

/// A reparameterized policy sample at the actor's output: the leaf the output was turned into
/// (and, with gSDE, the features'), the actor's trace (for its backward pass), `ã` and
/// `log π(ã|s)` (functions of the leaves).
pub(crate) struct PolicySample {
    pub(crate) out_leaf: Var,
    /// gSDE: the last hidden features as a leaf (the noise and the variance read them).
    pub(crate) features_leaf: Option<Var>,
    pub(crate) trace: Trace,
    pub(crate) action: Tensor,
    pub(crate) log_prob: Tensor,
}

/// Which critics the actor's loss reads: the smallest of all (v2), or the first (v1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ActorCritic {
    Min,
    First,
}

impl Sac {
    pub(crate) fn gaussian(&self) -> Result<&Actor> {
        match &self.policy {
            Policy::Gaussian(a) => Ok(a),
            Policy::Categorical(_) => Err(SacError::from(AgentError::UnsupportedEnv(
                "this SAC update needs a continuous action space".into(),
            ))),
        }
    }

    /// One SAC v2 gradient step (see the module documentation).
    pub(crate) fn update_v2(&mut self, batch: &ReplayBatch) -> Result<UpdateMetrics> {
        let step_number = self.updates + 1;
        let place = move || format!("gradient step {step_number}");
        let alpha = self.alpha()?;
        let actor = self.gaussian()?.clone();
        // gSDE draws one exploration matrix per gradient step, read by both samples (SB3's
        // `reset_noise()` before each step).
        let (eps_pi, eps_next) = if let Some(head) = actor.sde() {
            let eps = self.noise_of_shape(head.log_std.dims2()?)?;
            (eps.clone(), eps)
        } else {
            (self.noise(&batch.obs)?, self.noise(&batch.obs)?)
        };

        // A fresh ã = tanh(μ + σ ε) at s, differentiable in the actor's output only (a leaf),
        // and a' ~ π(·|s') for step 2 (independent: forked on the workers).
        let (policy, (next_a, next_log_prob)) = both(
            &self.workers,
            || self.sample_policy(&actor, &batch.obs, &eps_pi),
            || sample_next(&actor, &batch.next_obs, &eps_next),
        )?;

        // 1. Temperature, eq. (18).
        let mut ent_coef_loss = None;
        if let (Some(log_alpha), Some(opt)) = (&self.log_alpha, &mut self.alpha_opt) {
            let loss =
                temperature_loss(log_alpha.as_tensor(), &policy.log_prob, self.target_entropy)?;
            let value = finite("entropy coefficient loss", &loss, &place)?;
            opt.step(&loss.backward()?)?;
            ent_coef_loss = Some(value);
        }

        // 2. Critics, eq. (5): the soft TD target from the target critics at (s', a' ~ π(·|s')).
        let next_x = critic_input(&batch.next_obs, &next_a)?;
        let target = self.critic_target.as_ref().ok_or_else(|| {
            SacError::from(AgentError::Internal {
                learner: "SAC",
                what: "SAC v2 without target critics".into(),
            })
        })?;
        let tq = self.each_critic(|j| Ok(target.traced(j, &next_x)?.0.squeeze(1)?))?;
        let y = soft_td_target(
            &batch.rewards.affine(self.config.reward_scale, 0.0)?,
            &batch.terminated,
            &tq[0],
            tq.last().unwrap_or(&tq[0]),
            &next_log_prob,
            alpha,
            self.config.gamma,
        )?;
        let x = critic_input(&batch.obs, &batch.actions)?;
        let halves = self.critic_gradients(&x, &y)?;
        let (critic_loss_value, mean_q) = self.check_critic_halves(&halves, &place)?;
        let grads: Vec<_> = halves.into_iter().map(|h| h.grads).collect();
        // Each critic's Adam step, and its target's Polyak step (4.) when due, on its own worker.
        self.step_critics(&grads, self.polyak_due())?;

        // 3. Actor, eq. (7), through the just-updated critics.
        let (actor_loss_value, grads) =
            self.actor_gradients_at(&actor, &batch.obs, &policy, alpha, ActorCritic::Min, 0.0)?;
        check("actor loss", actor_loss_value, &place)?;
        self.actor_opt.step_with(&grads)?;

        // 4. Target critics, θ̄ ← τ θ + (1 − τ) θ̄: done with the critics' step above.
        self.updates += 1;
        Ok(UpdateMetrics {
            critic_loss: critic_loss_value,
            actor_loss: actor_loss_value,
            ent_coef: alpha,
            ent_coef_loss,
            value_loss: None,
            entropy: -scalar(&policy.log_prob.mean_all()?)?,
            mean_q,
        })
    }

    /// Standard-normal noise `[B, act_dim]` from the agent's generator (or the next tensor given
    /// to `set_update_noise`).
    pub(crate) fn noise(&mut self, obs: &Tensor) -> Result<Tensor> {
        self.noise_of_shape((obs.dim(0)?, self.action.size()))
    }

    /// Standard-normal noise of `shape` from the agent's generator (or `set_update_noise`).
    pub(crate) fn noise_of_shape(&mut self, (rows, cols): (usize, usize)) -> Result<Tensor> {
        let shape = [rows, cols];
        let dtype = self.actor_params.dtype();
        match self.noise.pop() {
            Some(eps) if eps.dims() == shape => Ok(eps.to_dtype(dtype)?.to_device(&self.device)?),
            Some(eps) => Err(SacError::Config(format!(
                "set_update_noise gave a draw of shape {:?}, this update takes {shape:?}",
                eps.dims()
            ))),
            None => Ok(self
                .rng
                .normal(&shape, DType::F32, &self.device)?
                .to_dtype(dtype)?),
        }
    }

    /// The actor at `obs`, kept for its backward pass, and `ã`, `log π(ã|s)` from noise `eps`
    /// (`[B, act_dim]`; with gSDE the exploration matrix's `[features, act_dim]` noise, the matrix
    /// `ε ⊙ exp(log_std)` differentiable in `log_std`).
    pub(crate) fn sample_policy(
        &self,
        actor: &Actor,
        obs: &Tensor,
        eps: &Tensor,
    ) -> Result<PolicySample> {
        let (out, trace) = actor.net().forward_traced(obs)?;
        let out_leaf = Var::from_tensor(&out)?;
        if let Some(head) = actor.sde() {
            // gSDE learns its features: they are a leaf too, and log_std is the parameter.
            let features_leaf = Var::from_tensor(Actor::features(&trace)?)?;
            let log_std = head.log_std.as_tensor();
            let matrix = Gsde::exploration_matrix(log_std, eps)?;
            let (action, log_prob) = Gsde::squashed_rsample(
                &actor.sde_mean(out_leaf.as_tensor())?,
                features_leaf.as_tensor(),
                log_std,
                &matrix,
            )?;
            return Ok(PolicySample {
                out_leaf,
                features_leaf: Some(features_leaf),
                trace,
                action,
                log_prob,
            });
        }
        let (action, log_prob) = actor.dist_from_output(out_leaf.as_tensor())?.rsample(eps)?;
        Ok(PolicySample {
            out_leaf,
            features_leaf: None,
            trace,
            action,
            log_prob,
        })
    }

    /// The sum of the critics' half losses and their mean `Q`, or the error if a loss is not finite.
    pub(crate) fn check_critic_halves(
        &self,
        halves: &[CriticHalf],
        place: &dyn Fn() -> String,
    ) -> Result<(f64, f64)> {
        let mut loss = halves[0].loss.clone();
        for h in &halves[1..] {
            loss = (loss + &h.loss)?;
        }
        let value = finite("critic loss", &loss, place)?;
        let mut mean_q = 0.0;
        for h in halves {
            mean_q += scalar(&h.q.mean_all()?)?;
        }
        Ok((value, mean_q / halves.len() as f64))
    }

    /// Each critic's half of `J_Q` at `x = [s, a]` toward the target `y`, its values `Q_j(s, a)`
    /// and its parameter gradients ([`critic_half_loss_grad`], then the critic's backward pass),
    /// forked on the workers when there are two critics.
    pub fn critic_gradients(&self, x: &Tensor, y: &Tensor) -> Result<Vec<CriticHalf>> {
        let critics = &self.critics;
        self.each_critic(|j| {
            let (q, trace) = critics.traced(j, x)?;
            let q = q.squeeze(1)?;
            let half = critic_half_loss_grad(&q, y)?;
            let grads = critics
                .net(j)
                .backward(&trace, &half.grad, true, false)?
                .params;
            Ok(CriticHalf {
                loss: half.loss,
                q,
                grads,
            })
        })
    }

    /// Eq. (7) at observations `obs` with noise `eps` (`[B, act_dim]`, `ã = tanh(μ + σ ε)`; with
    /// gSDE `[features, act_dim]`, the exploration matrix's noise) and temperature `alpha`,
    /// through the current critics: the loss and the actor's parameter gradients.
    pub fn actor_gradients(
        &self,
        obs: &Tensor,
        eps: &Tensor,
        alpha: f64,
    ) -> Result<(f64, Vec<Option<Tensor>>)> {
        let actor = self.gaussian()?;
        let policy = self.sample_policy(actor, obs, eps)?;
        let (which, reg) = match self.config.variant {
            crate::config::Variant::V2 => (ActorCritic::Min, 0.0),
            crate::config::Variant::V1 => (ActorCritic::First, self.config.policy_regularization),
        };
        self.actor_gradients_at(actor, obs, &policy, alpha, which, reg)
    }

    /// The actor's loss for an already drawn `ã` and its gradients: `∂J_π/∂ã` from the critics'
    /// input gradients ([`actor_loss_critic_grads`]: the smaller critic for v2, the first for v1),
    /// then [`actor_surrogate`] backpropagated to the actor's output, then the actor's backward
    /// pass.
    pub(crate) fn actor_gradients_at(
        &self,
        actor: &Actor,
        obs: &Tensor,
        policy: &PolicySample,
        alpha: f64,
        which: ActorCritic,
        regularization: f64,
    ) -> Result<(f64, Vec<Option<Tensor>>)> {
        let critics = &self.critics;
        let x_pi = critic_input(obs, &policy.action.detach())?;
        let used = if which == ActorCritic::Min {
            critics.len()
        } else {
            1
        };
        let outs = self.each_critic(|j| {
            if j < used {
                let (q, trace) = critics.traced(j, &x_pi)?;
                Ok(Some((q.squeeze(1)?, trace)))
            } else {
                Ok(None)
            }
        })?;
        let outs: Vec<(Tensor, Trace)> = outs.into_iter().flatten().collect();
        // The Gaussian's heads (μ, bounded log σ) for SAC v1's regularizer; a gSDE actor (v2
        // only) has none.
        let pi = match actor.sde() {
            None => Some(actor.dist_from_output(policy.out_leaf.as_tensor())?),
            Some(_) => None,
        };
        // The loss value, with the papers' formulas.
        let loss = match (which, &pi) {
            (ActorCritic::Min, _) => actor_loss(
                &policy.log_prob.detach(),
                &outs[0].0,
                &outs.last().unwrap_or(&outs[0]).0,
                alpha,
            )?,
            (ActorCritic::First, Some(pi)) => actor_loss_v1(
                &policy.log_prob.detach(),
                &outs[0].0,
                alpha,
                &pi.mean().detach(),
                &pi.log_std().detach(),
                regularization,
            )?,
            (ActorCritic::First, None) => {
                return Err(SacError::from(AgentError::Internal {
                    learner: "SAC",
                    what: "SAC v1 with a gSDE actor".into(),
                }));
            }
        };
        let loss = scalar(&loss)?;
        // ∂J_π/∂Q_j: −1/B where critic j is the one the loss reads.
        let qs: Vec<Tensor> = outs.iter().map(|(q, _)| q.clone()).collect();
        let dq = actor_loss_critic_grads(&qs)?;
        let act_dim = self.action.size();
        let action_grad = |j: usize| -> Result<Tensor> {
            let dx = critics
                .net(j)
                .backward(&outs[j].1, &dq[j], false, true)?
                .input;
            let dx = dx.ok_or_else(|| {
                SacError::from(AgentError::Internal {
                    learner: "SAC",
                    what: "no input gradient".into(),
                })
            })?;
            Ok(dx.narrow(1, self.obs_dim, act_dim)?)
        };
        let grad_action = if outs.len() == 2 {
            let (a, b) = crate::agent::both(&self.workers, || action_grad(0), || action_grad(1))?;
            (a + b)?
        } else {
            action_grad(0)?
        };
        let surrogate = actor_surrogate(
            &policy.log_prob,
            &policy.action,
            &grad_action,
            alpha,
            pi.as_ref()
                .map(|pi| (pi.mean(), pi.log_std(), regularization)),
        )?;
        let mut leaf_grads = surrogate.backward()?;
        let missing = |what: &str| {
            SacError::from(AgentError::Internal {
                learner: "SAC",
                what: format!("no gradient at the actor's {what}"),
            })
        };
        let grad_out = leaf_grads
            .remove(&policy.out_leaf)
            .ok_or_else(|| missing("output"))?;
        // The hidden layers' weight and input gradients forked on the workers (bit-identical to
        // the sequential pass).
        let (min_size, workers) = (16 * 1024, &self.workers);
        let grads = match (&policy.features_leaf, actor.sde()) {
            (Some(features), Some(head)) => {
                let grad_features = leaf_grads
                    .remove(features)
                    .ok_or_else(|| missing("features"))?;
                let grad_log_std = leaf_grads
                    .remove(head.log_std.as_tensor())
                    .ok_or_else(|| missing("log_std"))?;
                let mut grads = actor
                    .net()
                    .backward_with_features(
                        &policy.trace,
                        &grad_out,
                        &grad_features,
                        true,
                        false,
                        min_size,
                        workers,
                    )?
                    .params;
                // actor.log_std comes after the network's layers in the actor's store.
                grads.push(Some(grad_log_std));
                grads
            }
            _ => {
                actor
                    .net()
                    .backward_split(&policy.trace, &grad_out, true, false, min_size, workers)?
                    .params
            }
        };
        Ok((loss, grads))
    }
}

/// `a' ~ π(·|s')` and `log π(a'|s')` without autograd (the critics' target): noise `eps` as
/// [`Sac::sample_policy`]'s.
fn sample_next(actor: &Actor, next_obs: &Tensor, eps: &Tensor) -> Result<(Tensor, Tensor)> {
    let Some(head) = actor.sde() else {
        return Ok(actor.dist_detached(next_obs)?.rsample(eps)?);
    };
    let (mean, features, _) = actor.sde_forward(next_obs)?;
    let log_std = head.log_std.as_tensor().detach();
    let matrix = Gsde::exploration_matrix(&log_std, eps)?;
    let (a, log_prob) = Gsde::squashed_rsample(&mean, &features, &log_std, &matrix)?;
    Ok((a.detach(), log_prob.detach()))
}

/// `value` if finite, else the error naming `what` and where.
pub(crate) fn check(what: &str, value: f64, place: &dyn Fn() -> String) -> Result<()> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(SacError::from(AgentError::NonFinite {
            what: what.into(),
            value,
            place: place(),
        }))
    }
}
