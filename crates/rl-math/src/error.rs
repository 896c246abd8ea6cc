//! The one error type of this crate.

use thiserror::Error;

/// What can go wrong in rl-math: a Candle error, or input that cannot be used, named.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum MathError {
    /// An error from Candle (shape mismatch inside an op, unsupported dtype, device error, ...).
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
    /// Inputs whose lengths or shapes do not fit together.
    #[error("shape mismatch: {0}")]
    Shape(String),
    /// A NaN or infinity where a finite number is required (a loss, a gradient norm, ...).
    #[error("{what} is {value}: expected a finite number")]
    NonFinite {
        /// What was not finite.
        what: String,
        /// The value found.
        value: f64,
    },
    /// An argument outside its valid range (a negative learning rate, `gamma > 1`, ...).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A file that cannot be loaded: truncated, corrupted, or of another kind or shape.
    #[error("{path} cannot be loaded: {reason}")]
    Corrupt {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// Saved state that does not fit what it is loaded into (missing or extra names, other shapes).
    #[error("state does not match: {0}")]
    StateMismatch(String),
}

/// `Result` with [`MathError`].
pub type Result<T> = std::result::Result<T, MathError>;
