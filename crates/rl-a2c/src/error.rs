//! The one error type of this crate: its configuration errors, and what any learner can meet
//! ([`rl_nn::AgentError`]).

rl_nn::learner_error! {
    /// What can go wrong configuring, training, saving or loading A2C.
    A2cError, "A2C"
}

/// `Result` with [`A2cError`].
pub type Result<T> = std::result::Result<T, A2cError>;
