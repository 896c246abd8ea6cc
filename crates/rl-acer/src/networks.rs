//! ACER's networks.
//!
//! - Discrete actions: a shared body (an MLP) with two linear heads, the policy's logits and
//!   `Q(s, ·)` (the paper's architecture, as OpenAI Baselines' `acer` with an MLP).
//! - Continuous actions: a Gaussian policy (an MLP for the mean, a state-independent learned
//!   `log σ`) and the stochastic dueling network: `V(s)` and `A(s, a)`, two MLPs.

use candle_core::{D, Tensor};
use rl_math::SeededRng;
use rl_nn::{Activation, Init, Mlp, ParamStore, Trace};

use crate::Result;

const INIT: (Init, Init) = (Init::PytorchDefault, Init::PytorchDefault);

fn sizes(input: usize, hidden: &[usize], output: Option<usize>) -> Vec<usize> {
    let mut s = vec![input];
    s.extend_from_slice(hidden);
    s.extend(output);
    s
}

/// The discrete network: body `s → h`, heads `h → logits` and `h → Q(s, ·)`.
#[derive(Debug, Clone)]
pub struct DiscreteNet {
    /// The shared body (activated output).
    pub body: Mlp,
    /// `h → logits`.
    pub pi: Mlp,
    /// `h → Q(s, ·)`.
    pub q: Mlp,
}

/// The traces of a [`DiscreteNet`] forward pass.
#[derive(Debug, Clone)]
pub struct DiscreteTrace {
    body: Trace,
    pi: Trace,
    q: Trace,
}

impl DiscreteNet {
    /// Builds the parameters (`body.*`, `pi.*`, `q.*`) in `store`.
    pub fn new(
        store: &mut ParamStore,
        obs_dim: usize,
        n_actions: usize,
        hidden: &[usize],
        activation: Activation,
        rng: &mut SeededRng,
    ) -> Result<Self> {
        let width = *hidden.last().unwrap_or(&obs_dim);
        Ok(Self {
            body: Mlp::new(
                store,
                "body",
                &sizes(obs_dim, hidden, None),
                activation,
                true,
                INIT,
                rng,
            )?,
            pi: Mlp::new(
                store,
                "pi",
                &[width, n_actions],
                activation,
                false,
                INIT,
                rng,
            )?,
            q: Mlp::new(
                store,
                "q",
                &[width, n_actions],
                activation,
                false,
                INIT,
                rng,
            )?,
        })
    }

    /// The same network over the parameters of `store` (the average network's copy).
    pub fn bind(store: &ParamStore, activation: Activation) -> Result<Self> {
        Ok(Self {
            body: Mlp::bind(store, "body", activation, true)?,
            pi: Mlp::bind(store, "pi", activation, false)?,
            q: Mlp::bind(store, "q", activation, false)?,
        })
    }

    /// `(logits, Q)` without autograd.
    pub fn forward(&self, obs: &Tensor) -> Result<(Tensor, Tensor)> {
        let h = self.body.forward_detached(obs)?;
        Ok((self.pi.forward_detached(&h)?, self.q.forward_detached(&h)?))
    }

    /// `(logits, Q)` with the trace of the backward pass.
    pub fn forward_traced(&self, obs: &Tensor) -> Result<(Tensor, Tensor, DiscreteTrace)> {
        let (h, body) = self.body.forward_traced(obs)?;
        let (logits, pi) = self.pi.forward_traced(&h)?;
        let (q, q_trace) = self.q.forward_traced(&h)?;
        Ok((
            logits,
            q,
            DiscreteTrace {
                body,
                pi,
                q: q_trace,
            },
        ))
    }

    /// Parameter gradients (store order: body, pi, q) from `∂L/∂logits` and `∂L/∂Q`.
    pub fn backward(
        &self,
        trace: &DiscreteTrace,
        grad_logits: &Tensor,
        grad_q: &Tensor,
    ) -> Result<Vec<Option<Tensor>>> {
        let pi = self.pi.backward(&trace.pi, grad_logits, true, true)?;
        let q = self.q.backward(&trace.q, grad_q, true, true)?;
        let missing = || crate::AcerError::Config("a head returned no input gradient".into());
        let grad_h = (pi.input.ok_or_else(missing)? + q.input.ok_or_else(missing)?)?;
        let mut grads = self
            .body
            .backward(&trace.body, &grad_h, true, false)?
            .params;
        grads.extend(pi.params);
        grads.extend(q.params);
        Ok(grads)
    }
}

/// The continuous networks: the policy mean `μ(s)`, and the dueling `V(s)`, `A(s, a)`.
#[derive(Debug, Clone)]
pub struct ContinuousNet {
    /// `s → μ`.
    pub mean: Mlp,
    /// `s → V`.
    pub value: Mlp,
    /// `[s, a] → A`.
    pub advantage: Mlp,
}

impl ContinuousNet {
    /// Builds the parameters (`mean.*`, `value.*`, `adv.*`) in `store`.
    pub fn new(
        store: &mut ParamStore,
        obs_dim: usize,
        act_dim: usize,
        hidden: &[usize],
        activation: Activation,
        rng: &mut SeededRng,
    ) -> Result<Self> {
        Ok(Self {
            mean: Mlp::new(
                store,
                "mean",
                &sizes(obs_dim, hidden, Some(act_dim)),
                activation,
                false,
                INIT,
                rng,
            )?,
            value: Mlp::new(
                store,
                "value",
                &sizes(obs_dim, hidden, Some(1)),
                activation,
                false,
                INIT,
                rng,
            )?,
            advantage: Mlp::new(
                store,
                "adv",
                &sizes(obs_dim + act_dim, hidden, Some(1)),
                activation,
                false,
                INIT,
                rng,
            )?,
        })
    }

    /// The same networks over the parameters of `store`.
    pub fn bind(store: &ParamStore, activation: Activation) -> Result<Self> {
        Ok(Self {
            mean: Mlp::bind(store, "mean", activation, false)?,
            value: Mlp::bind(store, "value", activation, false)?,
            advantage: Mlp::bind(store, "adv", activation, false)?,
        })
    }
}

/// `[s, a]` rows for the advantage network.
pub fn state_action(obs: &Tensor, actions: &Tensor) -> Result<Tensor> {
    Ok(Tensor::cat(&[obs, actions], D::Minus1)?)
}
