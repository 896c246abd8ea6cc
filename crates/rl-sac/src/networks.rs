//! SAC's networks (SB3's `MlpPolicy` shapes): the tanh-Gaussian actor, the categorical actor of
//! discrete SAC, the Q-networks, and SAC v1's value network. Every network is an `rl_nn::Mlp`
//! with ReLU hidden layers and PyTorch's default initialization.

use candle_core::{D, Tensor, Var};
use rl_math::SeededRng;
use rl_math::distributions::{Categorical, LogStdBounds, TanhGaussian};
use rl_nn::{Activation, Init, Mlp, ParamStore, Trace};

use crate::Result;

const INIT: (Init, Init) = (Init::PytorchDefault, Init::PytorchDefault);

fn sizes(input: usize, net_arch: &[usize], output: usize) -> Vec<usize> {
    let mut s = vec![input];
    s.extend_from_slice(net_arch);
    s.push(output);
    s
}

/// `π_φ(·|s)` for continuous actions: an MLP whose output layer holds both heads, the mean `μ(s)`
/// and the raw `log σ(s)` (`[B, 2·act_dim]`, mean first). Equivalent to SB3's two linear heads on a
/// shared trunk: the same function class and, with PyTorch's default initialization (both heads
/// have the trunk's width as fan-in), the same initial distribution.
///
/// With gSDE ([`Actor::new_sde`]) the network's output is the mean alone (`[B, act_dim]`, clipped
/// to `±clip_mean`), and the noise comes from its last hidden features and a learned
/// `[features, act_dim]` log-std `actor.log_std` (SB3's `Actor` with `use_sde=True`).
#[derive(Debug, Clone)]
pub struct Actor {
    net: Mlp,
    act_dim: usize,
    head: Head,
}

/// How the actor's Gaussian gets its standard deviation.
#[derive(Debug, Clone)]
enum Head {
    /// A second output head `log σ(s)`, kept in range by the bounds.
    LogStd(LogStdBounds),
    /// gSDE: a learned `[features, act_dim]` log-std and a clipped mean.
    Sde(SdeHead),
}

/// The gSDE half of an [`Actor`]: its learned log-std and the clip of the mean.
#[derive(Debug, Clone)]
pub struct SdeHead {
    /// `log σ`, `[features, act_dim]` (the actor's parameter `actor.log_std`).
    pub log_std: Var,
    /// The mean is clipped to `[−clip_mean, clip_mean]` (0: not clipped).
    pub clip_mean: f64,
}

impl Actor {
    /// Builds the actor's parameters (`actor.*`) in `store`.
    pub fn new(
        store: &mut ParamStore,
        obs_dim: usize,
        act_dim: usize,
        net_arch: &[usize],
        bounds: LogStdBounds,
        rng: &mut SeededRng,
    ) -> Result<Self> {
        let sizes = sizes(obs_dim, net_arch, 2 * act_dim);
        let net = Mlp::new(store, "actor", &sizes, Activation::Relu, false, INIT, rng)?;
        Ok(Self {
            net,
            act_dim,
            head: Head::LogStd(bounds),
        })
    }

    /// Builds a gSDE actor's parameters in `store`: the mean network `actor.0…` and the log-std
    /// `actor.log_std` (`[last hidden width, act_dim]`, every entry `log_std_init`).
    pub fn new_sde(
        store: &mut ParamStore,
        obs_dim: usize,
        act_dim: usize,
        net_arch: &[usize],
        log_std_init: f64,
        clip_mean: f64,
        rng: &mut SeededRng,
    ) -> Result<Self> {
        let sizes = sizes(obs_dim, net_arch, act_dim);
        let net = Mlp::new(store, "actor", &sizes, Activation::Relu, false, INIT, rng)?;
        let features = sizes[sizes.len() - 2];
        let init =
            (Tensor::ones((features, act_dim), store.dtype(), store.device())? * log_std_init)?;
        let log_std = store.insert("actor.log_std", &init)?;
        Ok(Self {
            net,
            act_dim,
            head: Head::Sde(SdeHead { log_std, clip_mean }),
        })
    }

    /// The gSDE head, if this actor explores with gSDE.
    pub fn sde(&self) -> Option<&SdeHead> {
        match &self.head {
            Head::Sde(h) => Some(h),
            Head::LogStd(_) => None,
        }
    }

    /// A gSDE actor at `obs` without autograd: the clipped mean `[B, act_dim]`, the last hidden
    /// features `[B, L]` the noise is built on, and the network's trace.
    pub fn sde_forward(&self, obs: &Tensor) -> Result<(Tensor, Tensor, Trace)> {
        let (out, trace) = self.net.forward_traced(obs)?;
        let features = Self::features(&trace)?.clone();
        Ok((self.sde_mean(&out)?, features, trace))
    }

    /// The last hidden features of a trace of this actor's network.
    pub fn features(trace: &Trace) -> Result<&Tensor> {
        trace.last_features().ok_or_else(|| {
            crate::SacError::from(rl_nn::AgentError::Internal {
                learner: "SAC",
                what: "an actor trace without features".into(),
            })
        })
    }

    /// A gSDE actor's mean from the network's output `[B, act_dim]`: clipped to `±clip_mean`
    /// (SB3's `Hardtanh`; its gradient is zero outside the range). The output itself otherwise.
    pub fn sde_mean(&self, out: &Tensor) -> Result<Tensor> {
        Ok(match self.sde() {
            Some(h) if h.clip_mean > 0.0 => out.clamp(-h.clip_mean, h.clip_mean)?,
            _ => out.clone(),
        })
    }

    /// The network (observation → `[μ, raw log σ]`).
    pub fn net(&self) -> &Mlp {
        &self.net
    }

