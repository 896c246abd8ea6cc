//! Observation and action spaces: [`Discrete`] and [`BoxSpace`], as in Gymnasium's `spaces`.

use rand::Rng;
use rand_distr::{Distribution, Exp1, StandardNormal};
use serde::{Deserialize, Serialize};

use crate::{Action, EnvError};

/// The kind of actions a learner takes, read off an action space: indices into `0..n`, or
/// vectors of `dim` components. Learners and buffers carry it; a discrete action travels as one
/// `f32` holding its index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionSpec {
    /// `n` discrete actions.
    Discrete {
        /// Number of actions.
        n: usize,
    },
    /// Continuous actions of `dim` components.
    Continuous {
        /// Components per action.
        dim: usize,
    },
}

impl ActionSpec {
    /// The number of discrete actions, or the continuous action's components (what a policy
    /// network outputs per action: logits, or a mean).
    pub fn size(&self) -> usize {
        match self {
            ActionSpec::Discrete { n } => *n,
            ActionSpec::Continuous { dim } => *dim,
        }
    }

    /// `f32` values one action takes (1 for a discrete index).
    pub fn width(&self) -> usize {
        match self {
            ActionSpec::Discrete { .. } => 1,
            ActionSpec::Continuous { dim } => *dim,
        }
    }

    /// The kind of `space`'s actions: a discrete space, or a box of rank 1; `None` otherwise.
    pub fn of(space: &Space) -> Option<Self> {
        match space {
            Space::Discrete(d) => Some(ActionSpec::Discrete { n: d.n() }),
            Space::Box(b) if b.shape().len() == 1 => Some(ActionSpec::Continuous { dim: b.dim() }),
            Space::Box(_) => None,
        }
    }
}

/// The observation width and action kind of an env a learner here can train on: flat vector
/// observations (a box of rank 1) and discrete or flat box actions (with finite bounds when
/// `bounded`, as SAC's squashed policy needs). Otherwise an [`EnvError::Unsupported`] naming
/// `learner`, `env` and the space it cannot take.
pub fn learner_spaces(
    learner: &str,
    env: &str,
    observation: &Space,
    action: &Space,
    bounded: bool,
) -> Result<(usize, ActionSpec), EnvError> {
    let obs_dim = match observation {
        Space::Box(b) if b.shape().len() == 1 => b.dim(),
        other => {
            return Err(EnvError::Unsupported(format!(
                "{learner} needs a flat vector observation, {env} has {other}"
            )));
        }
    };
    let fits = match action {
        Space::Box(b) => !bounded || b.is_bounded(),
        Space::Discrete(_) => true,
    };
    match ActionSpec::of(action).filter(|_| fits) {
        Some(spec) => Ok((obs_dim, spec)),
        None => Err(EnvError::Unsupported(format!(
            "{learner} needs {} or a discrete action space, {env} has {action}",
            if bounded {
                "a bounded box"
            } else {
                "a flat box"
            }
        ))),
    }
}

/// A space of observations or actions: a finite set of indices or a box of real vectors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Space {
    /// `{0, 1, ..., n - 1}`.
    Discrete(Discrete),
    /// Real vectors between `low` and `high` (Gymnasium's `Box`, float32).
    Box(BoxSpace),
}

impl Space {
    /// Number of `f32` components a value of this space takes: `1` for a discrete space (the index),
    /// the product of the shape for a box.
    pub fn flat_dim(&self) -> usize {
        match self {
            Space::Discrete(_) => 1,
            Space::Box(b) => b.dim(),
        }
    }

    /// The discrete space, if this is one.
    pub fn as_discrete(&self) -> Option<&Discrete> {
        match self {
            Space::Discrete(d) => Some(d),
            Space::Box(_) => None,
        }
    }

    /// The box space, if this is one.
    pub fn as_box(&self) -> Option<&BoxSpace> {
        match self {
            Space::Box(b) => Some(b),
            Space::Discrete(_) => None,
        }
    }

    /// Whether `action` is an element of this space (right kind, in range, right length, in bounds).
    pub fn contains(&self, action: Action<'_>) -> bool {
        match (self, action) {
            (Space::Discrete(d), Action::Discrete(i)) => d.contains(i),
            (Space::Box(b), Action::Continuous(x)) => b.contains(x),
            _ => false,
        }
    }

