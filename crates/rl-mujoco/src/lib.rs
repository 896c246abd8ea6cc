//! Gymnasium's MuJoCo v5 tasks as [`rl_envs::Env`]s, on MuJoCo's own C library.
//!
//! ```no_run
//! # #[cfg(feature = "native")] {
//! rl_mujoco::register()?; // HalfCheetah-v5, Hopper-v5, ... now in rl_envs' registry
//! let mut env = rl_envs::make("HalfCheetah-v5")?; // with Gymnasium's 1000-step limit
//! let obs = env.reset(Some(0))?.to_vec();
//! let step = env.step(rl_envs::Action::Continuous(&[0.1; 6]))?;
//! assert_eq!((obs.len(), step.observation.len()), (17, 17));
//! # }
//! # Ok::<(), rl_envs::EnvError>(())
//! ```
//!
//! - [`Task`]: HalfCheetah-v5, Hopper-v5, Walker2d-v5, Ant-v5, Humanoid-v5, Swimmer-v5,
//!   InvertedPendulum-v5, InvertedDoublePendulum-v5, Reacher-v5 and Pusher-v5, with Gymnasium's
//!   models (MIT, `assets/LICENSE-gymnasium`), frame skips, time limits and reward thresholds.
//! - `MujocoEnv` (feature `native`): a task with v5's default arguments, step for step equal to
//!   Gymnasium 1.4.0's on MuJoCo 3.17.0 (observations, rewards and every reward term, flags),
//!   checked against recorded Gymnasium episodes in `tests/parity.rs`, with exact snapshots.
//! - `register()` (feature `native`): adds every task's id to `rl_envs`' registry, so
//!   `rl_envs::make`, the trainers and the runner know them.
//!
//! The `native` feature links MuJoCo 3.17.0 through mujoco-rs, which finds the library through
//! `MUJOCO_DYNAMIC_LINK_DIR` at build time (and the loader through `LD_LIBRARY_PATH` at run
//! time). `cargo xtask` does both itself, extracting the library from PyPI's `mujoco` wheel on
//! first use (docs/mujoco.md). Without the feature this crate needs no MuJoCo: it holds the task
//! list, so the default workspace build stays pure Rust.

mod tasks;

#[cfg(feature = "native")]
mod env;
#[cfg(feature = "native")]
mod numpy;

#[cfg(feature = "native")]
pub use env::MujocoEnv;
pub use tasks::Task;

/// Registers every [`Task`]'s id with `rl_envs::register` (with Gymnasium's time limit and reward
/// threshold), once per process: later calls do nothing.
#[cfg(feature = "native")]
pub fn register() -> Result<(), rl_envs::EnvError> {
    static DONE: std::sync::OnceLock<Result<(), rl_envs::EnvError>> = std::sync::OnceLock::new();
    DONE.get_or_init(|| {
        for task in Task::ALL {
            rl_envs::register(task.spec(), move || MujocoEnv::new(task))?;
        }
        Ok(())
    })
    .clone()
}
