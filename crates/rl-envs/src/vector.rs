//! [`SyncVectorEnv`]: N copies of an environment stepped in lockstep, with autoreset.

use crate::{Action, BoxedEnv, Env, EnvError, Space, factory};

/// Actions for every env of a [`SyncVectorEnv`], env after env.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum VecAction<'a> {
    /// One index per env.
    Discrete(&'a [usize]),
    /// `num_envs × action_dim` values, env after env.
    Continuous(&'a [f32]),
}

/// What [`SyncVectorEnv::step`] returns, env after env.
///
/// An env whose episode ended on this step has already been reset: its row of `observations` is
/// the first observation of the next episode, and [`final_observation`](Self::final_observation)
/// gives the true last observation of the finished one (SB3's `terminal_observation`), from which a
/// learner bootstraps a truncated episode.
#[derive(Debug, Clone, Copy)]
pub struct VecStep<'a> {
    /// `num_envs × obs_dim` observations, env after env.
    pub observations: &'a [f32],
    /// One reward per env.
    pub rewards: &'a [f64],
    /// Whether each env's episode terminated on this step.
    pub terminated: &'a [bool],
    /// Whether each env's episode was truncated on this step.
    pub truncated: &'a [bool],
    pub(crate) final_observations: &'a [f32],
    pub(crate) obs_dim: usize,
}

impl<'a> VecStep<'a> {
    /// Number of envs.
    pub fn num_envs(&self) -> usize {
        self.rewards.len()
    }

    /// The observation env `i` returned (after an autoreset, the new episode's first one).
    pub fn observation(&self, i: usize) -> &'a [f32] {
        &self.observations[i * self.obs_dim..(i + 1) * self.obs_dim]
    }

    /// Whether env `i`'s episode ended on this step.
    pub fn done(&self, i: usize) -> bool {
        self.terminated[i] || self.truncated[i]
    }

    /// The last observation of the episode env `i` finished on this step, or `None` if it did not.
    pub fn final_observation(&self, i: usize) -> Option<&'a [f32]> {
        self.done(i)
            .then(|| &self.final_observations[i * self.obs_dim..(i + 1) * self.obs_dim])
    }
}

/// Steps `N` environments one after another on the calling thread and resets each one as soon as
/// its episode ends (SB3's `DummyVecEnv` semantics).
///
/// `reset(Some(seed))` seeds env `i` with `seed + i`; autoresets continue each env's own generator.
#[derive(Debug)]
pub struct SyncVectorEnv<E = BoxedEnv> {
    envs: Vec<E>,
    obs_dim: usize,
    act_dim: usize,
    observations: Vec<f32>,
    final_observations: Vec<f32>,
    rewards: Vec<f64>,
    terminated: Vec<bool>,
    truncated: Vec<bool>,
    has_reset: bool,
}

impl SyncVectorEnv<BoxedEnv> {
    /// `num_envs` copies of [`make`](crate::make)`(id)`: any registered id.
    pub fn make(id: &str, num_envs: usize) -> Result<Self, EnvError> {
        let make = factory(id)?;
        Self::new((0..num_envs).map(|_| make()).collect::<Result<_, _>>()?)
    }

    /// `num_envs` envs, each built by a call to `new` (a user's env constructor, say), boxed.
    ///
    /// ```
    /// use rl_envs::{SyncVectorEnv, classic::CartPole, wrappers::TimeLimit};
    ///
    /// let venv = SyncVectorEnv::from_fn(4, || TimeLimit::new(CartPole::new(), 500))?;
    /// assert_eq!(venv.num_envs(), 4);
    /// # Ok::<(), rl_envs::EnvError>(())
    /// ```
    pub fn from_fn<E: Env + Send + 'static>(
        num_envs: usize,
        mut new: impl FnMut() -> Result<E, EnvError>,
    ) -> Result<Self, EnvError> {
        Self::new(
            (0..num_envs)
                .map(|_| new().map(|e| Box::new(e) as BoxedEnv))
                .collect::<Result<_, _>>()?,
        )
    }
}

impl<E: Env> SyncVectorEnv<E> {
    /// Vectorizes `envs`: at least one, all with the same observation and action spaces.
    pub fn new(envs: Vec<E>) -> Result<Self, EnvError> {
        let first = envs
            .first()
            .ok_or_else(|| EnvError::InvalidConfig("a vector env needs at least one env".into()))?;
        let (obs_space, act_space) = (first.observation_space(), first.action_space());
        if let Some(i) = envs
            .iter()
            .position(|e| e.observation_space() != obs_space || e.action_space() != act_space)
        {
            return Err(EnvError::InvalidConfig(format!(
                "env {i} ({}) has different spaces from env 0 ({})",
                envs[i].id(),
                first.id()
            )));
        }
        let obs_dim = obs_space.flat_dim();
        let act_dim = match act_space {
            Space::Discrete(_) => 1,
            Space::Box(b) => b.dim(),
        };
        let n = envs.len();
        Ok(Self {
            envs,
            obs_dim,
            act_dim,
            observations: vec![0.0; n * obs_dim],
            final_observations: vec![0.0; n * obs_dim],
            rewards: vec![0.0; n],
            terminated: vec![false; n],
            truncated: vec![false; n],
            has_reset: false,
        })
    }

