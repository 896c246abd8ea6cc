//! The one error type of this crate.

use thiserror::Error;

/// What can go wrong configuring, training, saving or loading ACER.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum AcerError {
    /// A malformed or invalid configuration (unknown key, wrong type, out-of-range value).
    #[error("ACER config: {0}")]
    Config(String),
    /// An environment ACER cannot work with.
    #[error("{0}")]
    UnsupportedEnv(String),
    /// A NaN or infinity in training data or a loss, with where it appeared.
    #[error("{what} is {value} at {place}")]
    NonFinite {
        /// What was not finite.
        what: String,
        /// The value.
        value: f64,
        /// Where.
        place: String,
    },
    /// A checkpoint that does not belong to this agent.
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    /// From the environment.
    #[error(transparent)]
    Env(#[from] rl_envs::EnvError),
    /// From the replay memory.
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

/// `Result` with [`AcerError`].
pub type Result<T> = std::result::Result<T, AcerError>;
