//! The math reinforcement-learning algorithms share, on [Candle](candle_core) tensors.
//!
//! ```
//! use candle_core::{DType, Device, Tensor};
//! use rl_math::distributions::{LogStdBounds, TanhGaussian};
//! use rl_math::returns::{Trajectory, gae};
//! use rl_math::SeededRng;
//!
//! // A SAC actor's output for a batch of 2 states with 1-dimensional actions.
//! let device = Device::Cpu;
//! let mean = Tensor::new(&[[0.3f32], [-1.0]], &device)?;
//! let log_std = Tensor::new(&[[-1.0f32], [0.5]], &device)?;
//! let pi = TanhGaussian::new(&mean, &log_std, LogStdBounds::default())?;
//! let mut rng = SeededRng::new(0);
//! let (action, log_prob) = pi.sample(&mut rng)?;
//! assert_eq!(action.dims(), [2, 1]);
//! assert_eq!(log_prob.dims(), [2]);
//!
//! // GAE over three steps of one env; the episode is truncated at the last step.
//! let traj = Trajectory {
//!     rewards: &[1.0, 1.0, 1.0],
//!     values: &[0.5, 0.4, 0.3],
//!     next_values: &[0.4, 0.3, 0.9], // the last: V(final observation)
//!     terminated: &[false, false, false],
//!     truncated: &[false, false, true],
//! };
//! let adv = gae(&traj, 0.99, 0.95)?;
//! assert!((adv.advantages[2] - (1.0 + 0.99 * 0.9 - 0.3)).abs() < 1e-12);
//! # let _ = DType::F32;
//! # Ok::<(), rl_math::MathError>(())
//! ```
//!
//! - [`distributions`]: the tanh-squashed reparameterized Gaussian (SAC), the diagonal Gaussian and
//!   the categorical, with log-probabilities, entropies and KL divergences.
//! - [`returns`]: n-step returns, GAE(λ) and Retrace, with terminated and truncated episodes.
//! - [`polyak`]: target-network averaging. [`clip`]: global-norm gradient clipping.
//! - [`optim`]: Adam and RMSprop whose state is saveable named tensors.
//! - [`persist`]: files of named arrays (safetensors with a JSON header), written atomically.
//! - [`matmul`]: the matrix product every learner's network uses (candle's, on one thread,
//!   without candle's per-call core count; bit for bit `Tensor::matmul`).
//! - [`SeededRng`]: the seeded source of every random tensor and index (candle's CPU RNG cannot
//!   be seeded), with PyTorch's orthogonal and default linear initializations.
//!
//! Every function is checked against PyTorch (golden values made by
//! `tests/fixtures/make_golden.py`, compared in `tests/golden.rs`).

pub mod clip;
pub mod distributions;
mod error;
mod fused;
mod matmul;
pub mod memory;
pub mod optim;
pub mod persist;
pub mod polyak;
pub mod returns;
mod rng;

pub use error::{MathError, Result};
pub use matmul::matmul;
pub use rng::{RngState, SeededRng};
