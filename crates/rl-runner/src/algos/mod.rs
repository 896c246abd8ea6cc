//! The runner's adapters for the workspace's learners.

pub(crate) mod a2c;
pub(crate) mod acer;
pub(crate) mod ppo;
pub(crate) mod sac;

use rl_envs::wrappers::{NormalizeObservation, RunningMeanStd};
use rl_envs::{ActionSpec, BoxedEnv, OwnedAction, make};

use crate::Result;
use crate::algorithm::not_snapshotted;

/// A fresh env of `env_id` that shows the policy what it was trained on: observations normalized
/// with the training statistics `obs`, frozen (the on-policy learners train through
/// `VecNormalize`); the plain env without them.
pub(crate) fn eval_env_with(env_id: &str, obs: Option<&RunningMeanStd>) -> Result<BoxedEnv> {
    let env = make(env_id)?;
    match obs {
        Some(stats) => {
            let mut norm = NormalizeObservation::new(env).with_clip(10.0)?;
            norm.set_stats(stats.clone())?;
            norm.set_update(false);
            Ok(Box::new(norm))
        }
        None => Ok(env),
    }
}

/// The action of one env from a batch of one row (`actions` as the learners return them: an
/// index as `f32` for discrete actions).
pub(crate) fn single_action(spec: ActionSpec, actions: Vec<f32>) -> OwnedAction {
    match spec {
        ActionSpec::Discrete { .. } => OwnedAction::Discrete(actions[0] as usize),
        ActionSpec::Continuous { .. } => OwnedAction::Continuous(actions),
    }
}

/// What a resumed run lacks: nothing if the envs' state was restored (`exact`), else their
/// episodes.
pub(crate) fn lost_unless(exact: bool, env_id: &str) -> Vec<String> {
    if exact {
        Vec::new()
    } else {
        vec![not_snapshotted(env_id)]
    }
}
