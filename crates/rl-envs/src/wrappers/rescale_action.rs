use super::{forward_env, inner_accessors};
use crate::{Action, BoxSpace, Env, EnvError, Space, Step};

/// Presents a bounded box action space as `[-1, 1]` and maps actions linearly onto the wrapped
/// env's bounds: `low + (a + 1) (high − low) / 2` (Gymnasium's `RescaleAction(env, -1, 1)`).
///
/// Like Gymnasium's, it does not clip: an action outside `[-1, 1]` maps outside the inner bounds and
/// the inner env decides (most clip). A learner whose policy works in `[-1, 1]`, such as SAC's tanh
/// policy, acts through this wrapper.
#[derive(Debug, Clone)]
pub struct RescaleAction<E> {
    env: E,
    action_space: Space,
    /// `low` and `(high - low) / 2` of the inner space, in float64.
    low: Vec<f64>,
    half_range: Vec<f64>,
    scaled: Vec<f32>,
}

impl<E: Env> RescaleAction<E> {
    /// Wraps `env`, whose action space must be a box with finite bounds.
    pub fn new(env: E) -> Result<Self, EnvError> {
        let inner = match env.action_space() {
            Space::Box(b) if b.is_bounded() => b.clone(),
            other => {
                return Err(EnvError::InvalidConfig(format!(
                    "RescaleAction needs a bounded Box action space, {} has {other}",
                    env.id()
                )));
            }
        };
        let low: Vec<f64> = inner.low().iter().map(|&l| f64::from(l)).collect();
        let half_range = inner
            .low()
            .iter()
            .zip(inner.high())
            .map(|(&l, &h)| (f64::from(h) - f64::from(l)) / 2.0)
            .collect();
        let dim = inner.dim();
        let action_space = Space::Box(BoxSpace::new(
            vec![-1.0; dim],
            vec![1.0; dim],
            inner.shape().to_vec(),
        )?);
        Ok(Self {
            env,
            action_space,
            low,
            half_range,
            scaled: vec![0.0; dim],
        })
    }

    /// The inner env's action for `a` in `[-1, 1]`.
    pub fn rescale(&self, a: &[f32]) -> Vec<f32> {
        let mut out = vec![0.0; a.len().min(self.low.len())];
        rescale_into(&self.low, &self.half_range, a, &mut out);
        out
    }

    inner_accessors!();
}

impl<E: Env> Env for RescaleAction<E> {
    forward_env!(
        id,
        observation_space,
        state,
        set_state,
        max_episode_steps,
        render
    );

    fn action_space(&self) -> &Space {
        &self.action_space
    }

    fn reset(&mut self, seed: Option<u64>) -> Result<&[f32], EnvError> {
        self.env.reset(seed)
    }

    fn step(&mut self, action: Action<'_>) -> Result<Step<'_>, EnvError> {
        let a = action.expect_continuous(self.env.id(), self.scaled.len())?;
        rescale_into(&self.low, &self.half_range, a, &mut self.scaled);
        self.env.step(Action::Continuous(&self.scaled))
    }

    fn snapshot(&self) -> Result<serde_json::Value, EnvError> {
        self.env.snapshot()
    }

    fn restore(&mut self, snapshot: &serde_json::Value) -> Result<(), EnvError> {
        self.env.restore(snapshot)
    }
}

/// `out = low + (a + 1) · half_range`, computed in float64.
fn rescale_into(low: &[f64], half_range: &[f64], a: &[f32], out: &mut [f32]) {
    for ((out, &a), (l, r)) in out.iter_mut().zip(a).zip(low.iter().zip(half_range)) {
        *out = (l + (f64::from(a) + 1.0) * r) as f32;
    }
}
