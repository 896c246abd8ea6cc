use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use super::{forward_env, inner_accessors};
use crate::env::{unwrap_snapshot, wrap_snapshot};
use crate::{Action, Env, EnvError, Step};

/// Return and length of one finished episode.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EpisodeStats {
    /// Sum of the (unnormalized, undiscounted) rewards.
    pub episode_return: f64,
    /// Number of steps.
    pub length: usize,
}

/// Records the return and length of every episode (Gymnasium's `RecordEpisodeStatistics`).
///
/// After a step that ends an episode, [`finished`](Self::finished) holds that episode's statistics
/// until the next step or reset; the last `capacity` episodes stay in [`recent`](Self::recent).
/// Wrap it inside any reward-changing wrapper to record the task's true return.
#[derive(Debug, Clone)]
pub struct RecordEpisodeStatistics<E> {
    env: E,
    episode_return: f64,
    length: usize,
    finished: Option<EpisodeStats>,
    recent: VecDeque<EpisodeStats>,
    capacity: usize,
    total_episodes: u64,
}

impl<E: Env> RecordEpisodeStatistics<E> {
    /// Keeps the last 100 episodes.
    pub fn new(env: E) -> Self {
        Self::with_capacity(env, 100)
    }

    /// Keeps the last `capacity` episodes.
    pub fn with_capacity(env: E, capacity: usize) -> Self {
        Self {
            env,
            episode_return: 0.0,
            length: 0,
            finished: None,
            recent: VecDeque::with_capacity(capacity),
            capacity,
            total_episodes: 0,
        }
    }

    /// The episode the last step ended, if it ended one.
    pub fn finished(&self) -> Option<EpisodeStats> {
        self.finished
    }

    /// The most recent finished episodes, oldest first.
    pub fn recent(&self) -> &VecDeque<EpisodeStats> {
        &self.recent
    }

    /// Episodes finished since this wrapper was created.
    pub fn total_episodes(&self) -> u64 {
        self.total_episodes
    }

    /// Return and length of the episode in progress.
    pub fn current(&self) -> EpisodeStats {
        EpisodeStats {
            episode_return: self.episode_return,
            length: self.length,
        }
    }

    inner_accessors!();
}

impl<E: Env> Env for RecordEpisodeStatistics<E> {
    forward_env!(
        id,
        observation_space,
        action_space,
        state,
        set_state,
        max_episode_steps,
        render
    );

    fn reset(&mut self, seed: Option<u64>) -> Result<&[f32], EnvError> {
        self.episode_return = 0.0;
        self.length = 0;
        self.finished = None;
        self.env.reset(seed)
    }

    fn step(&mut self, action: Action<'_>) -> Result<Step<'_>, EnvError> {
        let step = self.env.step(action)?;
        self.episode_return += step.reward;
        self.length += 1;
        self.finished = None;
        if step.done() {
            let stats = EpisodeStats {
                episode_return: self.episode_return,
                length: self.length,
            };
            self.finished = Some(stats);
            self.total_episodes += 1;
            if self.capacity > 0 {
                if self.recent.len() == self.capacity {
                    self.recent.pop_front();
                }
                self.recent.push_back(stats);
            }
            self.episode_return = 0.0;
            self.length = 0;
        }
        Ok(step)
    }

    fn snapshot(&self) -> Result<serde_json::Value, EnvError> {
        let own = Counters {
            episode_return: self.episode_return,
            length: self.length,
            finished: self.finished,
            recent: self.recent.iter().copied().collect(),
            total_episodes: self.total_episodes,
        };
        let own = serde_json::to_value(own).map_err(|e| EnvError::Snapshot {
            env: self.env.id().to_owned(),
            reason: e.to_string(),
        })?;
        wrap_snapshot(&self.env, own)
    }

    fn restore(&mut self, snapshot: &serde_json::Value) -> Result<(), EnvError> {
        let (own, inner): (Counters, _) = unwrap_snapshot(self.env.id(), snapshot)?;
        self.env.restore(&inner)?;
        self.episode_return = own.episode_return;
        self.length = own.length;
        self.finished = own.finished;
        self.recent = own.recent.into_iter().collect();
        self.total_episodes = own.total_episodes;
        Ok(())
    }
}

/// The counters a snapshot of [`RecordEpisodeStatistics`] holds.
#[derive(Serialize, Deserialize)]
struct Counters {
    episode_return: f64,
    length: usize,
    finished: Option<EpisodeStats>,
    recent: Vec<EpisodeStats>,
    total_episodes: u64,
}
