//! ACER's networks.
//!
//! - Discrete actions: a shared body (an MLP) with two linear heads, the policy's logits and
//!   `Q(s, ·)` (the paper's architecture, as OpenAI Baselines' `acer` with an MLP), or
//!   (`shared_body = false`) two MLPs, as Stable-Baselines 2's `MlpPolicy` (separate `pi` and
//!   `vf` towers, the `Q` head on the latter).
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

/// The discrete network: a body `s → h` with heads `h → logits` and `h → Q(s, ·)`, or (without
/// a body) two networks `s → logits` and `s → Q(s, ·)`.
#[derive(Debug, Clone)]
pub struct DiscreteNet {
    /// The shared body (activated output), if the heads share one.
    pub body: Option<Mlp>,
    /// `h → logits` (or `s → logits`).
    pub pi: Mlp,
    /// `h → Q(s, ·)` (or `s → Q(s, ·)`).
    pub q: Mlp,
}

/// The traces of a [`DiscreteNet`] forward pass.
#[derive(Debug, Clone)]
pub struct DiscreteTrace {
    body: Option<Trace>,
    pi: Trace,
    q: Trace,
}

/// How a [`DiscreteNet`] is laid out and initialized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiscreteLayout {
    /// One body under both heads (else two networks of the hidden sizes each).
    pub shared_body: bool,
    /// Stable-Baselines 2's orthogonal initialization (hidden gain `√2`, heads 0.01), else
    /// PyTorch's default.
    pub ortho_init: bool,
}

impl DiscreteNet {
    /// Builds the parameters (`body.*` if shared, `pi.*`, `q.*`) in `store`.
    pub fn new(
        store: &mut ParamStore,
        obs_dim: usize,
        n_actions: usize,
        hidden: &[usize],
        activation: Activation,
        layout: DiscreteLayout,
        rng: &mut SeededRng,
    ) -> Result<Self> {
        let (hidden_init, head_init) = if layout.ortho_init {
            (
                Init::Orthogonal {
                    gain: std::f64::consts::SQRT_2,
                },
                Init::Orthogonal { gain: 0.01 },
            )
        } else {
            INIT
        };
        let body = if layout.shared_body {
            Some(Mlp::new(
                store,
                "body",
                &sizes(obs_dim, hidden, None),
                activation,
                true,
                (hidden_init, hidden_init),
                rng,
            )?)
        } else {
            None
        };
        // The heads' input width, and the hidden layers each head has of its own.
        let (input, own): (usize, &[usize]) = match body {
            Some(_) => (*hidden.last().unwrap_or(&obs_dim), &[]),
            None => (obs_dim, hidden),
        };
        let mut head = |name: &str| {
            Mlp::new(
                store,
                name,
                &sizes(input, own, Some(n_actions)),
                activation,
                false,
                (hidden_init, head_init),
                rng,
            )
        };
        let pi = head("pi")?;
        let q = head("q")?;
        Ok(Self { body, pi, q })
    }

    /// The same network over the parameters of `store` (the average network's copy, or a
    /// checkpoint's): with a body if `store` has one.
    pub fn bind(store: &ParamStore, activation: Activation) -> Result<Self> {
        let body = match store.get("body.0.weight") {
            Some(_) => Some(Mlp::bind(store, "body", activation, true)?),
            None => None,
        };
        Ok(Self {
            body,
            pi: Mlp::bind(store, "pi", activation, false)?,
            q: Mlp::bind(store, "q", activation, false)?,
        })
    }

    /// `(logits, Q)` without autograd.
    pub fn forward(&self, obs: &Tensor) -> Result<(Tensor, Tensor)> {
        let h = match &self.body {
            Some(body) => body.forward_detached(obs)?,
            None => obs.clone(),
        };
        Ok((self.pi.forward_detached(&h)?, self.q.forward_detached(&h)?))
    }

    /// `(logits, Q)` with autograd (for checking the explicit gradients of
    /// [`backward`](Self::backward)).
    pub fn forward_with_grad(&self, obs: &Tensor) -> Result<(Tensor, Tensor)> {
        let h = match &self.body {
            Some(body) => body.forward(obs)?,
            None => obs.clone(),
        };
        Ok((self.pi.forward(&h)?, self.q.forward(&h)?))
    }

    /// `(logits, Q)` with the trace of the backward pass.
    pub fn forward_traced(&self, obs: &Tensor) -> Result<(Tensor, Tensor, DiscreteTrace)> {
        let (h, body) = match &self.body {
            Some(body) => {
                let (h, trace) = body.forward_traced(obs)?;
                (h, Some(trace))
            }
            None => (obs.clone(), None),
        };
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
        let shared = self.body.as_ref().zip(trace.body.as_ref());
        let pi = self
            .pi
            .backward(&trace.pi, grad_logits, true, shared.is_some())?;
        let q = self.q.backward(&trace.q, grad_q, true, shared.is_some())?;
        let mut grads = match shared {
            Some((body, body_trace)) => {
                let missing =
                    || crate::AcerError::Config("a head returned no input gradient".into());
                let grad_h = (pi.input.ok_or_else(missing)? + q.input.ok_or_else(missing)?)?;
                body.backward(body_trace, &grad_h, true, false)?.params
            }
            None => Vec::new(),
        };
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
