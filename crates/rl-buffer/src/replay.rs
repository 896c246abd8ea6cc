//! [`ReplayBuffer`]: a fixed-capacity ring of transitions for off-policy learners (SAC).

use std::path::Path;

use candle_core::{Device, Tensor};
use rl_math::SeededRng;
use serde::{Deserialize, Serialize};

use crate::spec::{Stored, check_finite, check_scalar, flag_tensor, gather};
use crate::{ActionSpec, BufferError, Result};
use rl_math::persist::{Column, Loaded, save};

/// One transition to store. `next_obs` is the true observation after the step, also when the
/// episode was truncated there (a vectorized env's `final_observation`, not the reset one).
#[derive(Debug, Clone, Copy)]
pub struct Transition<'a> {
    /// `s_t`.
    pub obs: &'a [f32],
    /// `a_t` (a discrete action is one value holding the index).
    pub action: &'a [f32],
    /// `r_t`.
    pub reward: f64,
    /// `s_{t+1}`.
    pub next_obs: &'a [f32],
    /// The episode terminated at this step (no bootstrap from `next_obs`).
    pub terminated: bool,
    /// The episode was truncated at this step (bootstrap from `next_obs`).
    pub truncated: bool,
}

/// A sampled batch of `B` transitions.
#[derive(Debug, Clone)]
pub struct ReplayBatch {
    /// `[B, obs_dim]` f32.
    pub obs: Tensor,
    /// `[B, dim]` f32 (continuous) or `[B]` u32 (discrete).
    pub actions: Tensor,
    /// `[B]` f32.
    pub rewards: Tensor,
    /// `[B, obs_dim]` f32.
    pub next_obs: Tensor,
    /// `[B]` f32, 1.0 where the episode terminated.
    pub terminated: Tensor,
    /// `[B]` f32, 1.0 where the episode was truncated.
    pub truncated: Tensor,
}

/// A ring buffer of transitions: once `capacity` are stored, each new one replaces the oldest.
///
/// Stored flat in `f32` (flags as bytes): about `4 (2 obs_dim + action width + 1) + 2` bytes a
/// transition, so a million Pendulum transitions take 34 MB. Sampling is uniform with replacement
/// over the stored transitions, drawn from a [`SeededRng`].
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayBuffer {
    capacity: usize,
    obs_dim: usize,
    action: ActionSpec,
    obs: Vec<f32>,
    next_obs: Vec<f32>,
    actions: Vec<f32>,
    rewards: Vec<f32>,
    terminated: Vec<bool>,
    truncated: Vec<bool>,
    /// Where the next transition goes.
    pos: usize,
    /// Transitions stored (at most `capacity`).
    len: usize,
}

/// An empty vector with room for `rows × width` values, or an error if that cannot be allocated.
fn reserve<T>(rows: usize, width: usize) -> Result<Vec<T>> {
    let n = rows
        .checked_mul(width)
        .ok_or(BufferError::TooLarge { rows, width })?;
    let mut v = Vec::new();
    v.try_reserve_exact(n)
        .map_err(|_| BufferError::TooLarge { rows, width })?;
    Ok(v)
}

/// What a saved buffer's header records.
#[derive(Debug, Serialize, Deserialize)]
struct Header {
    kind: String,
    capacity: usize,
    obs_dim: usize,
    action: ActionSpec,
    pos: usize,
    len: usize,
}

const KIND: &str = "rl-buffer/replay/1";

impl ReplayBuffer {
    /// An empty buffer for `capacity` transitions of `obs_dim`-component observations.
    pub fn new(capacity: usize, obs_dim: usize, action: ActionSpec) -> Result<Self> {
        if capacity == 0 {
            return Err(BufferError::ZeroSize("replay buffer capacity"));
        }
        if obs_dim == 0 {
            return Err(BufferError::ZeroSize("observation dimension"));
        }
        action.check_valid()?;
        let row = 2 * obs_dim as u64 + action.width() as u64 + 3;
        rl_math::memory::check_fits(
            &format!("a replay buffer of {capacity} transitions (buffer_size)"),
            rl_math::memory::product(&[capacity as u64, row, 4]),
        )
        .map_err(BufferError::Memory)?;
        // Reserve the full size once (the OS backs the pages only as they fill), so filling never
        // reallocates and the footprint stays at the figure above.
        Ok(Self {
            capacity,
            obs_dim,
            action,
            obs: reserve(capacity, obs_dim)?,
            next_obs: reserve(capacity, obs_dim)?,
            actions: reserve(capacity, action.width())?,
            rewards: reserve(capacity, 1)?,
            terminated: reserve(capacity, 1)?,
            truncated: reserve(capacity, 1)?,
            pos: 0,
            len: 0,
        })
    }

    /// Maximum number of transitions.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Transitions stored.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Observation components.
    pub fn obs_dim(&self) -> usize {
        self.obs_dim
    }

    /// The action kind.
    pub fn action_spec(&self) -> ActionSpec {
        self.action
    }

    /// Bytes of storage reserved for the full capacity (what the buffer occupies once full).
    pub fn footprint_bytes(&self) -> usize {
        4 * (self.obs.capacity() + self.next_obs.capacity() + self.actions.capacity())
            + 4 * self.rewards.capacity()
            + self.terminated.capacity()
            + self.truncated.capacity()
    }

