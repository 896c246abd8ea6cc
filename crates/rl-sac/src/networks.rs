//! SAC's networks: the tanh-Gaussian actor and the twin soft Q-functions (SB3's `MlpPolicy`).

use candle_core::{D, Tensor};
use rl_math::SeededRng;
use rl_math::distributions::{LogStdBounds, TanhGaussian};
use rl_nn::{Activation, Init, Mlp, ParamStore, Trace};

use crate::Result;

/// `π_φ(·|s)`: an MLP whose output layer holds both heads, the mean `μ(s)` and the raw
/// `log σ(s)` (`[B, 2·act_dim]`, mean first). Equivalent to SB3's two linear heads on a shared
/// trunk: the same function class and, with PyTorch's default initialization (both heads have the
/// trunk's width as fan-in), the same initial distribution.
#[derive(Debug, Clone)]
pub struct Actor {
    net: Mlp,
    act_dim: usize,
    bounds: LogStdBounds,
}

impl Actor {
    /// Builds the actor's parameters (`actor.*`) in `store` (PyTorch's default initialization).
    pub fn new(
        store: &mut ParamStore,
        obs_dim: usize,
        act_dim: usize,
        net_arch: &[usize],
        bounds: LogStdBounds,
        rng: &mut SeededRng,
    ) -> Result<Self> {
        let init = (Init::PytorchDefault, Init::PytorchDefault);
        let mut sizes = vec![obs_dim];
        sizes.extend_from_slice(net_arch);
        sizes.push(2 * act_dim);
        let net = Mlp::new(store, "actor", &sizes, Activation::Relu, false, init, rng)?;
        Ok(Self {
            net,
            act_dim,
            bounds,
        })
    }

    /// The network (observation → `[μ, raw log σ]`).
    pub fn net(&self) -> &Mlp {
        &self.net
    }

    /// The tanh-Gaussian for the network's output `[B, 2·act_dim]`.
    pub fn dist_from_output(&self, out: &Tensor) -> Result<TanhGaussian> {
        let d = self.act_dim;
        Ok(TanhGaussian::new(
            &out.narrow(D::Minus1, 0, d)?,
            &out.narrow(D::Minus1, d, d)?,
            self.bounds,
        )?)
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

/// `Q_θ1, Q_θ2`: two independent MLPs on `[s, a]` (parameters `q1.*` and `q2.*`).
#[derive(Debug, Clone)]
pub struct TwinCritic {
    qs: [Mlp; 2],
}

impl TwinCritic {
    /// Builds both critics' parameters in `store` (PyTorch's default initialization).
    pub fn new(
        store: &mut ParamStore,
        obs_dim: usize,
        act_dim: usize,
        net_arch: &[usize],
        rng: &mut SeededRng,
    ) -> Result<Self> {
        let mut sizes = vec![obs_dim + act_dim];
        sizes.extend_from_slice(net_arch);
        sizes.push(1);
        let init = (Init::PytorchDefault, Init::PytorchDefault);
        let q1 = Mlp::new(store, "q1", &sizes, Activation::Relu, false, init, rng)?;
        let q2 = Mlp::new(store, "q2", &sizes, Activation::Relu, false, init, rng)?;
        Ok(Self { qs: [q1, q2] })
    }

    /// Critics over parameters already in `store` (the target critics over a deep copy).
    pub fn bind(store: &ParamStore) -> Result<Self> {
        Ok(Self {
            qs: [
                Mlp::bind(store, "q1", Activation::Relu, false)?,
                Mlp::bind(store, "q2", Activation::Relu, false)?,
            ],
        })
    }

    /// Critic `j` (0 or 1): `x = [s, a]` → `Q` (`[B, 1]`).
    pub fn net(&self, j: usize) -> &Mlp {
        &self.qs[j]
    }

    /// Critic `j` (0 or 1) on `x = [s, a]`, shape `[B]`, differentiable (candle autograd).
    pub fn q(&self, j: usize, x: &Tensor) -> Result<Tensor> {
        Ok(self.qs[j].forward(x)?.squeeze(D::Minus1)?)
    }

    /// Critic `j` on `x` without autograd, with the trace its backward pass needs.
    pub fn q_traced(&self, j: usize, x: &Tensor) -> Result<(Tensor, Trace)> {
        let (q, trace) = self.qs[j].forward_traced(x)?;
        Ok((q.squeeze(D::Minus1)?, trace))
    }

    /// `(Q1(s, a), Q2(s, a))`, each `[B]`.
    pub fn forward(&self, obs: &Tensor, actions: &Tensor) -> Result<(Tensor, Tensor)> {
        let x = critic_input(obs, actions)?;
        Ok((self.q(0, &x)?, self.q(1, &x)?))
    }
}

/// A critic's input `[s, a]`, `[B, obs_dim + act_dim]`.
pub fn critic_input(obs: &Tensor, actions: &Tensor) -> Result<Tensor> {
    Ok(Tensor::cat(&[obs, actions], D::Minus1)?)
}
