//! The one error type of this crate.

use thiserror::Error;

/// What can go wrong storing or sampling experience, each case naming the problem.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum BufferError {
    /// A buffer of capacity 0 (or a segment length of 0) was requested.
    #[error("{0} must be at least 1")]
    ZeroSize(&'static str),
    /// A value of the wrong length was pushed (`what` says which: observation, action, ...).
    #[error("{what} has {got} values, expected {expected}")]
    Length {
        /// Which field.
        what: &'static str,
        /// Values passed.
        got: usize,
        /// Values expected.
        expected: usize,
    },
    /// A NaN or infinity was pushed.
    #[error("{what}[{index}] is {value}: stored experience must be finite")]
    NonFinite {
        /// Which field.
        what: &'static str,
        /// Which component.
        index: usize,
        /// The value.
        value: f64,
    },
    /// A discrete action that is not an index in `0..n`.
    #[error("discrete action {value} is not an index in 0..{n}")]
    ActionOutOfRange {
        /// The value pushed.
        value: f64,
        /// The number of actions.
        n: usize,
    },
    /// The requested storage cannot be allocated.
    #[error("cannot allocate storage for {rows} rows of {width} values")]
    TooLarge {
        /// Rows (transitions or steps) requested.
        rows: usize,
        /// Values per row.
        width: usize,
    },
    /// More was asked for than is stored.
    #[error("cannot sample {requested} from a buffer holding {stored}")]
    NotEnough {
        /// Samples asked for.
        requested: usize,
        /// Items stored.
        stored: usize,
    },
    /// A buffer that would not fit in this machine's memory.
    #[error("{0}")]
    Memory(String),
    /// An operation out of order (computing returns of an unfilled rollout, pushing into a full one).
    #[error("{0}")]
    Order(String),
    /// An error from rl-math (returns computation, random draws, reading or writing files:
    /// `MathError::Io` and `MathError::Corrupt` name the file and what is wrong with it).
    #[error(transparent)]
    Math(#[from] rl_math::MathError),
    /// An error from Candle while building tensors.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}

/// `Result` with [`BufferError`].
pub type Result<T> = std::result::Result<T, BufferError>;