    /// Stores a transition, replacing the oldest when full. Wrong lengths, NaN or infinite values
    /// and invalid discrete actions are errors, and nothing is stored.
    pub fn push(&mut self, t: Transition<'_>) -> Result<()> {
        check_finite("observation", t.obs, self.obs_dim)?;
        check_finite("next observation", t.next_obs, self.obs_dim)?;
        self.action.check(t.action)?;
        check_scalar("reward", t.reward)?;
        let (d, w) = (self.obs_dim, self.action.width());
        if self.len < self.capacity && self.pos == self.len {
            // Still filling: grow the columns.
            self.obs.extend_from_slice(t.obs);
            self.next_obs.extend_from_slice(t.next_obs);
            self.actions.extend_from_slice(t.action);
            self.rewards.push(t.reward as f32);
            self.terminated.push(t.terminated);
            self.truncated.push(t.truncated);
        } else {
            let i = self.pos;
            self.obs[i * d..(i + 1) * d].copy_from_slice(t.obs);
            self.next_obs[i * d..(i + 1) * d].copy_from_slice(t.next_obs);
            self.actions[i * w..(i + 1) * w].copy_from_slice(t.action);
            self.rewards[i] = t.reward as f32;
            self.terminated[i] = t.terminated;
            self.truncated[i] = t.truncated;
        }
        self.pos = (self.pos + 1) % self.capacity;
        self.len = (self.len + 1).min(self.capacity);
        Ok(())
    }

    /// `batch_size` transitions drawn uniformly (with replacement), as tensors on `device`.
    pub fn sample(
        &self,
        batch_size: usize,
        rng: &mut SeededRng,
        device: &Device,
    ) -> Result<ReplayBatch> {
        if self.len == 0 || batch_size == 0 {
            return Err(BufferError::NotEnough {
                requested: batch_size,
                stored: self.len,
            });
        }
        let idx = rng.indices(self.len, batch_size)?;
        self.gather(&idx, device)
    }

    /// The transitions in storage slots `idx` (each `< len`), as tensors on `device`.
    pub fn gather(&self, idx: &[usize], device: &Device) -> Result<ReplayBatch> {
        if let Some(&bad) = idx.iter().find(|&&i| i >= self.len) {
            return Err(BufferError::NotEnough {
                requested: bad + 1,
                stored: self.len,
            });
        }
        let b = idx.len();
        let d = self.obs_dim;
        Ok(ReplayBatch {
            obs: Tensor::from_vec(gather(&self.obs, d, idx), (b, d), device)?,
            actions: self.action.tensor(
                gather(&self.actions, self.action.width(), idx),
                &[b],
                device,
            )?,
            rewards: Tensor::from_vec(gather(&self.rewards, 1, idx), b, device)?,
            next_obs: Tensor::from_vec(gather(&self.next_obs, d, idx), (b, d), device)?,
            terminated: flag_tensor(gather(&self.terminated, 1, idx), &[b], device)?,
            truncated: flag_tensor(gather(&self.truncated, 1, idx), &[b], device)?,
        })
    }

    /// Saves the buffer (stored transitions and ring position) to `path` in safetensors format,
    /// atomically: an interrupted save leaves any previous file intact.
    pub fn save(&self, path: &Path) -> Result<()> {
        let (n, d, w) = (self.len, self.obs_dim, self.action.width());
        let header = Header {
            kind: KIND.into(),
            capacity: self.capacity,
            obs_dim: d,
            action: self.action,
            pos: self.pos,
            len: n,
        };
        Ok(save(
            path,
            &header,
            &[
                Column::f32("obs", vec![n, d], &self.obs),
                Column::f32("next_obs", vec![n, d], &self.next_obs),
                Column::f32("actions", vec![n, w], &self.actions),
                Column::f32("rewards", vec![n], &self.rewards),
                Column::bools("terminated", vec![n], &self.terminated),
                Column::bools("truncated", vec![n], &self.truncated),
            ],
        )?)
    }

    /// Loads a buffer saved by [`save`](Self::save). A truncated or corrupted file, or one written
    /// by another kind of buffer, is an error that says so.
    pub fn load(path: &Path) -> Result<Self> {
        let file = Loaded::read(path)?;
        let h: Header = file.header()?;
        if h.kind != KIND {
            return Err(file
                .corrupt(format!("it holds a {:?}, not a replay buffer", h.kind))
                .into());
        }
        let mut buf = Self::new(h.capacity, h.obs_dim, h.action)
            .map_err(|e| file.corrupt(format!("header: {e}")))?;
        if h.len > h.capacity || h.pos >= h.capacity || (h.len < h.capacity && h.pos != h.len) {
            return Err(file
                .corrupt(format!(
                    "inconsistent ring state: len {}, pos {}, capacity {}",
                    h.len, h.pos, h.capacity
                ))
                .into());
        }
        let (n, d, w) = (h.len, h.obs_dim, h.action.width());
        // Load into the reserved columns (filling on after a load never reallocates).
        buf.obs.extend(file.f32("obs", &[n, d])?);
        buf.next_obs.extend(file.f32("next_obs", &[n, d])?);
        buf.actions.extend(file.f32("actions", &[n, w])?);
        buf.rewards.extend(file.f32("rewards", &[n])?);
        buf.terminated.extend(file.bools("terminated", &[n])?);
        buf.truncated.extend(file.bools("truncated", &[n])?);
        buf.pos = h.pos;
        buf.len = n;
        for i in 0..n {
            buf.action
                .check(&buf.actions[i * w..(i + 1) * w])
                .map_err(|e| file.corrupt(format!("transition {i}: {e}")))?;
        }
        Ok(buf)
    }
}
