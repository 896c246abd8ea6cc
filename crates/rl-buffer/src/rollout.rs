//! [`RolloutBuffer`]: one on-policy rollout of `num_envs` envs × `n_steps` steps (A2C).

use candle_core::{Device, Tensor};
use rl_math::returns::{Trajectory, gae};

use crate::spec::{Stored, check_finite, gather};
use crate::{ActionSpec, BufferError, Result};

/// One step of every env, as a vectorized env and the policy produce it (all env after env).
#[derive(Debug, Clone, Copy)]
pub struct RolloutStep<'a> {
    /// The observations the actions were chosen in, `num_envs × obs_dim`.
    pub obs: &'a [f32],
    /// The actions, `num_envs × action width`.
    pub actions: &'a [f32],
    /// The rewards.
    pub rewards: &'a [f64],
    /// `V(obs)` from the critic.
    pub values: &'a [f64],
    /// `log π(action | obs)` of the policy that acted.
    pub log_probs: &'a [f64],
    /// Whether each env's episode terminated at this step.
    pub terminated: &'a [bool],
    /// Whether each env's episode was truncated at this step.
    pub truncated: &'a [bool],
    /// `V(final observation)` for each env whose episode was truncated at this step (read only
    /// there: the critic's value of the true last observation, from which the return bootstraps).
    pub final_values: &'a [f64],
}

/// The rollout as tensors on a device, rows in time-major order (`t · num_envs + env`).
#[derive(Debug, Clone)]
pub struct RolloutBatch {
    /// `[T·N, obs_dim]` f32.
    pub obs: Tensor,
    /// `[T·N, dim]` f32 or `[T·N]` u32.
    pub actions: Tensor,
    /// `[T·N]` f32: `V(s_t)` when the step was taken.
    pub values: Tensor,
    /// `[T·N]` f32: `log π(a_t|s_t)` when the step was taken.
    pub log_probs: Tensor,
    /// `[T·N]` f32.
    pub advantages: Tensor,
    /// `[T·N]` f32: the value targets `A_t + V(s_t)`.
    pub returns: Tensor,
}

/// Storage for one rollout and the advantages computed from it.
///
/// Fill it with [`push`](Self::push) `n_steps` times, call
/// [`compute_returns_and_advantages`](Self::compute_returns_and_advantages) with the values of the
/// observations after the last step, then read it with [`batch`](Self::batch) and [`reset`](Self::reset).
#[derive(Debug, Clone)]
pub struct RolloutBuffer {
    n_steps: usize,
    num_envs: usize,
    obs_dim: usize,
    action: ActionSpec,
    obs: Vec<f32>,
    actions: Vec<f32>,
    rewards: Vec<f64>,
    values: Vec<f64>,
    log_probs: Vec<f64>,
    terminated: Vec<bool>,
    truncated: Vec<bool>,
    final_values: Vec<f64>,
    advantages: Vec<f64>,
    returns: Vec<f64>,
    steps: usize,
    computed: bool,
}

impl RolloutBuffer {
    /// An empty rollout of `n_steps` steps of `num_envs` envs.
    pub fn new(
        n_steps: usize,
        num_envs: usize,
        obs_dim: usize,
        action: ActionSpec,
    ) -> Result<Self> {
        for (what, n) in [
            ("n_steps", n_steps),
            ("number of envs", num_envs),
            ("observation dimension", obs_dim),
        ] {
            if n == 0 {
                return Err(BufferError::ZeroSize(what));
            }
        }
        action.check_valid()?;
        let rows = n_steps * num_envs;
        Ok(Self {
            n_steps,
            num_envs,
            obs_dim,
            action,
            obs: Vec::with_capacity(rows * obs_dim),
            actions: Vec::with_capacity(rows * action.width()),
            rewards: Vec::with_capacity(rows),
            values: Vec::with_capacity(rows),
            log_probs: Vec::with_capacity(rows),
            terminated: Vec::with_capacity(rows),
            truncated: Vec::with_capacity(rows),
            final_values: Vec::with_capacity(rows),
            advantages: Vec::new(),
            returns: Vec::new(),
            steps: 0,
            computed: false,
        })
    }

    /// Steps stored so far.
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// Whether `n_steps` steps are stored.
    pub fn is_full(&self) -> bool {
        self.steps == self.n_steps
    }

