//! Experience storage for reinforcement learning, sampled into [Candle](candle_core) tensors.
//!
//! ```
//! use candle_core::Device;
//! use rl_buffer::{ActionSpec, ReplayBuffer, Transition};
//! use rl_math::SeededRng;
//!
//! let mut buffer = ReplayBuffer::new(1_000, 3, ActionSpec::Continuous { dim: 1 })?;
//! for t in 0..10 {
//!     buffer.push(Transition {
//!         obs: &[1.0, 0.0, t as f32],
//!         action: &[0.5],
//!         reward: -1.0,
//!         next_obs: &[1.0, 0.0, t as f32 + 1.0],
//!         terminated: false,
//!         truncated: t == 9,
//!     })?;
//! }
//! let batch = buffer.sample(4, &mut SeededRng::new(0), &Device::Cpu)?;
//! assert_eq!(batch.obs.dims(), [4, 3]);
//! assert_eq!(batch.actions.dims(), [4, 1]);
//! # Ok::<(), rl_buffer::BufferError>(())
//! ```
//!
//! - [`ReplayBuffer`]: a ring of transitions for off-policy learners (SAC), seeded uniform
//!   sampling, save / load (safetensors, written atomically by [`rl_math::persist`]).
//! - [`RolloutBuffer`]: one on-policy rollout of N envs × n steps with GAE / n-step returns that
//!   bootstrap truncated episodes from their true final observation (A2C).
//! - [`SegmentReplay`]: ACER's replay of fixed-length segments with the behaviour policy's full
//!   distribution at every step; a [`Normalizer`] normalizes each batch when it is built, so a
//!   learner can store raw values and normalize them with the statistics current at replay.
//!
//! Every push checks its input (lengths, finiteness, action range) and refuses bad data with a
//! [`BufferError`] that names it, storing nothing.

mod error;
mod replay;
mod rollout;
mod segments;
mod spec;

pub use error::{BufferError, Result};
pub use replay::{ReplayBatch, ReplayBuffer, Transition};
pub use rollout::{RolloutBatch, RolloutBuffer, RolloutStep};
pub use segments::{AsStored, Normalizer, Segment, SegmentBatch, SegmentReplay};
pub use spec::ActionSpec;