    /// Draws an element uniformly (see [`BoxSpace::sample`] for unbounded boxes).
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> OwnedAction {
        match self {
            Space::Discrete(d) => OwnedAction::Discrete(d.sample(rng)),
            Space::Box(b) => OwnedAction::Continuous(b.sample(rng)),
        }
    }
}

impl std::fmt::Display for Space {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Space::Discrete(d) => write!(f, "Discrete({})", d.n()),
            Space::Box(b) => write!(f, "Box(shape={:?})", b.shape()),
        }
    }
}

/// An action held by value, for code that stores or samples actions.
/// Borrow it as an [`Action`] with [`OwnedAction::as_action`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum OwnedAction {
    /// An index into a [`Discrete`] space.
    Discrete(usize),
    /// A vector in a [`BoxSpace`].
    Continuous(Vec<f32>),
}

impl OwnedAction {
    /// Borrows the action for [`Env::step`](crate::Env::step).
    pub fn as_action(&self) -> Action<'_> {
        match self {
            OwnedAction::Discrete(i) => Action::Discrete(*i),
            OwnedAction::Continuous(v) => Action::Continuous(v),
        }
    }
}

/// The finite space `{0, 1, ..., n - 1}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discrete {
    n: usize,
}

impl Discrete {
    /// A space of `n` actions; `n` must be at least 1.
    pub fn new(n: usize) -> Result<Self, EnvError> {
        if n == 0 {
            return Err(EnvError::InvalidSpace(
                "Discrete(n) needs n >= 1, got 0".into(),
            ));
        }
        Ok(Self { n })
    }

    /// `Discrete(n)` for the crate's own constant `n >= 1`.
    pub(crate) const fn constant(n: usize) -> Self {
        assert!(n >= 1);
        Self { n }
    }

    /// Number of elements.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Whether `index < n`.
    pub fn contains(&self, index: usize) -> bool {
        index < self.n
    }

    /// A uniformly drawn index.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> usize {
        rng.random_range(0..self.n)
    }

    /// Checks `index`, returning it or the error naming the problem.
    pub fn check(&self, index: usize) -> Result<usize, EnvError> {
        if self.contains(index) {
            Ok(index)
        } else {
            Err(EnvError::ActionOutOfRange { index, n: self.n })
        }
    }
}

/// A box of `f32` vectors, `low[i] <= x[i] <= high[i]`, with a shape (Gymnasium's `Box`).
///
/// Bounds may be infinite. Values are stored flat, in row-major order of `shape`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoxSpace {
    #[serde(with = "bounds")]
    low: Vec<f32>,
    #[serde(with = "bounds")]
    high: Vec<f32>,
    shape: Vec<usize>,
}

/// Bounds in formats without infinities (JSON): finite values as numbers, `±∞` as `"inf"` / `"-inf"`.
mod bounds {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    #[serde(untagged)]
    enum Bound {
        Finite(f32),
        Infinite(String),
    }

    pub(super) fn serialize<S: Serializer>(values: &[f32], s: S) -> Result<S::Ok, S::Error> {
        let v: Vec<Bound> = values
            .iter()
            .map(|&x| match x {
                x if x == f32::INFINITY => Bound::Infinite("inf".into()),
                x if x == f32::NEG_INFINITY => Bound::Infinite("-inf".into()),
                x => Bound::Finite(x),
            })
            .collect();
        v.serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f32>, D::Error> {
        Vec::<Bound>::deserialize(d)?
            .into_iter()
            .map(|b| match b {
                Bound::Finite(x) => Ok(x),
                Bound::Infinite(s) if s == "inf" => Ok(f32::INFINITY),
                Bound::Infinite(s) if s == "-inf" => Ok(f32::NEG_INFINITY),
                Bound::Infinite(s) => Err(serde::de::Error::custom(format!("bad bound {s:?}"))),
            })
            .collect()
    }
}

impl BoxSpace {
    /// A box with per-component bounds. `low` and `high` must both have `shape.iter().product()`
    /// components, no NaN, and `low <= high`.
    pub fn new(low: Vec<f32>, high: Vec<f32>, shape: Vec<usize>) -> Result<Self, EnvError> {
        let dim: usize = shape.iter().product();
        if low.len() != dim || high.len() != dim {
            return Err(EnvError::InvalidSpace(format!(
                "shape {shape:?} has {dim} components but low has {} and high has {}",
                low.len(),
                high.len()
            )));
        }
        for (i, (&l, &h)) in low.iter().zip(&high).enumerate() {
            if l.is_nan() || h.is_nan() {
                return Err(EnvError::InvalidSpace(format!(
                    "bound {i} is NaN (low {l}, high {h})"
                )));
            }
            if l > h {
                return Err(EnvError::InvalidSpace(format!(
                    "bound {i}: low {l} is above high {h}"
                )));
            }
        }
        Ok(Self { low, high, shape })
    }

