//! The one error type of this crate.

use thiserror::Error;

/// What can go wrong configuring, training, saving or loading SAC.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SacError {
    /// A malformed or invalid configuration (unknown key, wrong type, out-of-range value).
    #[error("SAC config: {0}")]
    Config(String),
    /// An environment SAC cannot work with (a discrete action space, an unbounded box, ...).
    #[error("{0}")]
    UnsupportedEnv(String),
    /// A NaN or infinity in training data or a loss, with where it appeared.
    #[error("{what} is {value} at {place}")]
    NonFinite {
        /// What was not finite (`"critic loss"`, `"observation"`, ...).
        what: String,
        /// The value.
        value: f64,
        /// Where: the step and gradient update.
        place: String,
    },
    /// A checkpoint that does not belong to this agent (another algorithm, another network shape).
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    /// From the environment.
    #[error(transparent)]
    Env(#[from] rl_envs::EnvError),
    /// From the replay buffer.
    #[error(transparent)]
    Buffer(#[from] rl_buffer::BufferError),
    /// From rl-math.
    #[error(transparent)]
    Math(#[from] rl_math::MathError),
    /// From the networks or checkpoint files.
    #[error(transparent)]
    Nn(#[from] rl_nn::NnError),
    /// From Candle.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}

/// `Result` with [`SacError`].
pub type Result<T> = std::result::Result<T, SacError>;
