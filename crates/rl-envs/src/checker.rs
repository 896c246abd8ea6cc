//! [`check_env`]: checks a user-written [`Env`] keeps the contract learners rely on, as
//! Gymnasium's `gymnasium.utils.env_checker.check_env` does for Python environments.

use rand::SeedableRng;

use crate::{Env, EnvError, EnvRng, OwnedAction, Space};

/// What [`check_env`] ran, and what it found questionable but not wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckReport {
    /// Steps taken in all.
    pub steps: usize,
    /// Episodes finished.
    pub episodes: usize,
    /// Whether `snapshot` / `restore` were supported and checked.
    pub snapshot_checked: bool,
    /// Things Gymnasium warns about (an observation outside a bounded space, an episode longer
    /// than the declared limit, ...).
    pub warnings: Vec<String>,
}

/// One step's observation, reward, terminated and truncated.
type Record = (Vec<f32>, f64, bool, bool);

/// Records of one seeded rollout: observations, rewards and flags.
#[derive(Debug, Clone, PartialEq)]
struct Rollout {
    first: Vec<f32>,
    steps: Vec<Record>,
}

fn fail(env: &dyn Env, problem: String) -> EnvError {
    EnvError::CheckFailed {
        env: env.id().to_owned(),
        problem,
    }
}

/// Checks `env` for `steps` steps (resetting when an episode ends):
///
/// - the spaces are usable: a flat box of observations, a discrete or flat box action space;
/// - `reset` and `step` return observations of the declared size with finite components, finite
///   rewards, and (warning) observations inside a bounded observation space;
/// - seeding: `reset(Some(seed))` twice gives the same first observation, and the same actions
///   then give the same observations, rewards and flags (determinism under a seed);
/// - invalid actions are errors, not panics or silent acceptance: a discrete index `n`, a vector
///   of the wrong length, a NaN component;
/// - `snapshot` / `restore`, when supported, replay the same steps;
/// - (warning) no episode runs past `max_episode_steps`.
///
/// Returns the first broken rule as [`EnvError::CheckFailed`] naming it (or the env's own error
/// where a call that must succeed failed).
///
/// ```
/// let mut env = rl_envs::make("Pendulum-v1")?;
/// let report = rl_envs::check_env(env.as_mut(), 0, 400)?;
/// assert!(report.warnings.is_empty() && report.snapshot_checked);
/// # Ok::<(), rl_envs::EnvError>(())
/// ```
pub fn check_env(env: &mut dyn Env, seed: u64, steps: usize) -> Result<CheckReport, EnvError> {
    let obs_dim = match env.observation_space() {
        Space::Box(b) if b.shape().len() == 1 => b.dim(),
        other => {
            return Err(fail(
                env,
                format!("the observation space must be a flat box, it is {other}"),
            ));
        }
    };
    match env.action_space() {
        Space::Discrete(_) => {}
        Space::Box(b) if b.shape().len() == 1 => {}
        other => {
            return Err(fail(
                env,
                format!("the action space must be discrete or a flat box, it is {other}"),
            ));
        }
    }
    let mut report = CheckReport {
        steps: 0,
        episodes: 0,
        snapshot_checked: false,
        warnings: Vec::new(),
    };

    // Determinism under a seed: two rollouts with the same env seed and the same actions.
    let a = rollout(env, seed, steps, obs_dim, &mut report)?;
    let mut quiet = CheckReport {
        warnings: Vec::new(),
        ..report.clone()
    };
    let b = rollout(env, seed, steps, obs_dim, &mut quiet)?;
    if a.first != b.first {
        return Err(fail(
            env,
            format!(
                "reset(Some({seed})) twice gave different observations: {:?} then {:?}",
                a.first, b.first
            ),
        ));
    }
    if let Some(t) = (0..a.steps.len()).find(|&t| a.steps[t] != b.steps[t]) {
        return Err(fail(
            env,
            format!(
                "the same seed and actions diverged at step {t}: {:?} then {:?} (observation, reward, terminated, truncated)",
                a.steps[t], b.steps[t]
            ),
        ));
    }

    // reset(None) continues without reseeding, and works.
    let obs = env.reset(None)?.to_vec();
    check_observation(env, &obs, obs_dim, "reset(None)", &mut report)?;

    // Invalid actions are errors.
    env.reset(Some(seed))?;
    let invalid: Vec<(String, OwnedAction)> = match env.action_space() {
        Space::Discrete(d) => vec![(
            format!(
                "the discrete action {} (the space is Discrete({}))",
                d.n(),
                d.n()
            ),
            OwnedAction::Discrete(d.n()),
        )],
        Space::Box(b) => vec![
            (
                format!(
                    "an action of {} components (the space has {})",
                    b.dim() + 1,
                    b.dim()
                ),
                OwnedAction::Continuous(vec![0.0; b.dim() + 1]),
            ),
            (
                "an action with a NaN component".to_owned(),
                OwnedAction::Continuous(vec![f32::NAN; b.dim()]),
            ),
        ],
    };
    for (what, action) in invalid {
        if env.step(action.as_action()).is_ok() {
            return Err(fail(
                env,
                format!("step accepted {what}: it must return an error"),
            ));
        }
        env.reset(Some(seed))?;
    }

    // Snapshot / restore, if supported.
    env.reset(Some(seed))?;
    let mut rng = EnvRng::seed_from_u64(seed ^ 0x5eed);
    for _ in 0..steps.min(10) {
        let action = env.action_space().sample(&mut rng);
        if env.step(action.as_action())?.done() {
            env.reset(None)?;
        }
    }
    if let Ok(snap) = env.snapshot() {
        let actions: Vec<OwnedAction> = (0..steps.min(50))
            .map(|_| env.action_space().sample(&mut rng))
            .collect();
        let first = replay(env, &actions)?;
        env.restore(&snap)?;
        let second = replay(env, &actions)?;
        if first != second {
            return Err(fail(
                env,
                "restore(snapshot()) did not replay the same steps".to_owned(),
            ));
        }
        report.snapshot_checked = true;
    }
    Ok(report)
}

