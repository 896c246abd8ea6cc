//! [`SegmentReplay`]: ACER's experience replay of fixed-length trajectory segments.

use std::path::Path;

use candle_core::{Device, Tensor};
use rl_math::SeededRng;
use rl_math::persist::{Column, Loaded, save};
use serde::{Deserialize, Serialize};

use crate::spec::{Stored, check_finite, flag_tensor, gather};
use crate::{ActionSpec, BufferError, Result};

/// One env's `T` consecutive steps, with the behaviour policy's full distribution at each.
#[derive(Debug, Clone, Copy)]
pub struct Segment<'a> {
    /// `T + 1` observations: `s_0 … s_T`, where `s_{t+1}` is what followed step `t` (after an
    /// episode ended at `t`, the next episode's first observation).
    pub obs: &'a [f32],
    /// `T` actions.
    pub actions: &'a [f32],
    /// `T` rewards.
    pub rewards: &'a [f32],
    /// `T` behaviour distributions `μ(·|s_t)`, `dist_dim` values each: probabilities for discrete
    /// actions, or means then standard deviations for continuous ones.
    pub behaviour: &'a [f32],
    /// `T` terminated flags.
    pub terminated: &'a [bool],
    /// `T` truncated flags.
    pub truncated: &'a [bool],
    /// `T` observations: where an episode ended at step `t`, its true last observation (the value
    /// a truncated step bootstraps from); zeros elsewhere (in a batch built through a
    /// [`Normalizer`], whatever it makes of zeros: only the rows where an episode ended mean
    /// anything).
    pub final_obs: &'a [f32],
}

/// `B` sampled segments as tensors, shaped `[B, T, ...]` (`[B, T + 1, obs_dim]` for `obs`).
#[derive(Debug, Clone)]
pub struct SegmentBatch {
    /// `[B, T + 1, obs_dim]` f32.
    pub obs: Tensor,
    /// `[B, T, dim]` f32 or `[B, T]` u32.
    pub actions: Tensor,
    /// `[B, T]` f32.
    pub rewards: Tensor,
    /// `[B, T, dist_dim]` f32.
    pub behaviour: Tensor,
    /// `[B, T]` f32 flags.
    pub terminated: Tensor,
    /// `[B, T]` f32 flags.
    pub truncated: Tensor,
    /// `[B, T, obs_dim]` f32.
    pub final_obs: Tensor,
}

/// What a batch's stored observations and rewards become when the batch is built.
///
/// A replay memory keeps what the envs returned, unnormalized, and a learner that normalizes
/// observations or rewards with running statistics passes the statistics current at sampling
/// time: normalized once at collection, a replayed step would keep the statistics of its own time
/// however far they have since moved (Stable-Baselines3 stores raw values for its off-policy
/// learners for the same reason).
pub trait Normalizer {
    /// Normalizes observations (rows of `obs_dim` values) in place.
    fn observations(&self, obs: &mut [f32]);
    /// Normalizes rewards in place.
    fn rewards(&self, rewards: &mut [f32]);
}

/// The [`Normalizer`] that leaves everything as stored.
#[derive(Debug, Clone, Copy, Default)]
pub struct AsStored;

impl Normalizer for AsStored {
    fn observations(&self, _obs: &mut [f32]) {}
    fn rewards(&self, _rewards: &mut [f32]) {}
}

/// A ring of whole segments; sampling returns whole segments, so episode boundaries inside them
/// (and the flags and final observations that mark them) are kept.
#[derive(Debug, Clone)]
pub struct SegmentReplay {
    max_segments: usize,
    seg_len: usize,
    obs_dim: usize,
    action: ActionSpec,
    dist_dim: usize,
    obs: Vec<f32>,
    actions: Vec<f32>,
    rewards: Vec<f32>,
    behaviour: Vec<f32>,
    terminated: Vec<bool>,
    truncated: Vec<bool>,
    final_obs: Vec<f32>,
    pos: usize,
    len: usize,
}

