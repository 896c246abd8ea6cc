//! SAC's networks: the tanh-Gaussian actor and the twin soft Q-functions (SB3's `MlpPolicy`).

use candle_core::{D, Module, Tensor};
use candle_nn::Linear;
use rl_math::SeededRng;
use rl_math::distributions::{LogStdBounds, TanhGaussian};
use rl_nn::{Activation, Init, Mlp, ParamStore, linear};

use crate::Result;

/// `π_φ(·|s)`: an MLP trunk with two linear heads, the mean `μ(s)` and the raw `log σ(s)`.
#[derive(Debug, Clone)]
pub struct Actor {
    /// `None` when `net_arch` is empty (linear heads on the observation).
    trunk: Option<Mlp>,
    mu: Linear,
    log_std: Linear,
    bounds: LogStdBounds,
}

impl Actor {
    /// Builds the actor's parameters in `store` (PyTorch's default initialization).
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
        let latent = *sizes.last().unwrap_or(&obs_dim);
        let trunk = if net_arch.is_empty() {
            None
        } else {
            Some(Mlp::new(
                store,
                "actor.trunk",
                &sizes,
                Activation::Relu,
                true,
                init,
                rng,
            )?)
        };
        let mu = linear(
            store,
            "actor.mu",
            latent,
            act_dim,
            Init::PytorchDefault,
            rng,
        )?;
        let log_std = linear(
            store,
            "actor.log_std",
            latent,
            act_dim,
            Init::PytorchDefault,
            rng,
        )?;
        Ok(Self {
            trunk,
            mu,
            log_std,
            bounds,
        })
    }

    /// The policy's distribution for a batch of observations `[B, obs_dim]`.
    pub fn dist(&self, obs: &Tensor) -> Result<TanhGaussian> {
        let h = match &self.trunk {
            Some(trunk) => trunk.forward(obs)?,
            None => obs.clone(),
        };
        Ok(TanhGaussian::new(
            &self.mu.forward(&h)?,
            &self.log_std.forward(&h)?,
            self.bounds,
        )?)
    }
}

/// `Q_θ1, Q_θ2`: two independent MLPs on `[s, a]`.
#[derive(Debug, Clone)]
pub struct TwinCritic {
    q1: Mlp,
    q2: Mlp,
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
        Ok(Self { q1, q2 })
    }

    /// Critics over parameters already in `store` (the target critics over a deep copy).
    pub fn bind(store: &ParamStore) -> Result<Self> {
        Ok(Self {
            q1: Mlp::bind(store, "q1", Activation::Relu, false)?,
            q2: Mlp::bind(store, "q2", Activation::Relu, false)?,
        })
    }

    /// `(Q1(s, a), Q2(s, a))`, each `[B]`.
    pub fn forward(&self, obs: &Tensor, actions: &Tensor) -> Result<(Tensor, Tensor)> {
        let x = Tensor::cat(&[obs, actions], D::Minus1)?;
        Ok((
            self.q1.forward(&x)?.squeeze(D::Minus1)?,
            self.q2.forward(&x)?.squeeze(D::Minus1)?,
        ))
    }
}