fn replay(env: &mut dyn Env, actions: &[OwnedAction]) -> Result<Vec<Record>, EnvError> {
    let mut out = Vec::with_capacity(actions.len());
    for action in actions {
        let s = env.step(action.as_action())?;
        let done = s.done();
        out.push((s.observation.to_vec(), s.reward, s.terminated, s.truncated));
        if done {
            let first = env.reset(None)?.to_vec();
            out.push((first, 0.0, false, false));
        }
    }
    Ok(out)
}

fn rollout(
    env: &mut dyn Env,
    seed: u64,
    steps: usize,
    obs_dim: usize,
    report: &mut CheckReport,
) -> Result<Rollout, EnvError> {
    let first = env.reset(Some(seed))?.to_vec();
    check_observation(
        env,
        &first,
        obs_dim,
        &format!("reset(Some({seed}))"),
        report,
    )?;
    let mut rng = EnvRng::seed_from_u64(seed);
    let mut out = Rollout {
        first,
        steps: Vec::with_capacity(steps),
    };
    let mut episode_len = 0;
    for t in 0..steps {
        let action = env.action_space().sample(&mut rng);
        if !env.action_space().contains(action.as_action()) {
            return Err(fail(
                env,
                format!("its action space sampled {action:?}, which it does not contain"),
            ));
        }
        let s = env.step(action.as_action())?;
        let (obs, reward, terminated, truncated) =
            (s.observation.to_vec(), s.reward, s.terminated, s.truncated);
        check_observation(env, &obs, obs_dim, &format!("step {t}"), report)?;
        if !reward.is_finite() {
            return Err(fail(
                env,
                format!("step {t} returned the reward {reward}: rewards must be finite"),
            ));
        }
        episode_len += 1;
        report.steps += 1;
        if let Some(limit) = env.max_episode_steps()
            && episode_len > limit
            && !truncated
            && !terminated
        {
            warn(
                report,
                format!("an episode ran past max_episode_steps ({limit}) without being truncated"),
            );
        }
        out.steps.push((obs, reward, terminated, truncated));
        if terminated || truncated {
            report.episodes += 1;
            episode_len = 0;
            let first = env.reset(None)?.to_vec();
            check_observation(env, &first, obs_dim, "reset(None) after an episode", report)?;
            out.steps.push((first, 0.0, false, false));
        }
    }
    Ok(out)
}

fn check_observation(
    env: &dyn Env,
    obs: &[f32],
    obs_dim: usize,
    place: &str,
    report: &mut CheckReport,
) -> Result<(), EnvError> {
    if obs.len() != obs_dim {
        return Err(fail(
            env,
            format!(
                "{place} returned an observation of {} components; the observation space has {obs_dim}",
                obs.len()
            ),
        ));
    }
    if let Some(i) = obs.iter().position(|v| !v.is_finite()) {
        return Err(fail(
            env,
            format!(
                "{place} returned an observation whose component {i} is {}",
                obs[i]
            ),
        ));
    }
    if let Space::Box(b) = env.observation_space()
        && !b.contains(obs)
    {
        warn(
            report,
            format!("{place} returned an observation outside the observation space: {obs:?}"),
        );
    }
    Ok(())
}

fn warn(report: &mut CheckReport, message: String) {
    if !report.warnings.contains(&message) && report.warnings.len() < 20 {
        report.warnings.push(message);
    }
}