    /// A box of shape `[dim]` with the same bounds on every component.
    pub fn uniform(low: f32, high: f32, dim: usize) -> Result<Self, EnvError> {
        Self::new(vec![low; dim], vec![high; dim], vec![dim])
    }

    /// The box `[-high, high]` of shape `[high.len()]`, for the crate's own constant bounds
    /// (non-negative, no NaN).
    pub(crate) fn symmetric(high: &[f32]) -> Self {
        let low: Vec<f32> = high.iter().map(|h| -h).collect();
        Self::from_bounds(&low, high)
    }

    /// The box `[low, high]` of shape `[low.len()]`, for the crate's own constant bounds
    /// (same length, `low <= high`, no NaN).
    pub(crate) fn from_bounds(low: &[f32], high: &[f32]) -> Self {
        debug_assert!(low.len() == high.len() && low.iter().zip(high).all(|(l, h)| l <= h));
        Self {
            low: low.to_vec(),
            high: high.to_vec(),
            shape: vec![low.len()],
        }
    }

    /// Lower bounds, flat.
    pub fn low(&self) -> &[f32] {
        &self.low
    }

    /// Upper bounds, flat.
    pub fn high(&self) -> &[f32] {
        &self.high
    }

    /// Shape of a value.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Number of components of a value (the product of the shape).
    pub fn dim(&self) -> usize {
        self.low.len()
    }

    /// Whether every bound is finite.
    pub fn is_bounded(&self) -> bool {
        self.low.iter().chain(&self.high).all(|b| b.is_finite())
    }

    /// Whether `x` has the right length and every component lies within its bounds (NaN never does).
    pub fn contains(&self, x: &[f32]) -> bool {
        x.len() == self.dim()
            && x.iter()
                .zip(self.low.iter().zip(&self.high))
                .all(|(v, (l, h))| *l <= *v && *v <= *h)
    }

    /// Checks that `x` has the right length and only finite components (it may lie outside the
    /// bounds: environments decide what out-of-bounds actions do, as Gymnasium's do).
    pub fn check_finite(&self, x: &[f32]) -> Result<(), EnvError> {
        if x.len() != self.dim() {
            return Err(EnvError::ActionLength {
                got: x.len(),
                expected: self.dim(),
            });
        }
        match x.iter().position(|v| !v.is_finite()) {
            Some(index) => Err(EnvError::NonFiniteAction {
                index,
                value: x[index],
            }),
            None => Ok(()),
        }
    }

    /// Clips `x` into the box, component by component.
    pub fn clip(&self, x: &mut [f32]) {
        for (v, (l, h)) in x.iter_mut().zip(self.low.iter().zip(&self.high)) {
            *v = v.max(*l).min(*h);
        }
    }

    /// Draws a value the way Gymnasium's `Box.sample` does: uniform on bounded components, standard
    /// normal on unbounded ones, `low + Exp(1)` / `high - Exp(1)` on half-bounded ones.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> Vec<f32> {
        let mut x = vec![0.0; self.dim()];
        self.sample_into(rng, &mut x);
        x
    }

    /// [`BoxSpace::sample`] into a caller's buffer of length [`BoxSpace::dim`] (extra entries are left alone).
    pub fn sample_into<R: Rng + ?Sized>(&self, rng: &mut R, out: &mut [f32]) {
        for (o, (&l, &h)) in out.iter_mut().zip(self.low.iter().zip(&self.high)) {
            let (l64, h64) = (f64::from(l), f64::from(h));
            let v = match (l.is_finite(), h.is_finite()) {
                (true, true) => l64 + (h64 - l64) * rng.random::<f64>(),
                (false, false) => StandardNormal.sample(rng),
                (true, false) => l64 + Distribution::<f64>::sample(&Exp1, rng),
                (false, true) => h64 - Distribution::<f64>::sample(&Exp1, rng),
            };
            // Rounding to f32 can step just past a bound; keep samples inside the space.
            *o = (v as f32).clamp(l, h);
        }
    }
}
