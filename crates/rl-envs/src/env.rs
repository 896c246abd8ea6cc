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

    /// A picture of the current state (Gymnasium's `render()` with `render_mode="rgb_array"`).
    /// The classic-control envs draw what Gymnasium draws; the default is
    /// [`EnvError::RenderUnsupported`]. Before the first `reset` there is nothing to draw
    /// ([`EnvError::ResetNeeded`]).
    fn render(&self) -> Result<crate::Frame, EnvError> {
        Err(EnvError::RenderUnsupported {
            env: self.id().to_owned(),
        })
    }

    /// The step limit a [`TimeLimit`](crate::wrappers::TimeLimit) in the wrapper stack imposes, if any.
    fn max_episode_steps(&self) -> Option<usize> {
        None
    }

    /// Everything the environment (and every wrapper around it) needs to continue exactly where it
    /// is: state, random generator, counters. Checkpoints store it so a resumed run is identical.
    ///
    /// The default returns [`EnvError::SnapshotUnsupported`]: trainers then checkpoint without
    /// the env and a resumed run starts fresh episodes (not bit for bit). An env whose state is
    /// one serializable struct can use [`snapshot_of`](crate::snapshot_of) and
    /// [`restore_from`](crate::restore_from).
    fn snapshot(&self) -> Result<Snapshot, EnvError> {
        Err(EnvError::SnapshotUnsupported {
            env: self.id().to_owned(),
        })
    }

    /// Puts the environment back where [`snapshot`](Env::snapshot) found it.
    fn restore(&mut self, snapshot: &Snapshot) -> Result<(), EnvError> {
        let _ = snapshot;
        Err(EnvError::SnapshotUnsupported {
            env: self.id().to_owned(),
        })
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
    fn render(&self) -> Result<crate::Frame, EnvError> {
        (**self).render()
    }
    fn snapshot(&self) -> Result<serde_json::Value, EnvError> {
        (**self).snapshot()
    }
    fn restore(&mut self, snapshot: &serde_json::Value) -> Result<(), EnvError> {
        (**self).restore(snapshot)
    }
}

/// What [`Env::snapshot`] returns: a JSON value (checkpoints store it as JSON).
pub type Snapshot = serde_json::Value;

/// [`Env::snapshot`] for an env whose whole state is one serializable value (usually `self`):
/// the value, tagged with the env's id so that another env's snapshot is refused on restore.
///
/// ```
/// use rl_envs::{Env, classic::CartPole};
///
/// let mut env = CartPole::new();
/// env.reset(Some(0))?;
/// let snapshot = rl_envs::snapshot_of(env.id(), &env)?;
/// let copy: CartPole = rl_envs::restore_from(env.id(), &snapshot)?;
/// assert_eq!(copy.state(), env.state());
/// # Ok::<(), rl_envs::EnvError>(())
/// ```
pub fn snapshot_of<T: serde::Serialize>(id: &str, state: &T) -> Result<Snapshot, EnvError> {
    let data = serde_json::to_value(state).map_err(|e| EnvError::Snapshot {
        env: id.to_owned(),
        reason: e.to_string(),
    })?;
    Ok(serde_json::json!({ "env": id, "data": data }))
}

/// The value [`snapshot_of`]`(id, ..)` stored, for [`Env::restore`]; a snapshot of another env
/// (another id) or of another shape is an error.
pub fn restore_from<T: serde::de::DeserializeOwned>(
    id: &str,
    snapshot: &Snapshot,
) -> Result<T, EnvError> {
    let err = |reason: String| EnvError::Snapshot {
        env: id.to_owned(),
        reason,
    };
    if snapshot.get("env").and_then(|v| v.as_str()) != Some(id) {
        return Err(err(format!(
            "it was taken from {}",
            snapshot.get("env").unwrap_or(&serde_json::Value::Null)
        )));
    }
    let data = snapshot.get("data").cloned().unwrap_or_default();
    serde_json::from_value(data).map_err(|e| err(e.to_string()))
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

/// `snapshot` and `restore` for an env whose whole struct is (de)serializable: the snapshot is the
/// struct itself, tagged with the env's id so another env's snapshot is refused.
macro_rules! snapshot_via_serde {
    () => {
        fn snapshot(&self) -> Result<$crate::Snapshot, $crate::EnvError> {
            $crate::snapshot_of(self.id(), self)
        }

        fn restore(&mut self, snapshot: &$crate::Snapshot) -> Result<(), $crate::EnvError> {
            *self = $crate::restore_from(self.id(), snapshot)?;
            Ok(())
        }
    };
}
pub(crate) use snapshot_via_serde;

/// The inner env's snapshot inside a wrapper's, with the wrapper's own fields.
pub(crate) fn wrap_snapshot<E: Env + ?Sized>(
    inner: &E,
    own: serde_json::Value,
) -> Result<serde_json::Value, EnvError> {
    Ok(serde_json::json!({ "wrapper": own, "inner": inner.snapshot()? }))
}

/// Splits a wrapper snapshot into its own part (parsed as `T`) and the inner env's snapshot.
pub(crate) fn unwrap_snapshot<T: serde::de::DeserializeOwned>(
    env: &str,
    snapshot: &serde_json::Value,
) -> Result<(T, serde_json::Value), EnvError> {
    let err = |reason: String| EnvError::Snapshot {
        env: env.to_owned(),
        reason,
    };
    let own = snapshot
        .get("wrapper")
        .cloned()
        .ok_or_else(|| err("not a wrapper snapshot".into()))?;
    let inner = snapshot
        .get("inner")
        .cloned()
        .ok_or_else(|| err("no inner snapshot".into()))?;
    let own = serde_json::from_value(own).map_err(|e| err(e.to_string()))?;
    Ok((own, inner))
}