    /// Stores one step of every env.
    pub fn push(&mut self, s: RolloutStep<'_>) -> Result<()> {
        if self.is_full() {
            return Err(BufferError::Order(format!(
                "the rollout already holds its {} steps: reset it first",
                self.n_steps
            )));
        }
        let n = self.num_envs;
        check_finite("observations", s.obs, n * self.obs_dim)?;
        if s.actions.len() != n * self.action.width() {
            return Err(BufferError::Length {
                what: "actions",
                got: s.actions.len(),
                expected: n * self.action.width(),
            });
        }
        for a in s.actions.chunks(self.action.width()) {
            self.action.check(a)?;
        }
        for (what, v) in [
            ("rewards", s.rewards),
            ("values", s.values),
            ("log_probs", s.log_probs),
        ] {
            check_f64(what, v, n)?;
        }
        for (what, v) in [("terminated", s.terminated), ("truncated", s.truncated)] {
            if v.len() != n {
                return Err(BufferError::Length {
                    what,
                    got: v.len(),
                    expected: n,
                });
            }
        }
        if s.final_values.len() != n {
            return Err(BufferError::Length {
                what: "final_values",
                got: s.final_values.len(),
                expected: n,
            });
        }
        for i in (0..n).filter(|&i| s.truncated[i] && !s.terminated[i]) {
            if !s.final_values[i].is_finite() {
                return Err(BufferError::NonFinite {
                    what: "final_values",
                    index: i,
                    value: s.final_values[i],
                });
            }
        }
        self.obs.extend_from_slice(s.obs);
        self.actions.extend_from_slice(s.actions);
        self.rewards.extend_from_slice(s.rewards);
        self.values.extend_from_slice(s.values);
        self.log_probs.extend_from_slice(s.log_probs);
        self.terminated.extend_from_slice(s.terminated);
        self.truncated.extend_from_slice(s.truncated);
        self.final_values.extend_from_slice(s.final_values);
        self.steps += 1;
        self.computed = false;
        Ok(())
    }

    /// Computes GAE(λ) advantages and returns for every env (λ = 1: n-step returns), bootstrapping
    /// from `last_values` (`V` of each env's observation after the last step) and, inside the
    /// rollout, from `V(final observation)` wherever an episode was truncated.
    pub fn compute_returns_and_advantages(
        &mut self,
        last_values: &[f64],
        gamma: f64,
        gae_lambda: f64,
    ) -> Result<()> {
        if !self.is_full() {
            return Err(BufferError::Order(format!(
                "returns need the full rollout: {} of {} steps stored",
                self.steps, self.n_steps
            )));
        }
        let n = self.num_envs;
        check_f64("last_values", last_values, n)?;
        self.advantages = vec![0.0; self.n_steps * n];
        self.returns = vec![0.0; self.n_steps * n];
        for (env, &last_value) in last_values.iter().enumerate() {
            let rows: Vec<usize> = (0..self.n_steps).map(|t| t * n + env).collect();
            let col = |v: &[f64]| gather(v, 1, &rows);
            let values = col(&self.values);
            let final_values = col(&self.final_values);
            let truncated = gather(&self.truncated, 1, &rows);
            let next_values: Vec<f64> = (0..self.n_steps)
                .map(|t| {
                    if truncated[t] {
                        final_values[t]
                    } else if t + 1 < self.n_steps {
                        values[t + 1]
                    } else {
                        last_value
                    }
                })
                .collect();
            let traj = Trajectory {
                rewards: &col(&self.rewards),
                values: &values,
                next_values: &next_values,
                terminated: &gather(&self.terminated, 1, &rows),
                truncated: &truncated,
            };
            let adv = gae(&traj, gamma, gae_lambda)?;
            for (t, &row) in rows.iter().enumerate() {
                self.advantages[row] = adv.advantages[t];
                self.returns[row] = adv.returns[t];
            }
        }
        self.computed = true;
        Ok(())
    }

    /// Advantages, time-major (after [`compute_returns_and_advantages`](Self::compute_returns_and_advantages)).
    pub fn advantages(&self) -> &[f64] {
        &self.advantages
    }

    /// Value targets, time-major.
    pub fn returns(&self) -> &[f64] {
        &self.returns
    }

    /// The rollout and its advantages as tensors on `device`.
    pub fn batch(&self, device: &Device) -> Result<RolloutBatch> {
        if !self.computed {
            return Err(BufferError::Order(
                "compute returns and advantages before reading the batch".into(),
            ));
        }
        let rows = self.n_steps * self.num_envs;
        let f32s = |v: &[f64]| -> Result<Tensor> {
            Ok(Tensor::from_vec(
                v.iter().map(|&x| x as f32).collect::<Vec<f32>>(),
                rows,
                device,
            )?)
        };
        Ok(RolloutBatch {
            obs: Tensor::from_vec(self.obs.clone(), (rows, self.obs_dim), device)?,
            actions: self.action.tensor(self.actions.clone(), &[rows], device)?,
            values: f32s(&self.values)?,
            log_probs: f32s(&self.log_probs)?,
            advantages: f32s(&self.advantages)?,
            returns: f32s(&self.returns)?,
        })
    }

    /// Empties the rollout for the next one (keeps the allocations).
    pub fn reset(&mut self) {
        self.obs.clear();
        self.actions.clear();
        self.rewards.clear();
        self.values.clear();
        self.log_probs.clear();
        self.terminated.clear();
        self.truncated.clear();
        self.final_values.clear();
        self.steps = 0;
        self.computed = false;
    }
}

fn check_f64(what: &'static str, v: &[f64], n: usize) -> Result<()> {
    if v.len() != n {
        return Err(BufferError::Length {
            what,
            got: v.len(),
            expected: n,
        });
    }
    match v.iter().position(|x| !x.is_finite()) {
        Some(index) => Err(BufferError::NonFinite {
            what,
            index,
            value: v[index],
        }),
        None => Ok(()),
    }
}