impl SegmentReplay {
    /// Room for `capacity_steps / seg_len` segments of `seg_len` steps (ACER's default: 50 000
    /// steps in segments of 20). `dist_dim` is the behaviour distribution's width (`n` for
    /// `Discrete(n)`, `2 · dim` for a diagonal Gaussian).
    pub fn new(
        capacity_steps: usize,
        seg_len: usize,
        obs_dim: usize,
        action: ActionSpec,
        dist_dim: usize,
    ) -> Result<Self> {
        for (what, n) in [
            ("segment length", seg_len),
            ("observation dimension", obs_dim),
            ("behaviour distribution width", dist_dim),
        ] {
            if n == 0 {
                return Err(BufferError::ZeroSize(what));
            }
        }
        action.check_valid()?;
        let max_segments = capacity_steps / seg_len;
        if max_segments == 0 {
            return Err(BufferError::ZeroSize(
                "segment replay capacity (in whole segments)",
            ));
        }
        let row = 2 * obs_dim as u64 + action.width() as u64 + dist_dim as u64 + 4;
        rl_math::memory::check_fits(
            &format!("a segment replay of {capacity_steps} steps (buffer_size)"),
            rl_math::memory::product(&[capacity_steps as u64, row, 4]),
        )
        .map_err(BufferError::Memory)?;
        Ok(Self {
            max_segments,
            seg_len,
            obs_dim,
            action,
            dist_dim,
            obs: Vec::new(),
            actions: Vec::new(),
            rewards: Vec::new(),
            behaviour: Vec::new(),
            terminated: Vec::new(),
            truncated: Vec::new(),
            final_obs: Vec::new(),
            pos: 0,
            len: 0,
        })
    }

    /// Segments stored.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Steps stored (segments × segment length).
    pub fn steps(&self) -> usize {
        self.len * self.seg_len
    }

    /// Maximum number of segments.
    pub fn max_segments(&self) -> usize {
        self.max_segments
    }

    /// Steps per segment.
    pub fn seg_len(&self) -> usize {
        self.seg_len
    }

    /// Observation components.
    pub fn obs_dim(&self) -> usize {
        self.obs_dim
    }

    /// The action kind and size.
    pub fn action_spec(&self) -> ActionSpec {
        self.action
    }

    /// Checks a segment has this memory's shape and valid values (wrong lengths, non-finite
    /// values, invalid actions or behaviour probabilities outside `[0, 1]` are errors).
    pub fn check(&self, s: &Segment<'_>) -> Result<()> {
        let (t, d) = (self.seg_len, self.obs_dim);
        check_finite("segment observations", s.obs, (t + 1) * d)?;
        check_finite("segment actions", s.actions, t * self.action.width())?;
        for a in s.actions.chunks(self.action.width()) {
            self.action.check(a)?;
        }
        check_finite("segment rewards", s.rewards, t)?;
        check_finite("behaviour distributions", s.behaviour, t * self.dist_dim)?;
        if matches!(self.action, ActionSpec::Discrete { .. })
            && let Some(i) = s.behaviour.iter().position(|p| !(0.0..=1.0).contains(p))
        {
            return Err(BufferError::NonFinite {
                what: "behaviour probabilities (must lie in [0, 1])",
                index: i,
                value: f64::from(s.behaviour[i]),
            });
        }
        check_finite("segment final observations", s.final_obs, t * d)?;
        for (what, v) in [("terminated", s.terminated), ("truncated", s.truncated)] {
            if v.len() != t {
                return Err(BufferError::Length {
                    what,
                    got: v.len(),
                    expected: t,
                });
            }
        }
        Ok(())
    }

    /// Stores a segment, replacing the oldest when full. A segment [`check`](Self::check)
    /// rejects is an error, and nothing is stored.
    pub fn push(&mut self, s: Segment<'_>) -> Result<()> {
        self.check(&s)?;
        let columns: [(&mut Vec<f32>, &[f32]); 5] = [
            (&mut self.obs, s.obs),
            (&mut self.actions, s.actions),
            (&mut self.rewards, s.rewards),
            (&mut self.behaviour, s.behaviour),
            (&mut self.final_obs, s.final_obs),
        ];
        let filling = self.len < self.max_segments;
        for (col, values) in columns {
            store(col, values, self.pos, filling);
        }
        store(&mut self.terminated, s.terminated, self.pos, filling);
        store(&mut self.truncated, s.truncated, self.pos, filling);
        self.pos = (self.pos + 1) % self.max_segments;
        self.len = (self.len + 1).min(self.max_segments);
        Ok(())
    }

