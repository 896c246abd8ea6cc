//! Gymnasium-style reinforcement-learning environments in Rust.
//!
//! ```
//! use rl_envs::{Action, Env, make};
//!
//! let mut env = make("CartPole-v1")?; // with Gymnasium's 500-step limit
//! let mut obs = env.reset(Some(42))?.to_vec();
//! let mut episode_return = 0.0;
//! loop {
//!     // Push the cart toward the side the pole leans to.
//!     let action = Action::Discrete(usize::from(obs[2] > 0.0));
//!     let step = env.step(action)?;
//!     episode_return += step.reward;
//!     obs = step.observation.to_vec();
//!     if step.terminated || step.truncated {
//!         break;
//!     }
//! }
//! assert!(episode_return >= 1.0);
//! # Ok::<(), rl_envs::EnvError>(())
//! ```
//!
//! What is here:
//! - [`Env`]: Gymnasium's API (`reset(seed)`, `step(action)` → observation, reward, `terminated`,
//!   `truncated`) with typed [`Action`]s and errors, not panics, for bad ones ([`EnvError`]).
//! - [`Space`]: [`Discrete`] and [`BoxSpace`], with `contains` and seeded `sample`.
//! - [`classic`]: CartPole-v1, Pendulum-v1, MountainCarContinuous-v0, MountainCar-v0 and
//!   Acrobot-v1, matching Gymnasium's source step for step (checked against recorded Gymnasium
//!   trajectories in `tests/gymnasium_parity.rs`), each with readable and settable internal state.
//! - [`make`]: environments by Gymnasium id, with their time limits, from a registry that
//!   [`register`] extends with anyone's environments (then every trainer and the runner know them).
//! - [`wrappers`]: time limit, action rescaling to `[-1, 1]`, observation normalization with
//!   saveable statistics, episode statistics.
//! - [`SyncVectorEnv`]: N envs in lockstep with autoreset that keeps each finished episode's true
//!   final observation; [`VecNormalize`]: SB3's shared observation / reward normalization over it.
//! - [`Collector`]: an on-policy learner's envs in lockstep over [`VecNormalize`] (actions clipped,
//!   values checked finite, episodes counted, final observations kept, state saveable), which
//!   A2C and ACER share.
//! - [`probe`]: tiny tasks with known answers for debugging learners.
//! - [`check_env`]: checks a user-written environment keeps the contract (Gymnasium's
//!   `check_env`): spaces, observation sizes, finite values, determinism under a seed, invalid
//!   actions rejected, snapshot / restore.
//!
//! Every environment draws its randomness from its own [`EnvRng`], seeded by `reset(Some(seed))`:
//! the same seed gives the same episode on every run and platform.

mod checker;
pub mod classic;
mod collector;
mod env;
mod error;
pub mod probe;
mod registry;
mod render;
mod rng;
mod space;
mod vec_normalize;
mod vector;
pub mod wrappers;

pub use checker::{CheckReport, check_env};
pub use collector::{Collector, CollectorState, EpisodeEnd, Stepped};
pub use env::{Action, BoxedEnv, Env, Snapshot, Step, restore_from, snapshot_of};
pub use error::EnvError;
pub use registry::{
    EnvFactory, EnvResolver, EnvSpec, factory, is_registered, known_ids, make, register,
    register_namespace, spec,
};
pub use render::Frame;
pub use rng::EnvRng;
pub use space::{ActionSpec, BoxSpace, Discrete, OwnedAction, Space, learner_spaces};
pub use vec_normalize::{NormalizeConfig, NormalizeStats, VecNormalize};
pub use vector::{SyncVectorEnv, VecAction, VecStep};
