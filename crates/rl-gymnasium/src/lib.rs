//! Any Python Gymnasium environment as an [`rl_envs::Env`], through an embedded interpreter.
//!
//! ```no_run
//! # #[cfg(feature = "python")] {
//! rl_gymnasium::register()?; // gymnasium:<id> (and gymnasium:<module>:<id>) for rl_envs::make
//! let mut env = rl_envs::make("gymnasium:LunarLander-v3")?;
//! let first = env.reset(Some(0))?.to_vec();
//! let step = env.step(rl_envs::Action::Discrete(2))?;
//! assert_eq!((first.len(), step.observation.len()), (8, 8));
//! # }
//! # Ok::<(), rl_envs::EnvError>(())
//! ```
//!
//! With the `python` feature (pyo3 0.29 and rust-numpy), `PyEnv` wraps what
//! `gymnasium.make(id)` returns: Box and Discrete action spaces, Box observations (others are
//! refused with an error naming the space), `reset(seed)`, terminated vs truncated, the time
//! limit `gymnasium.make` applied, `render` frames where the env has an `rgb_array` mode, and
//! snapshots by pickling where the env can be pickled. Python exceptions are
//! `EnvError::Backend` with the exception's type and message. `register()` adds the namespace
//! `gymnasium` to `rl_envs`' registry: `gymnasium:LunarLanderContinuous-v3`, or
//! `gymnasium:my_package:MyEnv-v0` to import `my_package` (which registers its ids) first.
//!
//! The interpreter is the one the crate was built against (`PYO3_PYTHON`, else `python3`); the
//! packages come from it, or from the virtual environment named by `RL_GYMNASIUM_VENV` or
//! `VIRTUAL_ENV` (an activated venv), whose site-packages are added to its path. `cargo xtask`
//! makes and uses `target/gymnasium/venv` from `requirements.txt` by itself (docs/gymnasium.md).
//! Without the feature the crate needs no Python and holds only [`PREFIX`].

#[cfg(feature = "python")]
mod bridge;
#[cfg(feature = "python")]
mod interpreter;

#[cfg(feature = "python")]
pub use bridge::PyEnv;

static FRAMES: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether bridged envs made from now on draw frames (`gymnasium.make(id,
/// render_mode="rgb_array")`): off by default, since a render mode can slow stepping down
/// (LunarLander's particles: 3× slower). `cargo xtask` turns it on for `--gif`.
pub fn render_frames(on: bool) {
    FRAMES.store(on, std::sync::atomic::Ordering::SeqCst);
}

#[cfg(feature = "python")]
fn frames_wanted() -> bool {
    FRAMES.load(std::sync::atomic::Ordering::SeqCst)
}

/// The namespace of the bridged ids: `gymnasium:<id>`.
pub const PREFIX: &str = "gymnasium";

/// Whether `id` is a bridged id (`gymnasium:…`).
pub fn is_bridged(id: &str) -> bool {
    id.strip_prefix(PREFIX)
        .is_some_and(|rest| rest.starts_with(':'))
}

/// Registers the `gymnasium` namespace with `rl_envs::register_namespace`, once per process:
/// later calls do nothing.
#[cfg(feature = "python")]
pub fn register() -> Result<(), rl_envs::EnvError> {
    static DONE: std::sync::OnceLock<Result<(), rl_envs::EnvError>> = std::sync::OnceLock::new();
    DONE.get_or_init(|| {
        rl_envs::register_namespace(PREFIX, |rest: &str| {
            let name = format!("{PREFIX}:{rest}");
            match rest.rsplit_once(':') {
                Some((module, id)) => PyEnv::make(&name, Some(module), id),
                None => PyEnv::make(&name, None, rest),
            }
        })
    })
    .clone()
}