    /// Number of envs.
    pub fn num_envs(&self) -> usize {
        self.envs.len()
    }

    /// Components of one env's observation.
    pub fn obs_dim(&self) -> usize {
        self.obs_dim
    }

    /// The observation space of each env.
    pub fn observation_space(&self) -> &Space {
        self.envs[0].observation_space()
    }

    /// The action space of each env.
    pub fn action_space(&self) -> &Space {
        self.envs[0].action_space()
    }

    /// The envs, to read wrapper state such as episode statistics.
    pub fn envs(&self) -> &[E] {
        &self.envs
    }

    /// The envs, mutably.
    pub fn envs_mut(&mut self) -> &mut [E] {
        &mut self.envs
    }

    /// The latest observations, `num_envs × obs_dim`.
    pub fn observations(&self) -> &[f32] {
        &self.observations
    }

    /// Every env's snapshot and the latest observations (see [`Env::snapshot`]).
    pub fn snapshot(&self) -> Result<serde_json::Value, EnvError> {
        let envs = self
            .envs
            .iter()
            .map(Env::snapshot)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(serde_json::json!({
            "envs": envs,
            "observations": self.observations,
            "has_reset": self.has_reset,
        }))
    }

    /// Puts every env back where [`snapshot`](Self::snapshot) found it.
    pub fn restore(&mut self, snapshot: &serde_json::Value) -> Result<(), EnvError> {
        let err = |reason: String| EnvError::Snapshot {
            env: format!("vector of {}", self.envs[0].id()),
            reason,
        };
        let envs = snapshot["envs"]
            .as_array()
            .filter(|e| e.len() == self.envs.len())
            .ok_or_else(|| err(format!("expected {} env snapshots", self.envs.len())))?;
        let observations: Vec<f32> = serde_json::from_value(snapshot["observations"].clone())
            .map_err(|e| err(e.to_string()))?;
        if observations.len() != self.observations.len() {
            return Err(err("observations of another size".into()));
        }
        for (env, snap) in self.envs.iter_mut().zip(envs) {
            env.restore(snap)?;
        }
        self.observations = observations;
        self.has_reset = snapshot["has_reset"].as_bool().unwrap_or(false);
        Ok(())
    }

    /// Resets every env (env `i` with `seed + i` if a seed is given) and returns the observations.
    pub fn reset(&mut self, seed: Option<u64>) -> Result<&[f32], EnvError> {
        let d = self.obs_dim;
        for (i, env) in self.envs.iter_mut().enumerate() {
            let obs = env.reset(seed.map(|s| s.wrapping_add(i as u64)))?;
            self.observations[i * d..(i + 1) * d].copy_from_slice(obs);
        }
        self.has_reset = true;
        Ok(&self.observations)
    }

    /// Steps every env with its action, resetting those whose episode ends.
    pub fn step(&mut self, actions: VecAction<'_>) -> Result<VecStep<'_>, EnvError> {
        if !self.has_reset {
            return Err(EnvError::ResetNeeded);
        }
        let num_envs = self.envs.len();
        let (got, expected) = match actions {
            VecAction::Discrete(a) => (a.len(), num_envs),
            VecAction::Continuous(a) => (a.len(), num_envs * self.act_dim),
        };
        if got != expected {
            return Err(EnvError::VecActionLength {
                got,
                expected,
                num_envs,
            });
        }
        let d = self.obs_dim;
        for (i, env) in self.envs.iter_mut().enumerate() {
            let action = match actions {
                VecAction::Discrete(a) => Action::Discrete(a[i]),
                VecAction::Continuous(a) => {
                    Action::Continuous(&a[i * self.act_dim..(i + 1) * self.act_dim])
                }
            };
            let step = env.step(action)?;
            self.rewards[i] = step.reward;
            self.terminated[i] = step.terminated;
            self.truncated[i] = step.truncated;
            let row = i * d..(i + 1) * d;
            if step.done() {
                self.final_observations[row.clone()].copy_from_slice(step.observation);
                let obs = env.reset(None)?;
                self.observations[row].copy_from_slice(obs);
            } else {
                self.observations[row].copy_from_slice(step.observation);
            }
        }
        Ok(VecStep {
            observations: &self.observations,
            rewards: &self.rewards,
            terminated: &self.terminated,
            truncated: &self.truncated,
            final_observations: &self.final_observations,
            obs_dim: d,
        })
    }
}