    /// `(μ, raw log σ)` from the network's output `[B, 2·act_dim]` (not for a gSDE actor, whose
    /// output is the mean alone and whose `σ` depends on its features: see
    /// `rl_math::distributions::Gsde`).
    pub fn heads(&self, out: &Tensor) -> Result<(Tensor, Tensor)> {
        self.bounds()?;
        let d = self.act_dim;
        Ok((out.narrow(D::Minus1, 0, d)?, out.narrow(D::Minus1, d, d)?))
    }

    /// The log-std head's bounds, or the error saying a gSDE actor has no such head.
    fn bounds(&self) -> Result<LogStdBounds> {
        match &self.head {
            Head::LogStd(bounds) => Ok(*bounds),
            Head::Sde(_) => Err(crate::SacError::from(rl_nn::AgentError::Internal {
                learner: "SAC",
                what: "a gSDE actor has no log-std head".into(),
            })),
        }
    }

    /// The tanh-Gaussian for the network's output `[B, 2·act_dim]`.
    pub fn dist_from_output(&self, out: &Tensor) -> Result<TanhGaussian> {
        let (mean, log_std) = self.heads(out)?;
        Ok(TanhGaussian::new(&mean, &log_std, self.bounds()?)?)
    }

    /// The policy's distribution for a batch of observations `[B, obs_dim]`, differentiable in
    /// the actor's parameters (candle autograd).
    pub fn dist(&self, obs: &Tensor) -> Result<TanhGaussian> {
        self.dist_from_output(&self.net.forward(obs)?)
    }

    /// The policy's distribution without autograd (acting, the critic target).
    pub fn dist_detached(&self, obs: &Tensor) -> Result<TanhGaussian> {
        self.dist_from_output(&self.net.forward_detached(obs)?)
    }
}

/// `π_φ(·|s)` for discrete actions: an MLP from the observation to one logit per action.
#[derive(Debug, Clone)]
pub struct CategoricalActor {
    net: Mlp,
}

impl CategoricalActor {
    /// Builds the actor's parameters (`actor.*`) in `store`.
    pub fn new(
        store: &mut ParamStore,
        obs_dim: usize,
        n_actions: usize,
        net_arch: &[usize],
        rng: &mut SeededRng,
    ) -> Result<Self> {
        let sizes = sizes(obs_dim, net_arch, n_actions);
        let net = Mlp::new(store, "actor", &sizes, Activation::Relu, false, INIT, rng)?;
        Ok(Self { net })
    }

    /// The network (observation → logits).
    pub fn net(&self) -> &Mlp {
        &self.net
    }

    /// The policy's distribution without autograd.
    pub fn dist_detached(&self, obs: &Tensor) -> Result<Categorical> {
        Ok(Categorical::from_logits(&self.net.forward_detached(obs)?)?)
    }
}

/// The Q-networks `Q_θ1, Q_θ2` (or just `Q_θ1`; parameters `q1.*`, `q2.*`). For continuous actions
/// each maps `[s, a]` to one value; for discrete actions each maps `s` to one value per action.
#[derive(Debug, Clone)]
pub struct Critics {
    qs: Vec<Mlp>,
}

impl Critics {
    /// Builds `n` critics from `input` features to `outputs` values in `store`.
    pub fn new(
        store: &mut ParamStore,
        n: usize,
        input: usize,
        outputs: usize,
        net_arch: &[usize],
        rng: &mut SeededRng,
    ) -> Result<Self> {
        let sizes = sizes(input, net_arch, outputs);
        let qs = (1..=n)
            .map(|j| {
                Mlp::new(
                    store,
                    &format!("q{j}"),
                    &sizes,
                    Activation::Relu,
                    false,
                    INIT,
                    rng,
                )
            })
            .collect::<std::result::Result<_, _>>()?;
        Ok(Self { qs })
    }

    /// Critics over parameters already in `store` (the target critics over a deep copy).
    pub fn bind(store: &ParamStore, n: usize) -> Result<Self> {
        let qs = (1..=n)
            .map(|j| Mlp::bind(store, &format!("q{j}"), Activation::Relu, false))
            .collect::<std::result::Result<_, _>>()?;
        Ok(Self { qs })
    }

    /// Number of critics.
    pub fn len(&self) -> usize {
        self.qs.len()
    }

    /// Whether there are none (never, once built).
    pub fn is_empty(&self) -> bool {
        self.qs.is_empty()
    }

    /// Critic `j` (0-based).
    pub fn net(&self, j: usize) -> &Mlp {
        &self.qs[j]
    }

    /// Critic `j`'s output for `x`, differentiable (candle autograd): `[B, outputs]`.
    pub fn forward(&self, j: usize, x: &Tensor) -> Result<Tensor> {
        Ok(self.qs[j].forward(x)?)
    }

    /// Critic `j`'s output for `x` without autograd, with the trace its backward pass needs.
    pub fn traced(&self, j: usize, x: &Tensor) -> Result<(Tensor, Trace)> {
        Ok(self.qs[j].forward_traced(x)?)
    }
}

/// A critic's input for continuous actions: `[s, a]`, `[B, obs_dim + act_dim]`.
pub fn critic_input(obs: &Tensor, actions: &Tensor) -> Result<Tensor> {
    Ok(Tensor::cat(&[obs, actions], D::Minus1)?)
}

/// SAC v1's state-value network `V_ψ(s)` (parameters `value.*`), `[B, 1]`.
pub fn value_net(
    store: &mut ParamStore,
    obs_dim: usize,
    net_arch: &[usize],
    rng: &mut SeededRng,
) -> Result<Mlp> {
    let sizes = sizes(obs_dim, net_arch, 1);
    Ok(Mlp::new(
        store,
        "value",
        &sizes,
        Activation::Relu,
        false,
        INIT,
        rng,
    )?)
}
