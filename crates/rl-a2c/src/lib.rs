//! Synchronous advantage actor-critic (A2C; Mnih et al. 2016) on [Candle](candle_core).
//!
//! ```
//! use candle_core::Device;
//! use rl_a2c::{A2c, A2cConfig, A2cTrainer};
//!
//! // SB3's defaults with 4 envs on CartPole.
//! let config = A2cConfig { n_envs: 4, ..A2cConfig::default() };
//! let agent = A2c::new(config, 4, rl_buffer::ActionSpec::Discrete { n: 2 }, &Device::Cpu, 0)?;
//! let mut trainer = A2cTrainer::with_factory(agent, || rl_envs::make("CartPole-v1"), 0)?;
//! for _ in 0..10 {
//!     let report = trainer.step()?; // 4 envs × 5 steps, one update
//!     assert!(report.metrics.value_loss.is_finite());
//! }
//! assert_eq!(trainer.num_timesteps(), 200);
//! # Ok::<(), rl_a2c::A2cError>(())
//! ```
//!
//! As `algorithms.md` specifies it, with SB3's defaults ([`A2cConfig`]):
//!
//! - [`losses`]: `−mean(log π(a|s) · sg(A)) + vf_coef · mean((sg(R) − V(s))²) − ent_coef · mean(H(π))`,
//!   one function per term;
//! - [`A2c`]: separate policy and value MLPs (64-64 tanh, orthogonal initialization with gains
//!   √2, 0.01 and 1), categorical or diagonal-Gaussian policy (state-independent `log σ`, or
//!   gSDE's state-dependent noise with `use_sde`: `rl_math::distributions::Gsde`), global-norm
//!   gradient clipping, RMSprop at a constant or linearly falling rate (`lr_schedule`);
//! - [`A2cTrainer`]: `n_envs` envs in lockstep for `n_steps`, n-step returns or GAE(λ) from
//!   `rl_buffer::RolloutBuffer` (truncated episodes bootstrap from their true final observation),
//!   optional observation and reward normalization (`rl_envs::VecNormalize`), exact save / resume;
//! - [`presets`]: rl-baselines3-zoo's settings for CartPole-v1, Acrobot-v1, MountainCar-v0 and
//!   Pendulum-v1, and the one-step TD actor-critic (`n_steps = 1`, one env).

mod agent;
mod config;
mod error;
pub mod losses;
pub mod presets;
mod trainer;

pub use agent::{A2c, A2cMetrics};
pub use config::A2cConfig;
pub use error::{A2cError, Result};
pub use rl_math::optim::LrSchedule;
pub use rl_nn::actor_critic::Acted;
pub use trainer::{A2cTrainer, EpisodeEnd, RolloutReport};
