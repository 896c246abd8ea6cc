//! The one error type of this crate: its configuration errors, and what any learner can meet
//! ([`rl_nn::AgentError`]).

rl_nn::learner_error! {
    /// What can go wrong configuring, training, saving or loading PPO.
    PpoError, "PPO"
}

/// `Result` with [`PpoError`].
pub type Result<T> = std::result::Result<T, PpoError>;
