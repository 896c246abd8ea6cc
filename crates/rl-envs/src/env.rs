//! The [`Env`] trait: Gymnasium's `reset` / `step` API with typed actions.

use crate::{EnvError, Space};

/// An action passed to [`Env::step`]: an index for a discrete action space, a vector for a box.
///
/// Borrowed so that stepping allocates nothing; [`OwnedAction`](crate::OwnedAction) holds one by value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Action<'a> {
    /// An index into a [`Discrete`](crate::Discrete) space.
    Discrete(usize),
    /// A vector in a [`BoxSpace`](crate::BoxSpace), flat.
    Continuous(&'a [f32]),
}

impl<'a> Action<'a> {
    /// `"discrete"` or `"continuous"`, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Action::Discrete(_) => "discrete",
            Action::Continuous(_) => "continuous",
        }
    }

    /// The index of a discrete action checked against `Discrete(n)`, or the error naming the problem.
    pub fn expect_discrete(self, env: &str, n: usize) -> Result<usize, EnvError> {
        match self {
            Action::Discrete(index) if index < n => Ok(index),
            Action::Discrete(index) => Err(EnvError::ActionOutOfRange { index, n }),
            Action::Continuous(_) => Err(EnvError::ActionKind {
                env: env.to_owned(),
                expected: "discrete",
                got: "continuous",
            }),
        }
    }

    /// The vector of a continuous action checked to have `dim` finite components, or the error
    /// naming the problem. Bounds are not checked: each environment treats out-of-bounds values
    /// the way its Gymnasium original does (most clip).
    pub fn expect_continuous(self, env: &str, dim: usize) -> Result<&'a [f32], EnvError> {
        match self {
            Action::Continuous(x) => {
                if x.len() != dim {
                    return Err(EnvError::ActionLength {
                        got: x.len(),
                        expected: dim,
                    });
                }
                match x.iter().position(|v| !v.is_finite()) {
                    Some(index) => Err(EnvError::NonFiniteAction {
                        index,
                        value: x[index],
                    }),
                    None => Ok(x),
                }
            }
            Action::Discrete(_) => Err(EnvError::ActionKind {
                env: env.to_owned(),
                expected: "continuous",
                got: "discrete",
            }),
        }
    }
}

/// What [`Env::step`] returns: Gymnasium's `(observation, reward, terminated, truncated)`.
///
/// The observation is borrowed from the environment; copy it (`to_vec`) to keep it past the next call.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step<'a> {
    /// The observation after the step.
    pub observation: &'a [f32],
    /// The reward for the step.
    pub reward: f64,
    /// The episode reached a terminal state of the task (do not bootstrap from `observation`).
    pub terminated: bool,
    /// The episode was cut short from outside the task, by a time limit (bootstrap from `observation`).
    pub truncated: bool,
}

impl Step<'_> {
    /// `terminated || truncated`: the episode is over and the env needs a reset.
    pub fn done(&self) -> bool {
        self.terminated || self.truncated
    }
}

/// A reinforcement-learning environment with Gymnasium's semantics.
///
/// `reset` starts an episode and returns the first observation; `step` advances it.
/// Observations are flat `f32` vectors (Gymnasium's float32 arrays) described by
/// [`observation_space`](Env::observation_space); rewards are `f64` (Python floats).
///
/// Seeding follows Gymnasium: `reset(Some(seed))` reseeds the environment's own generator,
/// `reset(None)` continues with it (an env that was never seeded seeds itself from the OS).
pub trait Env {
    /// A name for messages, such as the Gymnasium id (`"CartPole-v1"`).
    fn id(&self) -> &str;

    /// The space observations live in.
    fn observation_space(&self) -> &Space;

    /// The space actions must come from.
    fn action_space(&self) -> &Space;

    /// Starts a new episode and returns its first observation.
    fn reset(&mut self, seed: Option<u64>) -> Result<&[f32], EnvError>;

    /// Applies `action` and returns what happened. A discrete index out of range, a vector of the
    /// wrong length, a non-finite component or the wrong kind of action is an error.
    fn step(&mut self, action: Action<'_>) -> Result<Step<'_>, EnvError>;

    /// The simulator's internal state (what Gymnasium keeps in `env.unwrapped.state`), if the
    /// environment exposes one and has been reset.
    fn state(&self) -> Option<&[f64]> {
        None
    }

    /// Replaces the internal state (as Gymnasium's `env.unwrapped.state = ...` does) and returns the
    /// observation of the new state, so an episode can start from a chosen state: call `reset`
    /// first, then `set_state`.
    fn set_state(&mut self, state: &[f64]) -> Result<&[f32], EnvError> {
        let _ = state;
        Err(EnvError::StateUnsupported {
            env: self.id().to_owned(),
        })
    }

    /// The step limit a [`TimeLimit`](crate::wrappers::TimeLimit) in the wrapper stack imposes, if any.
    fn max_episode_steps(&self) -> Option<usize> {
        None
    }
}

impl<E: Env + ?Sized> Env for Box<E> {
    fn id(&self) -> &str {
        (**self).id()
    }
    fn observation_space(&self) -> &Space {
        (**self).observation_space()
    }
    fn action_space(&self) -> &Space {
        (**self).action_space()
    }
    fn reset(&mut self, seed: Option<u64>) -> Result<&[f32], EnvError> {
        (**self).reset(seed)
    }
    fn step(&mut self, action: Action<'_>) -> Result<Step<'_>, EnvError> {
        (**self).step(action)
    }
    fn state(&self) -> Option<&[f64]> {
        (**self).state()
    }
    fn set_state(&mut self, state: &[f64]) -> Result<&[f32], EnvError> {
        (**self).set_state(state)
    }
    fn max_episode_steps(&self) -> Option<usize> {
        (**self).max_episode_steps()
    }
}

/// A type-erased environment, as [`make`](crate::make) returns.
pub type BoxedEnv = Box<dyn Env + Send>;

impl std::fmt::Debug for dyn Env + Send {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Env({})", self.id())
    }
}

/// Checks a state vector passed to `set_state`: the right length and finite.
pub(crate) fn check_state<const N: usize>(env: &str, state: &[f64]) -> Result<[f64; N], EnvError> {
    let s: [f64; N] = state.try_into().map_err(|_| EnvError::InvalidState {
        env: env.to_owned(),
        reason: format!("expected {N} values, got {}", state.len()),
    })?;
    if let Some(i) = s.iter().position(|v| !v.is_finite()) {
        return Err(EnvError::InvalidState {
            env: env.to_owned(),
            reason: format!("value {i} is {}", s[i]),
        });
    }
    Ok(s)
}
