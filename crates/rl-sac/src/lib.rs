//! Soft Actor-Critic (Haarnoja et al. 2018) on [Candle](candle_core).
//!
//! ```
//! use candle_core::Device;
//! use rl_sac::{Sac, SacConfig, SacTrainer};
//!
//! // SB3's defaults with the zoo's Pendulum learning rate, a small network for the example.
//! let config = SacConfig { learning_rate: 1e-3, net_arch: vec![32, 32], batch_size: 32,
//!                          learning_starts: 50, ..SacConfig::default() };
//! let env = rl_envs::make("Pendulum-v1")?;
//! let agent = Sac::for_env(config, &env, &Device::Cpu, 0)?;
//! let mut trainer = SacTrainer::new(agent, env, 0)?;
//! for _ in 0..60 {
//!     let report = trainer.step()?;
//!     for update in &report.updates {
//!         assert!(update.critic_loss.is_finite());
//!     }
//! }
//! assert_eq!(trainer.agent().updates(), 10); // learning starts after 50 warm-up steps
//! let action = trainer.agent_mut().act(&[1.0, 0.0, 0.0], true)?; // in [-1, 1]
//! assert!(action[0].abs() <= 1.0);
//! # Ok::<(), rl_sac::SacError>(())
//! ```
//!
//! SAC v2 as `algorithms.md` specifies it ("Soft Actor-Critic Algorithms and Applications"):
//!
//! - [`networks`]: the tanh-Gaussian actor and twin critics, 256-256 ReLU MLPs by default.
//! - [`losses`]: the soft TD target and the critic, actor and temperature losses, one function
//!   each with the paper's equation numbers.
//! - [`Sac`]: the agent — `act` (stochastic or deterministic), `update` (one gradient step in SB3's
//!   order: temperature, critics, actor, Polyak), `save` / `load` of everything needed to resume.
//! - [`SacTrainer`]: the off-policy loop (warm-up, replay, training schedule) on any
//!   `rl_envs::Env` with a box action space, with exact save / resume.
//! - [`SacConfig`]: Stable-Baselines3's hyperparameter names and defaults; [`presets`]: the
//!   shipped per-environment settings.

mod agent;
pub mod config;
mod error;
pub mod losses;
pub mod networks;
pub mod presets;
mod trainer;

pub use agent::{CriticHalf, Sac, UpdateMetrics, check_env};
pub use config::SacConfig;
pub use error::{Result, SacError};
pub use trainer::{EpisodeEnd, SacTrainer, StepReport};