    /// `batch_size` segments drawn uniformly (with replacement), as tensors on `device`, with
    /// the values as stored.
    pub fn sample(
        &self,
        batch_size: usize,
        rng: &mut SeededRng,
        device: &Device,
    ) -> Result<SegmentBatch> {
        self.sample_normalized(batch_size, rng, device, &AsStored)
    }

    /// [`sample`](Self::sample), with the observations (final ones included) and rewards passed
    /// through `normalizer` before they become tensors.
    pub fn sample_normalized(
        &self,
        batch_size: usize,
        rng: &mut SeededRng,
        device: &Device,
        normalizer: &dyn Normalizer,
    ) -> Result<SegmentBatch> {
        if self.len == 0 || batch_size == 0 {
            return Err(BufferError::NotEnough {
                requested: batch_size,
                stored: self.len,
            });
        }
        let idx = rng.indices(self.len, batch_size)?;
        let (t, d, w) = (self.seg_len, self.obs_dim, self.action.width());
        self.tensors(
            Columns {
                obs: gather(&self.obs, (t + 1) * d, &idx),
                actions: gather(&self.actions, t * w, &idx),
                rewards: gather(&self.rewards, t, &idx),
                behaviour: gather(&self.behaviour, t * self.dist_dim, &idx),
                terminated: gather(&self.terminated, t, &idx),
                truncated: gather(&self.truncated, t, &idx),
                final_obs: gather(&self.final_obs, t * d, &idx),
            },
            idx.len(),
            device,
            normalizer,
        )
    }

