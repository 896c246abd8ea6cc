//! The environment registry: [`register`] an id with its [`EnvSpec`] and a factory, [`make`] it
//! by id (with the time limit `gymnasium.make` applies), as Gymnasium's `register` / `make` do.
//!
//! The registry is one per process and starts with this crate's environments (classic control
//! and the probes). Crates with environments of their own (and users' programs) add theirs with
//! [`register`]; everything that builds environments by id (the vector env, the trainers, the
//! runner) goes through [`make`], so a registered id is usable everywhere at once.

use std::sync::{Arc, LazyLock, PoisonError, RwLock};

use crate::classic::{Acrobot, CartPole, MountainCar, MountainCarContinuous, Pendulum};
use crate::probe::{Probe, ProbeEnv};
use crate::wrappers::TimeLimit;
use crate::{BoxedEnv, Env, EnvError};

/// What the registry knows about an environment id (Gymnasium's `EnvSpec`).
///
/// ```
/// let spec = rl_envs::EnvSpec::new("PointMass-v0").with_max_episode_steps(100);
/// assert_eq!(spec.max_episode_steps, Some(100));
/// assert_eq!(rl_envs::spec("CartPole-v1")?.reward_threshold, Some(475.0));
/// # Ok::<(), rl_envs::EnvError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct EnvSpec {
    /// The id, e.g. `"Pendulum-v1"`.
    pub id: String,
    /// The time limit [`make`] applies, if any.
    pub max_episode_steps: Option<usize>,
    /// The return at which the task counts as solved, if it names one.
    pub reward_threshold: Option<f64>,
}

impl EnvSpec {
    /// A spec for `id` with no time limit and no reward threshold.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            max_episode_steps: None,
            reward_threshold: None,
        }
    }

    /// The same spec with a time limit of `steps` (episodes are truncated after `steps` steps).
    pub fn with_max_episode_steps(mut self, steps: usize) -> Self {
        self.max_episode_steps = Some(steps);
        self
    }

    /// The same spec with a reward threshold.
    pub fn with_reward_threshold(mut self, threshold: f64) -> Self {
        self.reward_threshold = Some(threshold);
        self
    }
}

/// Builds a fresh environment each call (as [`factory`] returns for a registered id).
pub type EnvFactory = Arc<dyn Fn() -> Result<BoxedEnv, EnvError> + Send + Sync>;

struct Entry {
    spec: EnvSpec,
    /// The registered factory with the spec's time limit around it, boxed once (one dynamic call
    /// per step).
    make: EnvFactory,
}

impl Entry {
    fn new<E, F>(spec: EnvSpec, new: F) -> Self
    where
        E: Env + Send + 'static,
        F: Fn() -> Result<E, EnvError> + Send + Sync + 'static,
    {
        let limit = spec.max_episode_steps;
        Self {
            spec,
            make: Arc::new(move || {
                let env = new()?;
                Ok(match limit {
                    Some(limit) => Box::new(TimeLimit::new(env, limit)?) as BoxedEnv,
                    None => Box::new(env),
                })
            }),
        }
    }
}

/// Every registered id, in the order of registration.
static REGISTRY: LazyLock<RwLock<Vec<Entry>>> = LazyLock::new(|| RwLock::new(builtin()));

/// Builds the environment a namespace's resolver was asked for (see [`register_namespace`]).
pub type EnvResolver = Arc<dyn Fn(&str) -> Result<BoxedEnv, EnvError> + Send + Sync>;

/// Every registered namespace: `(prefix, resolver)`.
static NAMESPACES: LazyLock<RwLock<Vec<(String, EnvResolver)>>> =
    LazyLock::new(|| RwLock::new(Vec::new()));

