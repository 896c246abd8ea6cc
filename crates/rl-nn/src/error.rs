//! The one error type of this crate.

use thiserror::Error;

/// What can go wrong building networks or reading and writing checkpoints.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum NnError {
    /// An error from Candle.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
    /// An error from rl-math (initialization, files).
    #[error(transparent)]
    Math(#[from] rl_math::MathError),
    /// A network that cannot be built (no layers, a zero-width layer, a duplicate parameter name).
    #[error("invalid network: {0}")]
    Invalid(String),
    /// An input of the wrong shape (observations of the wrong width, say).
    #[error("{0}")]
    Shape(String),
    /// Saved parameters that do not fit the network they are loaded into.
    #[error("checkpoint does not fit: {0}")]
    Mismatch(String),
    /// An agent's checkpoint this agent cannot resume from: written by another learner, for
    /// other shapes, or with another configuration; the message names the difference.
    #[error("checkpoint: {0}")]
    NotResumable(String),
    /// A checkpoint directory or file that is missing, unreadable or corrupt.
    #[error("checkpoint {path}: {reason}")]
    Checkpoint {
        /// The file or folder.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

/// `Result` with [`NnError`].
pub type Result<T> = std::result::Result<T, NnError>;