    /// Fresh segments (not stored) as a batch shaped like [`sample`](Self::sample)'s: ACER's
    /// on-policy update runs on the rollout it just collected. Each segment is
    /// [`check`](Self::check)ed.
    pub fn stack(&self, segments: &[Segment<'_>], device: &Device) -> Result<SegmentBatch> {
        self.stack_normalized(segments, device, &AsStored)
    }

    /// [`stack`](Self::stack), with the observations (final ones included) and rewards passed
    /// through `normalizer` before they become tensors.
    pub fn stack_normalized(
        &self,
        segments: &[Segment<'_>],
        device: &Device,
        normalizer: &dyn Normalizer,
    ) -> Result<SegmentBatch> {
        if segments.is_empty() {
            return Err(BufferError::NotEnough {
                requested: 1,
                stored: 0,
            });
        }
        let mut c = Columns::default();
        for s in segments {
            self.check(s)?;
            c.obs.extend_from_slice(s.obs);
            c.actions.extend_from_slice(s.actions);
            c.rewards.extend_from_slice(s.rewards);
            c.behaviour.extend_from_slice(s.behaviour);
            c.terminated.extend_from_slice(s.terminated);
            c.truncated.extend_from_slice(s.truncated);
            c.final_obs.extend_from_slice(s.final_obs);
        }
        self.tensors(c, segments.len(), device, normalizer)
    }

    fn tensors(
        &self,
        mut c: Columns,
        b: usize,
        device: &Device,
        normalizer: &dyn Normalizer,
    ) -> Result<SegmentBatch> {
        let (t, d) = (self.seg_len, self.obs_dim);
        normalizer.observations(&mut c.obs);
        normalizer.observations(&mut c.final_obs);
        normalizer.rewards(&mut c.rewards);
        Ok(SegmentBatch {
            obs: Tensor::from_vec(c.obs, (b, t + 1, d), device)?,
            actions: self.action.tensor(c.actions, &[b, t], device)?,
            rewards: Tensor::from_vec(c.rewards, (b, t), device)?,
            behaviour: Tensor::from_vec(c.behaviour, (b, t, self.dist_dim), device)?,
            terminated: flag_tensor(c.terminated, &[b, t], device)?,
            truncated: flag_tensor(c.truncated, &[b, t], device)?,
            final_obs: Tensor::from_vec(c.final_obs, (b, t, d), device)?,
        })
    }

    /// Saves the memory (stored segments and ring position) to `path` in safetensors format,
    /// atomically: an interrupted save leaves any previous file intact.
    pub fn save(&self, path: &Path) -> Result<()> {
        let (n, t, d, w) = (self.len, self.seg_len, self.obs_dim, self.action.width());
        let header = Header {
            kind: KIND.into(),
            max_segments: self.max_segments,
            seg_len: t,
            obs_dim: d,
            action: self.action,
            dist_dim: self.dist_dim,
            pos: self.pos,
            len: n,
        };
        Ok(save(
            path,
            &header,
            &[
                Column::f32("obs", vec![n, t + 1, d], &self.obs),
                Column::f32("actions", vec![n, t, w], &self.actions),
                Column::f32("rewards", vec![n, t], &self.rewards),
                Column::f32("behaviour", vec![n, t, self.dist_dim], &self.behaviour),
                Column::bools("terminated", vec![n, t], &self.terminated),
                Column::bools("truncated", vec![n, t], &self.truncated),
                Column::f32("final_obs", vec![n, t, d], &self.final_obs),
            ],
        )?)
    }

    /// Loads a memory saved by [`save`](Self::save). A truncated or corrupted file, or one
    /// written by another kind of buffer, is an error that says so.
    pub fn load(path: &Path) -> Result<Self> {
        let file = Loaded::read(path)?;
        let h: Header = file.header()?;
        if h.kind != KIND {
            return Err(file
                .corrupt(format!("it holds a {:?}, not a segment replay", h.kind))
                .into());
        }
        let mut buf = Self::new(
            h.max_segments * h.seg_len,
            h.seg_len,
            h.obs_dim,
            h.action,
            h.dist_dim,
        )
        .map_err(|e| file.corrupt(format!("header: {e}")))?;
        let (n, m) = (h.len, h.max_segments);
        if buf.max_segments != m || n > m || h.pos >= m || (n < m && h.pos != n) {
            return Err(file
                .corrupt(format!(
                    "inconsistent ring state: len {n}, pos {}, capacity {m} segments",
                    h.pos
                ))
                .into());
        }
        let (t, d, w) = (h.seg_len, h.obs_dim, h.action.width());
        buf.obs = file.f32("obs", &[n, t + 1, d])?;
        buf.actions = file.f32("actions", &[n, t, w])?;
        buf.rewards = file.f32("rewards", &[n, t])?;
        buf.behaviour = file.f32("behaviour", &[n, t, h.dist_dim])?;
        buf.terminated = file.bools("terminated", &[n, t])?;
        buf.truncated = file.bools("truncated", &[n, t])?;
        buf.final_obs = file.f32("final_obs", &[n, t, d])?;
        buf.pos = h.pos;
        buf.len = n;
        for i in 0..n * t {
            buf.action
                .check(&buf.actions[i * w..(i + 1) * w])
                .map_err(|e| file.corrupt(format!("step {i}: {e}")))?;
        }
        Ok(buf)
    }
}

/// Segment columns gathered for a batch.
#[derive(Default)]
struct Columns {
    obs: Vec<f32>,
    actions: Vec<f32>,
    rewards: Vec<f32>,
    behaviour: Vec<f32>,
    terminated: Vec<bool>,
    truncated: Vec<bool>,
    final_obs: Vec<f32>,
}

/// What a saved memory's header records.
#[derive(Debug, Serialize, Deserialize)]
struct Header {
    kind: String,
    max_segments: usize,
    seg_len: usize,
    obs_dim: usize,
    action: ActionSpec,
    dist_dim: usize,
    pos: usize,
    len: usize,
}

const KIND: &str = "rl-buffer/segments/1";

/// Writes one segment's `values` into slot `pos` of `col` (appending while the ring fills).
fn store<T: Copy>(col: &mut Vec<T>, values: &[T], pos: usize, filling: bool) {
    if filling {
        col.extend_from_slice(values);
    } else {
        let n = values.len();
        col[pos * n..(pos + 1) * n].copy_from_slice(values);
    }
}
