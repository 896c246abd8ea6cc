//! Networks for reinforcement-learning agents on [Candle](candle_core).
//!
//! ```
//! use candle_core::{DType, Device, Tensor};
//! use rl_math::SeededRng;
//! use rl_nn::{Activation, Init, Mlp, ParamStore};
//!
//! let mut store = ParamStore::new(&Device::Cpu, DType::F32);
//! let mut rng = SeededRng::new(0);
//! // A SAC critic: (observation, action) -> 256 -> 256 -> Q, PyTorch's default initialization.
//! let q = Mlp::new(&mut store, "q1", &[3 + 1, 256, 256, 1], Activation::Relu, false,
//!                  (Init::PytorchDefault, Init::PytorchDefault), &mut rng)?;
//! let out = q.forward(&Tensor::zeros((8, 4), DType::F32, &Device::Cpu)?)?;
//! assert_eq!(out.dims(), [8, 1]);
//! assert_eq!(store.params().len(), 6); // three weights, three biases
//! # Ok::<(), rl_nn::NnError>(())
//! ```
//!
//! - [`ParamStore`]: named parameters in a fixed order; deep copies for target networks;
//!   exact-name, exact-shape loading.
//! - [`Mlp`] and [`linear`]: layers initialized from a [`SeededRng`](rl_math::SeededRng)
//!   (PyTorch's default or orthogonal), so the same seed builds the same network.
//! - [`checkpoint`]: checkpoint folders written atomically with a `LATEST` pointer, and tensor /
//!   JSON files.
//! - [`actor_critic`]: the policy and value networks of the on-policy learners (A2C, PPO):
//!   acting, and the log-probabilities, entropies and values their losses are built from.
//! - [`rollout`]: the on-policy loop below A2C's and PPO's updates (collect, returns and
//!   advantages, the envs' side of a checkpoint).
//! - [`Workers`]: fork-join on a pool of threads kept for the agent's life, for the independent
//!   halves of an update.

pub mod actor_critic;
mod agent_error;
pub mod checkpoint;
pub mod config;
mod error;
mod mlp;
pub mod ops;
mod params;
pub mod rollout;
mod workers;

pub use agent_error::AgentError;

/// What [`learner_error!`] expands to names (not a public interface).
#[doc(hidden)]
pub mod __private {
    pub use candle_core::Error as CandleError;
    pub use rl_buffer::BufferError;
    pub use rl_envs::EnvError;
    pub use rl_math::MathError;
}
pub use error::{NnError, Result};
pub use mlp::{Activation, Dense, Init, Mlp, MlpGrads, Trace, linear, training_memory};
pub use params::ParamStore;
pub use workers::Workers;
