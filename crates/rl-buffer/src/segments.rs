//! [`SegmentReplay`]: ACER's experience replay of fixed-length trajectory segments.

use candle_core::{Device, Tensor};
use rl_math::SeededRng;

use crate::spec::{check_finite, flag_tensor, gather};
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
    /// a truncated step bootstraps from); zeros elsewhere.
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

    /// Stores a segment, replacing the oldest when full. Wrong lengths, non-finite values, invalid
    /// actions or behaviour probabilities outside `[0, 1]` are errors, and nothing is stored.
    pub fn push(&mut self, s: Segment<'_>) -> Result<()> {
        let (t, d) = (self.seg_len, self.obs_dim);
        check_finite("segment observations", s.obs, (t + 1) * d)?;
        check_finite("segment actions", s.actions, t * self.action.width())?;
        for a in s.actions.chunks(self.action.width()) {
            self.action.check(a)?;
        }
        check_finite("segment rewards", s.rewards, t)?;
        check_finite("behaviour distributions", s.behaviour, t * self.dist_dim)?;
        if matches!(self.action, ActionSpec::Discrete { .. }) {
            if let Some(i) = s.behaviour.iter().position(|p| !(0.0..=1.0).contains(p)) {
                return Err(BufferError::NonFinite {
                    what: "behaviour probabilities (must lie in [0, 1])",
                    index: i,
                    value: f64::from(s.behaviour[i]),
                });
            }
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

    /// `batch_size` segments drawn uniformly (with replacement), as tensors on `device`.
    pub fn sample(
        &self,
        batch_size: usize,
        rng: &mut SeededRng,
        device: &Device,
    ) -> Result<SegmentBatch> {
        if self.len == 0 || batch_size == 0 {
            return Err(BufferError::NotEnough {
                requested: batch_size,
                stored: self.len,
            });
        }
        let idx = rng.indices(self.len, batch_size)?;
        let (b, t, d) = (idx.len(), self.seg_len, self.obs_dim);
        let w = self.action.width();
        Ok(SegmentBatch {
            obs: Tensor::from_vec(gather(&self.obs, (t + 1) * d, &idx), (b, t + 1, d), device)?,
            actions: self
                .action
                .tensor(gather(&self.actions, t * w, &idx), &[b, t], device)?,
            rewards: Tensor::from_vec(gather(&self.rewards, t, &idx), (b, t), device)?,
            behaviour: Tensor::from_vec(
                gather(&self.behaviour, t * self.dist_dim, &idx),
                (b, t, self.dist_dim),
                device,
            )?,
            terminated: flag_tensor(gather(&self.terminated, t, &idx), &[b, t], device)?,
            truncated: flag_tensor(gather(&self.truncated, t, &idx), &[b, t], device)?,
            final_obs: Tensor::from_vec(gather(&self.final_obs, t * d, &idx), (b, t, d), device)?,
        })
    }
}

/// Writes one segment's `values` into slot `pos` of `col` (appending while the ring fills).
fn store<T: Copy>(col: &mut Vec<T>, values: &[T], pos: usize, filling: bool) {
    if filling {
        col.extend_from_slice(values);
    } else {
        let n = values.len();
        col[pos * n..(pos + 1) * n].copy_from_slice(values);
    }
}
