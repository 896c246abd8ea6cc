//! SAC for discrete actions (Christodoulou 2019, "Soft Actor-Critic for Discrete Action
//! Settings"): a categorical policy over `|A|` actions and critics with one output per action, so
//! every expectation over actions is exact (no sampling, no reparameterization). SB3's order, as v2:
//!
//! 1. temperature, eq. (11): `J(α) = mean_s Σ_a sg(π(a|s)) (−log α · sg(log π(a|s) + H̄))`,
//!    `H̄ = ratio · log |A|` (`target_entropy_ratio`, 0.98);
//! 2. critics: `J_Q = ½ Σ_j mean((Q_θj(s)[a] − y)²)`, `y = r + γ (1 − d) V(s')`,
//!    `V(s') = Σ_a π(a|s') [min_j Q_θ̄j(s', a) − α log π(a|s')]` (eq. 10);
//! 3. actor, eq. (12): `J_π = mean_s Σ_a π(a|s) [α log π(a|s) − sg(min_j Q_θj(s, a))]` through the
//!    just-updated critics;
//! 4. Polyak: `θ̄ ← τ θ + (1 − τ) θ̄`.

use candle_core::{D, Tensor, Var};
use rl_buffer::ReplayBatch;
use rl_math::distributions::Categorical;
use rl_math::optim::Optimizer;

use crate::agent::{Policy, Sac, UpdateMetrics, finite, scalar};
use crate::losses::{
    discrete_actor_loss, discrete_critic_half_loss_grad, discrete_soft_value,
    discrete_temperature_loss, value_td_target,
};
use crate::networks::CategoricalActor;
use crate::v2::CriticHalf;
use crate::{Result, SacError};
use rl_nn::AgentError;

impl Sac {
    fn categorical(&self) -> Result<CategoricalActor> {
        match &self.policy {
            Policy::Categorical(a) => Ok(a.clone()),
            Policy::Gaussian(_) => Err(SacError::from(AgentError::UnsupportedEnv(
                "discrete SAC needs a discrete action space".into(),
            ))),
        }
    }

    /// One discrete SAC gradient step (see the module documentation).
    pub(crate) fn update_discrete(&mut self, batch: &ReplayBatch) -> Result<UpdateMetrics> {
        let step_number = self.updates + 1;
        let place = move || format!("gradient step {step_number}");
        let alpha = self.alpha()?;
        let actor = self.categorical()?;
        let n_actions = self.action.size();

        // π(·|s), differentiable in the actor's output (its logits) only.
        let (logits, actor_trace) = actor.net().forward_traced(&batch.obs)?;
        let logits_leaf = Var::from_tensor(&logits)?;
        let pi = Categorical::from_logits(logits_leaf.as_tensor())?;
        let (probs, log_probs) = (pi.probs()?, pi.log_probs().clone());

        // 1. Temperature, eq. (11).
        let mut ent_coef_loss = None;
        if let (Some(log_alpha), Some(opt)) = (&self.log_alpha, &mut self.alpha_opt) {
            let loss = discrete_temperature_loss(
                log_alpha.as_tensor(),
                &probs,
                &log_probs,
                self.target_entropy,
            )?;
            let value = finite("entropy coefficient loss", &loss, &place)?;
            opt.step(&loss.backward()?)?;
            ent_coef_loss = Some(value);
        }

        // 2. Critics toward r + γ (1 − d) V(s'), V exact over actions (eq. 10).
        let next = actor.dist_detached(&batch.next_obs)?;
        let target = self.critic_target.as_ref().ok_or_else(|| {
            SacError::from(AgentError::Internal {
                learner: "SAC",
                what: "discrete SAC without target critics".into(),
            })
        })?;
        let tq = self.each_critic(|j| Ok(target.traced(j, &batch.next_obs)?.0))?;
        let next_v = discrete_soft_value(&next.probs()?, next.log_probs(), &min_all(&tq)?, alpha)?;
        let y = value_td_target(
            &batch.rewards.affine(self.config.reward_scale, 0.0)?,
            &batch.terminated,
            &next_v,
            self.config.gamma,
        )?;
        let taken = candle_nn::encoding::one_hot(batch.actions.clone(), n_actions, 1f32, 0f32)?
            .to_dtype(batch.obs.dtype())?;
        let critics = &self.critics;
        let halves = self.each_critic(|j| {
            let (q, trace) = critics.traced(j, &batch.obs)?;
            let q_taken = (&q * &taken)?.sum(D::Minus1)?;
            let half = discrete_critic_half_loss_grad(&q_taken, &taken, &y)?;
            let grads = critics
                .net(j)
                .backward(&trace, &half.grad, true, false)?
                .params;
            Ok(CriticHalf {
                loss: half.loss,
                q: q_taken,
                grads,
            })
        })?;
        let (critic_loss_value, mean_q) = self.check_critic_halves(&halves, &place)?;
        let grads: Vec<_> = halves.into_iter().map(|h| h.grads).collect();
        // Each critic's Adam step, and its target's Polyak step (4.) when due, on its own worker.
        self.step_critics(&grads, self.polyak_due())?;

        // 3. Actor, eq. (12), through the just-updated critics (held fixed: sg).
        let critics = &self.critics;
        let q = self.each_critic(|j| Ok(critics.traced(j, &batch.obs)?.0))?;
        let loss_pi = discrete_actor_loss(&probs, &log_probs, &min_all(&q)?, alpha)?;
        let actor_loss_value = finite("actor loss", &loss_pi, &place)?;
        let grad_logits = loss_pi.backward()?.remove(&logits_leaf).ok_or_else(|| {
            SacError::from(AgentError::Internal {
                learner: "SAC",
                what: "no gradient at the actor's logits".into(),
            })
        })?;
        let grads = actor
            .net()
            .backward(&actor_trace, &grad_logits, true, false)?
            .params;
        self.actor_opt.step_with(&grads)?;

        // 4. Target critics: done with the critics' step above.
        self.updates += 1;
        let entropy = scalar(&(&probs * &log_probs)?.sum(D::Minus1)?.mean_all()?.neg()?)?;
        Ok(UpdateMetrics {
            critic_loss: critic_loss_value,
            actor_loss: actor_loss_value,
            ent_coef: alpha,
            ent_coef_loss,
            value_loss: None,
            entropy,
            mean_q,
        })
    }
}

/// The elementwise minimum over the critics' outputs.
fn min_all(qs: &[Tensor]) -> Result<Tensor> {
    let mut m = qs[0].clone();
    for q in &qs[1..] {
        m = m.minimum(q)?;
    }
    Ok(m)
}
