//! [`make`]: environments by Gymnasium id, with the time limit `gymnasium.make` applies.

use crate::classic::{Acrobot, CartPole, MountainCar, MountainCarContinuous, Pendulum};
use crate::probe::{Probe, ProbeEnv};
use crate::wrappers::TimeLimit;
use crate::{BoxedEnv, Env, EnvError};

/// What the registry knows about an environment id (Gymnasium's `EnvSpec`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EnvSpec {
    /// The id, e.g. `"Pendulum-v1"`.
    pub id: &'static str,
    /// The time limit [`make`] applies, if any.
    pub max_episode_steps: Option<usize>,
    /// The return at which Gymnasium considers the task solved, if it names one.
    pub reward_threshold: Option<f64>,
}

const CLASSIC: [EnvSpec; 5] = [
    EnvSpec {
        id: "CartPole-v1",
        max_episode_steps: Some(500),
        reward_threshold: Some(475.0),
    },
    EnvSpec {
        id: "Pendulum-v1",
        max_episode_steps: Some(200),
        reward_threshold: None,
    },
    EnvSpec {
        id: "MountainCarContinuous-v0",
        max_episode_steps: Some(999),
        reward_threshold: Some(90.0),
    },
    EnvSpec {
        id: "MountainCar-v0",
        max_episode_steps: Some(200),
        reward_threshold: Some(-110.0),
    },
    EnvSpec {
        id: "Acrobot-v1",
        max_episode_steps: Some(500),
        reward_threshold: Some(-100.0),
    },
];

/// Every id [`make`] accepts: the classic-control environments, then the probes.
pub fn known_ids() -> Vec<&'static str> {
    CLASSIC
        .iter()
        .map(|s| s.id)
        .chain(
            [false, true]
                .into_iter()
                .flat_map(|c| Probe::ALL.into_iter().map(move |p| p.id(c))),
        )
        .collect()
}

/// The registry entry for `id`.
pub fn spec(id: &str) -> Result<EnvSpec, EnvError> {
    if let Some(s) = CLASSIC.iter().find(|s| s.id == id) {
        return Ok(*s);
    }
    let (p, continuous) = probe(id)?;
    Ok(EnvSpec {
        id: p.id(continuous),
        max_episode_steps: None,
        reward_threshold: None,
    })
}

fn probe(id: &str) -> Result<(Probe, bool), EnvError> {
    [false, true]
        .into_iter()
        .flat_map(|c| Probe::ALL.into_iter().map(move |p| (p, c)))
        .find(|(p, c)| p.id(*c) == id)
        .ok_or_else(|| EnvError::UnknownEnv {
            id: id.to_owned(),
            known: known_ids(),
        })
}

/// Builds the environment registered as `id`, wrapped in its time limit, as `gymnasium.make(id)`
/// does. An unknown id is an error that lists the known ones.
///
/// ```
/// let mut env = rl_envs::make("Pendulum-v1")?;
/// assert_eq!(env.max_episode_steps(), Some(200));
/// assert!(rl_envs::make("Pendulum-v2").unwrap_err().to_string().contains("Pendulum-v1"));
/// # Ok::<(), rl_envs::EnvError>(())
/// ```
pub fn make(id: &str) -> Result<BoxedEnv, EnvError> {
    let spec = spec(id)?;
    match id {
        "CartPole-v1" => limited(CartPole::new(), spec),
        "Pendulum-v1" => limited(Pendulum::new(), spec),
        "MountainCarContinuous-v0" => limited(MountainCarContinuous::new(), spec),
        "MountainCar-v0" => limited(MountainCar::new(), spec),
        "Acrobot-v1" => limited(Acrobot::new(), spec),
        _ => {
            let (p, continuous) = probe(id)?;
            limited(ProbeEnv::new(p, continuous), spec)
        }
    }
}

/// `env` behind the registered time limit, boxed once (one dynamic call per step).
fn limited<E: Env + Send + 'static>(env: E, spec: EnvSpec) -> Result<BoxedEnv, EnvError> {
    Ok(match spec.max_episode_steps {
        Some(limit) => Box::new(TimeLimit::new(env, limit)?),
        None => Box::new(env),
    })
}
