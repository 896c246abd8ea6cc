use super::{forward_env, inner_accessors};
use crate::env::{unwrap_snapshot, wrap_snapshot};
use crate::{Action, Env, EnvError, Step};

/// Ends episodes after `max_episode_steps` steps by setting `truncated` (Gymnasium's `TimeLimit`).
///
/// The step that reaches the limit returns `truncated = true`, whether or not it also terminated.
/// [`make`](crate::make) applies this wrapper with each environment's registered limit.
#[derive(Debug, Clone)]
pub struct TimeLimit<E> {
    env: E,
    max_episode_steps: usize,
    elapsed_steps: usize,
}

impl<E: Env> TimeLimit<E> {
    /// Wraps `env` with a limit of `max_episode_steps` (at least 1).
    pub fn new(env: E, max_episode_steps: usize) -> Result<Self, EnvError> {
        if max_episode_steps == 0 {
            return Err(EnvError::InvalidConfig(
                "TimeLimit needs max_episode_steps >= 1, got 0".into(),
            ));
        }
        Ok(Self {
            env,
            max_episode_steps,
            elapsed_steps: 0,
        })
    }

    /// Steps taken since the last reset.
    pub fn elapsed_steps(&self) -> usize {
        self.elapsed_steps
    }

    inner_accessors!();
}

impl<E: Env> Env for TimeLimit<E> {
    forward_env!(
        id,
        observation_space,
        action_space,
        state,
        set_state,
        render
    );

    fn reset(&mut self, seed: Option<u64>) -> Result<&[f32], EnvError> {
        self.elapsed_steps = 0;
        self.env.reset(seed)
    }

    fn step(&mut self, action: Action<'_>) -> Result<Step<'_>, EnvError> {
        let mut step = self.env.step(action)?;
        self.elapsed_steps += 1;
        if self.elapsed_steps >= self.max_episode_steps {
            step.truncated = true;
        }
        Ok(step)
    }

    fn max_episode_steps(&self) -> Option<usize> {
        Some(self.max_episode_steps)
    }

    fn snapshot(&self) -> Result<serde_json::Value, EnvError> {
        wrap_snapshot(&self.env, serde_json::json!(self.elapsed_steps))
    }

    fn restore(&mut self, snapshot: &serde_json::Value) -> Result<(), EnvError> {
        let (elapsed, inner) = unwrap_snapshot(self.env.id(), snapshot)?;
        self.env.restore(&inner)?;
        self.elapsed_steps = elapsed;
        Ok(())
    }
}
