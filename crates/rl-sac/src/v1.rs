//! SAC v1 (Haarnoja et al. 2018a, "Soft Actor-Critic: Off-Policy Maximum Entropy Deep
//! Reinforcement Learning with a Stochastic Actor"): a state-value network `V_ψ` with a
//! Polyak-averaged target `V_ψ̄`, one or two Q-networks, and a fixed temperature α (or,
//! equivalently, a reward scale). All three losses are computed from the same parameters and then
//! applied together, as the paper's code does:
//!
//! - value, eq. (5): `J_V = ½ mean((V_ψ(s) − sg(min_j Q_θj(s, ã) − α log π(ã|s)))²)`;
//! - critics, eq. (7)–(8): `J_Q = ½ Σ_j mean((Q_θj(s, a) − sg(r + γ (1 − d) V_ψ̄(s')))²)`;
//! - actor, eq. (13) reparameterized: `J_π = mean(α log π(ã|s) − Q_θ1(s, ã))`, plus the original
//!   code's regularizer `λ mean(μ² + (log σ)²)` (λ = `policy_regularization`, 1e-3);
//! - then `ψ̄ ← τ ψ + (1 − τ) ψ̄`.
//!
//! `ã = tanh(μ + σ ε)` is one fresh sample at `s`, shared by `J_V` and `J_π`.

use rl_buffer::ReplayBatch;
use rl_math::optim::Optimizer;

use crate::agent::{Sac, UpdateMetrics, finite, scalar};
use crate::losses::{value_loss_grad, value_td_target};
use crate::networks::critic_input;
use crate::v2::{ActorCritic, check};
use crate::{Result, SacError};
use rl_nn::AgentError;

impl Sac {
    /// One SAC v1 gradient step (see the module documentation).
    pub(crate) fn update_v1(&mut self, batch: &ReplayBatch) -> Result<UpdateMetrics> {
        let step_number = self.updates + 1;
        let place = move || format!("gradient step {step_number}");
        let alpha = self.alpha()?;
        let actor = self.gaussian()?.clone();
        let missing = || {
            SacError::from(AgentError::Internal {
                learner: "SAC",
                what: "SAC v1 without its value networks".into(),
            })
        };
        let value = self.value.clone().ok_or_else(missing)?;
        let value_target = self.value_target.clone().ok_or_else(missing)?;
        let eps = self.noise(&batch.obs)?;
        let policy = self.sample_policy(&actor, &batch.obs, &eps)?;

        // Value, eq. (5): V_ψ(s) toward min_j Q_θj(s, ã) − α log π(ã|s).
        let x_pi = critic_input(&batch.obs, &policy.action.detach())?;
        let critics = &self.critics;
        let q_pi = self.each_critic(|j| Ok(critics.traced(j, &x_pi)?.0.squeeze(1)?))?;
        let mut q_min = q_pi[0].clone();
        for q in &q_pi[1..] {
            q_min = q_min.minimum(q)?;
        }
        let (v, v_trace) = value.forward_traced(&batch.obs)?;
        let v = v.squeeze(1)?;
        let loss_v = value_loss_grad(&v, &q_min, &policy.log_prob.detach(), alpha)?;
        let value_loss_value = finite("value loss", &loss_v.loss, &place)?;
        let value_grads = value.backward(&v_trace, &loss_v.grad, true, false)?.params;

        // Critics, eq. (7)-(8): toward r + γ (1 − d) V_ψ̄(s').
        let next_v = value_target.forward_detached(&batch.next_obs)?.squeeze(1)?;
        let y = value_td_target(
            &batch.rewards.affine(self.config.reward_scale, 0.0)?,
            &batch.terminated,
            &next_v,
            self.config.gamma,
        )?;
        let x = critic_input(&batch.obs, &batch.actions)?;
        let halves = self.critic_gradients(&x, &y)?;
        let (critic_loss_value, mean_q) = self.check_critic_halves(&halves, &place)?;

        // Actor, eq. (13): through Q_θ1 at ã, with the regularizer.
        let (actor_loss_value, actor_grads) = self.actor_gradients_at(
            &actor,
            &batch.obs,
            &policy,
            alpha,
            ActorCritic::First,
            self.config.policy_regularization,
        )?;
        check("actor loss", actor_loss_value, &place)?;

        // Every gradient came from the same parameters; apply them together.
        let critic_grads: Vec<_> = halves.into_iter().map(|h| h.grads).collect();
        self.step_critics(&critic_grads, false)?;
        self.actor_opt.step_with(&actor_grads)?;
        self.value_opt
            .as_mut()
            .ok_or_else(missing)?
            .step_with(&value_grads)?;

        // ψ̄ ← τ ψ + (1 − τ) ψ̄.
        self.updates += 1;
        if self
            .updates
            .is_multiple_of(self.config.target_update_interval)
        {
            let source = self.value_params.as_ref().ok_or_else(missing)?;
            rl_math::polyak::polyak_update(
                &source.vars(),
                &self.target_params.vars(),
                self.config.tau,
            )?;
        }
        Ok(UpdateMetrics {
            critic_loss: critic_loss_value,
            actor_loss: actor_loss_value,
            ent_coef: alpha,
            ent_coef_loss: None,
            value_loss: Some(value_loss_value),
            entropy: -scalar(&policy.log_prob.mean_all()?)?,
            mean_q,
        })
    }
}