/// Registers the namespace `prefix`: from then on [`make`]`("prefix:rest")` builds
/// `resolver("rest")`, for a family of ids no list could hold (every Gymnasium id through the
/// Python bridge: `gymnasium:LunarLander-v3`). The resolver's environment applies its own time
/// limit. Registering a prefix twice is [`EnvError::AlreadyRegistered`]; a prefix must be
/// letters, digits, `-` or `_`.
///
/// ```
/// use rl_envs::{classic::CartPole, make, register_namespace, wrappers::TimeLimit};
///
/// register_namespace("longer", |id| match id {
///     "CartPole" => TimeLimit::new(CartPole::new(), 1_000),
///     _ => Err(rl_envs::EnvError::InvalidConfig(format!("no longer:{id}"))),
/// })?;
/// assert_eq!(make("longer:CartPole")?.max_episode_steps(), Some(1_000));
/// # Ok::<(), rl_envs::EnvError>(())
/// ```
pub fn register_namespace<E, F>(prefix: &str, resolver: F) -> Result<(), EnvError>
where
    E: Env + Send + 'static,
    F: Fn(&str) -> Result<E, EnvError> + Send + Sync + 'static,
{
    if prefix.is_empty()
        || !prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(EnvError::InvalidConfig(format!(
            "register_namespace({prefix:?}): a prefix is letters, digits, '-' or '_'"
        )));
    }
    let mut namespaces = NAMESPACES.write().unwrap_or_else(PoisonError::into_inner);
    if namespaces.iter().any(|(p, _)| p == prefix) {
        return Err(EnvError::AlreadyRegistered {
            id: format!("{prefix}:*"),
        });
    }
    namespaces.push((
        prefix.to_owned(),
        Arc::new(move |id| Ok(Box::new(resolver(id)?) as BoxedEnv)),
    ));
    Ok(())
}

/// The resolver of `id`'s namespace and the rest of the id, if `id` is `prefix:rest` with a
/// registered prefix.
fn namespaced(id: &str) -> Option<(EnvResolver, String)> {
    let (prefix, rest) = id.split_once(':')?;
    let namespaces = NAMESPACES.read().unwrap_or_else(PoisonError::into_inner);
    namespaces
        .iter()
        .find(|(p, _)| p == prefix)
        .map(|(_, r)| (r.clone(), rest.to_owned()))
}

fn builtin() -> Vec<Entry> {
    fn entry<E: Env + Send + 'static>(
        spec: EnvSpec,
        new: impl Fn() -> E + Send + Sync + 'static,
    ) -> Entry {
        Entry::new(spec, move || Ok(new()))
    }
    let limited = |id: &str, steps, threshold: Option<f64>| EnvSpec {
        id: id.to_owned(),
        max_episode_steps: Some(steps),
        reward_threshold: threshold,
    };
    let mut entries = vec![
        entry(limited("CartPole-v1", 500, Some(475.0)), CartPole::new),
        entry(limited("Pendulum-v1", 200, None), Pendulum::new),
        entry(
            limited("MountainCarContinuous-v0", 999, Some(90.0)),
            MountainCarContinuous::new,
        ),
        entry(
            limited("MountainCar-v0", 200, Some(-110.0)),
            MountainCar::new,
        ),
        entry(limited("Acrobot-v1", 500, Some(-100.0)), Acrobot::new),
    ];
    for continuous in [false, true] {
        for p in Probe::ALL {
            entries.push(entry(EnvSpec::new(p.id(continuous)), move || {
                ProbeEnv::new(p, continuous)
            }));
        }
    }
    entries
}

fn read<T>(f: impl FnOnce(&[Entry]) -> T) -> T {
    // A panic elsewhere while the lock was held cannot leave the list half-written (every write
    // is one `push`), so a poisoned lock is still safe to read.
    f(&REGISTRY.read().unwrap_or_else(PoisonError::into_inner))
}

