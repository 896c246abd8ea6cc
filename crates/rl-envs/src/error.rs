//! The one error type of this crate.

use thiserror::Error;

/// Everything that can go wrong when building, resetting or stepping an environment.
///
/// Every variant names the problem in its message, so a user sees what to fix rather than a panic.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum EnvError {
    /// A discrete action index outside `0..n`.
    #[error("action {index} is out of range for Discrete({n}): valid actions are 0..{n}")]
    ActionOutOfRange {
        /// The index that was passed.
        index: usize,
        /// The number of actions.
        n: usize,
    },
    /// A continuous action vector of the wrong length.
    #[error("action has {got} components but the action space has shape [{expected}]")]
    ActionLength {
        /// Components passed.
        got: usize,
        /// Components the space has.
        expected: usize,
    },
    /// A vector env was given the wrong number of action values.
    #[error("{num_envs} envs need {expected} action values in all, got {got}")]
    VecActionLength {
        /// Values passed.
        got: usize,
        /// `num_envs` for discrete actions, `num_envs × action_dim` for continuous ones.
        expected: usize,
        /// Number of envs.
        num_envs: usize,
    },
    /// A continuous action with a NaN or infinite component.
    #[error("action component {index} is {value}: actions must be finite")]
    NonFiniteAction {
        /// Which component.
        index: usize,
        /// Its value.
        value: f32,
    },
    /// A discrete action given to a continuous env, or the other way round.
    #[error("{env} expects a {expected} action, got a {got} one")]
    ActionKind {
        /// The environment's name.
        env: String,
        /// `"discrete"` or `"continuous"`.
        expected: &'static str,
        /// What was passed.
        got: &'static str,
    },
    /// A continuous action outside the bounds of an env that does not clip.
    #[error("action component {index} is {value}, outside the action space [{low}, {high}]")]
    ActionOutOfBounds {
        /// Which component.
        index: usize,
        /// Its value.
        value: f32,
        /// Lower bound.
        low: f32,
        /// Upper bound.
        high: f32,
    },
    /// `step` was called before the first `reset`.
    #[error("step() called before reset(): reset the environment first")]
    ResetNeeded,
    /// A state vector of the wrong length or with a non-finite value was passed to `set_state`.
    #[error("invalid state for {env}: {reason}")]
    InvalidState {
        /// The environment's name.
        env: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The environment does not expose its internal state.
    #[error("{env} does not expose its internal state")]
    StateUnsupported {
        /// The environment's name.
        env: String,
    },
    /// The environment cannot save or restore a snapshot, or the snapshot does not fit it.
    #[error("snapshot of {env}: {reason}")]
    Snapshot {
        /// The environment's name.
        env: String,
        /// What went wrong.
        reason: String,
    },
    /// An id `make` does not know.
    #[error("unknown environment id {id:?}; registered ids: {} (register your own with rl_envs::register)", known.join(", "))]
    UnknownEnv {
        /// The id that was asked for.
        id: String,
        /// Every id `make` accepts.
        known: Vec<String>,
    },
    /// [`register`](crate::register) was given an id that is already registered.
    #[error("environment id {id:?} is already registered")]
    AlreadyRegistered {
        /// The id.
        id: String,
    },
    /// The engine behind an environment (a Python interpreter, a simulator) failed; `message`
    /// is its own.
    #[error("{env}: {message}")]
    Backend {
        /// The environment's id.
        env: String,
        /// The engine's message (a Python exception with its type, say).
        message: String,
    },
    /// The environment does not implement [`Env::snapshot`](crate::Env::snapshot) /
    /// [`Env::restore`](crate::Env::restore) (the trait's default).
    #[error("{env} does not support snapshots (Env::snapshot / Env::restore)")]
    SnapshotUnsupported {
        /// The environment's name.
        env: String,
    },
    /// An observation or reward that is not finite, with the environment step it came from
    /// (counted over all envs of a vector env).
    #[error("{what} is {value} at environment step {step}")]
    NonFinite {
        /// What was not finite (`observation component 1`, `reward of env 0`).
        what: String,
        /// The value.
        value: f64,
        /// The environment step.
        step: u64,
    },
    /// An environment a learner cannot train on (its observation or action space), named.
    #[error("{0}")]
    Unsupported(String),
    /// A space that cannot exist (bounds of different lengths, `low > high`, NaN bounds, `n = 0`, ...).
    #[error("invalid space: {0}")]
    InvalidSpace(String),
    /// A wrapper or vectorized env was built with settings that cannot work.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// [`check_env`](crate::check_env) found the environment breaking the contract.
    #[error("check_env({env}): {problem}")]
    CheckFailed {
        /// The environment's id.
        env: String,
        /// The broken rule.
        problem: String,
    },
    /// The simulation behind the environment became unstable (for example a physics engine
    /// reporting NaN or huge accelerations): the episode cannot continue.
    #[error("simulation of {env} became unstable: {reason}")]
    Simulation {
        /// The environment's id.
        env: String,
        /// What the simulator reported.
        reason: String,
    },
    /// The environment cannot draw itself ([`Env::render`](crate::Env::render)'s default).
    #[error("{env} cannot render frames (Env::render)")]
    RenderUnsupported {
        /// The environment's name.
        env: String,
    },
    /// Drawing a frame failed.
    #[error("rendering {env}: {reason}")]
    Render {
        /// The environment's name.
        env: String,
        /// What went wrong.
        reason: String,
    },
    /// An observation with a NaN or infinite component (reported by wrappers that check).
    #[error("observation component {index} is {value}: observations must be finite")]
    NonFiniteObservation {
        /// Which component.
        index: usize,
        /// Its value.
        value: f32,
    },
}
