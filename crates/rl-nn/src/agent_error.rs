//! [`AgentError`]: what can go wrong in any learner, which each learner's own error wraps beside
//! its configuration errors (named after the learner).

use thiserror::Error;

/// What can go wrong training, saving or loading any of the learners, beside their
/// configuration (each learner's error has its own `Config` variant naming it, and wraps this).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum AgentError {
    /// An environment the learner cannot work with, or a setting it cannot honour on it.
    #[error("{0}")]
    UnsupportedEnv(String),
    /// A NaN or infinity in training data or a loss, with where it appeared.
    #[error("{what} is {value} at {place}")]
    NonFinite {
        /// What was not finite (`"critic loss"`, `"observation"`, ...).
        what: String,
        /// The value.
        value: f64,
        /// Where: the step or gradient update.
        place: String,
    },
    /// A checkpoint that does not belong to this agent, or cannot be read back.
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    /// A broken invariant inside the learner: a bug, not a user's mistake.
    #[error("internal error in {learner} (a bug; please report it): {what}")]
    Internal {
        /// The learner.
        learner: &'static str,
        /// What was found broken.
        what: String,
    },
    /// From the environment.
    #[error(transparent)]
    Env(#[from] rl_envs::EnvError),
    /// From a buffer.
    #[error(transparent)]
    Buffer(#[from] rl_buffer::BufferError),
    /// From rl-math.
    #[error(transparent)]
    Math(#[from] rl_math::MathError),
    /// From the networks or checkpoint files.
    #[error(transparent)]
    Nn(#[from] crate::NnError),
    /// From Candle.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}

/// Declares a learner's error: `Config` (its message starting with `name`) and everything else
/// as an [`AgentError`], with `From` for each of the errors `?` meets in a learner (the ones an
/// `AgentError` wraps, and `AgentError` itself).
///
/// ```
/// rl_nn::learner_error! {
///     /// What can go wrong configuring, training, saving or loading PPO.
///     PpoError, "PPO"
/// }
/// let e: PpoError = rl_nn::AgentError::Checkpoint("written by sac".into()).into();
/// assert_eq!(e.to_string(), "checkpoint: written by sac");
/// assert_eq!(PpoError::Config("gamma".into()).to_string(), "PPO config: gamma");
/// ```
#[macro_export]
macro_rules! learner_error {
    ($(#[$doc:meta])* $name:ident, $learner:literal) => {
        $(#[$doc])*
        #[derive(Debug, thiserror::Error)]
        #[non_exhaustive]
        pub enum $name {
            /// A malformed or invalid configuration (unknown key, wrong type, out-of-range value).
            #[error("{learner} config: {0}", learner = $learner)]
            Config(String),
            /// Everything a learner can meet besides its configuration.
            #[error(transparent)]
            Agent(#[from] $crate::AgentError),
        }

        $crate::learner_error!(@from $name: $crate::__private::EnvError,
            $crate::__private::BufferError, $crate::__private::MathError, $crate::NnError,
            $crate::__private::CandleError);
    };
    (@from $name:ident: $($source:ty),*) => {
        $(
            impl From<$source> for $name {
                fn from(e: $source) -> Self {
                    Self::Agent(e.into())
                }
            }
        )*
    };
}