/// Registers `spec.id` (with its time limit and reward threshold) so that [`make`] builds it
/// with `factory`, as Gymnasium's `register(id, entry_point, max_episode_steps, ...)` does.
///
/// `factory` returns a fresh, unwrapped environment each call; [`make`] wraps it in the spec's
/// time limit. Registering an id that is already registered is an error
/// ([`EnvError::AlreadyRegistered`]), as is an empty id, an id with whitespace or a time limit of
/// zero steps.
///
/// ```
/// use rl_envs::{EnvSpec, classic::Pendulum, make, register};
///
/// // Pendulum with stronger gravity, under an id of its own.
/// register(EnvSpec::new("HeavyPendulum-v0").with_max_episode_steps(300), || {
///     Ok(Pendulum::with_gravity(12.0))
/// })?;
/// assert_eq!(make("HeavyPendulum-v0")?.max_episode_steps(), Some(300));
/// # Ok::<(), rl_envs::EnvError>(())
/// ```
pub fn register<E, F>(spec: EnvSpec, factory: F) -> Result<(), EnvError>
where
    E: Env + Send + 'static,
    F: Fn() -> Result<E, EnvError> + Send + Sync + 'static,
{
    let invalid =
        |reason: &str| EnvError::InvalidConfig(format!("register({:?}): {reason}", spec.id));
    if spec.id.is_empty() || spec.id.chars().any(char::is_whitespace) {
        return Err(invalid("an id must be non-empty and without whitespace"));
    }
    if spec.max_episode_steps == Some(0) {
        return Err(invalid("max_episode_steps must be at least 1"));
    }
    if spec.reward_threshold.is_some_and(|r| !r.is_finite()) {
        return Err(invalid("reward_threshold must be finite"));
    }
    let mut entries = REGISTRY.write().unwrap_or_else(PoisonError::into_inner);
    if entries.iter().any(|e| e.spec.id == spec.id) {
        return Err(EnvError::AlreadyRegistered { id: spec.id });
    }
    entries.push(Entry::new(spec, factory));
    Ok(())
}

/// Whether `id` is registered.
pub fn is_registered(id: &str) -> bool {
    read(|entries| entries.iter().any(|e| e.spec.id == id))
}

/// Every registered id, in the order of registration: this crate's classic-control environments,
/// its probes, then whatever was [`register`]ed.
pub fn known_ids() -> Vec<String> {
    read(|entries| entries.iter().map(|e| e.spec.id.clone()).collect())
}

fn unknown(id: &str, entries: &[Entry]) -> EnvError {
    let namespaces = NAMESPACES.read().unwrap_or_else(PoisonError::into_inner);
    EnvError::UnknownEnv {
        id: id.to_owned(),
        known: entries
            .iter()
            .map(|e| e.spec.id.clone())
            .chain(namespaces.iter().map(|(p, _)| format!("{p}:<id>")))
            .collect(),
    }
}

/// The registry entry for `id` (for a namespaced id, what the env it builds says of itself: its
/// time limit).
pub fn spec(id: &str) -> Result<EnvSpec, EnvError> {
    if !is_registered(id)
        && let Some((resolve, rest)) = namespaced(id)
    {
        let env = resolve(&rest)?;
        return Ok(EnvSpec {
            id: id.to_owned(),
            max_episode_steps: env.max_episode_steps(),
            reward_threshold: None,
        });
    }
    read(|entries| {
        entries
            .iter()
            .find(|e| e.spec.id == id)
            .map(|e| e.spec.clone())
            .ok_or_else(|| unknown(id, entries))
    })
}

/// Builds the environment registered as `id`, wrapped in its time limit, as `gymnasium.make(id)`
/// does (or, for `prefix:rest` with a [`register_namespace`]d prefix, what its resolver builds).
/// An unknown id is an error that lists the registered ones.
///
/// ```
/// let mut env = rl_envs::make("Pendulum-v1")?;
/// assert_eq!(env.max_episode_steps(), Some(200));
/// assert!(rl_envs::make("Pendulum-v2").unwrap_err().to_string().contains("Pendulum-v1"));
/// # Ok::<(), rl_envs::EnvError>(())
/// ```
pub fn make(id: &str) -> Result<BoxedEnv, EnvError> {
    // The factory runs outside the lock: it may itself call `make` or `register`.
    factory(id)?()
}

/// A factory for `id` that calls [`make`] (time limit included), checked to be registered now:
/// hand it to whatever builds environments repeatedly (a vector env, an evaluation loop).
pub fn factory(id: &str) -> Result<EnvFactory, EnvError> {
    if !is_registered(id)
        && let Some((resolve, rest)) = namespaced(id)
    {
        return Ok(Arc::new(move || resolve(&rest)));
    }
    read(|entries| {
        entries
            .iter()
            .find(|e| e.spec.id == id)
            .map(|e| e.make.clone())
            .ok_or_else(|| unknown(id, entries))
    })
}
