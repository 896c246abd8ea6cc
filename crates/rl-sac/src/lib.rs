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
//! let action = trainer.agent_mut().act(&[1.0, 0.0, 0.0], true)?; // tanh(μ), in [-1, 1]
//! assert!(matches!(action, rl_envs::OwnedAction::Continuous(a) if a[0].abs() <= 1.0));
//! # Ok::<(), rl_sac::SacError>(())
//! ```
//!
//! The three SACs of `algorithms.md`, each update readable top to bottom in its own module:
//!
//! - [`v2`]: "Soft Actor-Critic Algorithms and Applications" — twin Q, learned temperature (the
//!   default for box action spaces);
//! - [`v1`]: the first SAC paper — a value network and its target, fixed temperature
//!   (`variant = "v1"`);
//! - [`discrete`]: SAC for discrete actions (Christodoulou 2019), chosen by a discrete action space.
//!
//! Around them: [`networks`] (tanh-Gaussian and categorical actors, Q-networks, the value
//! network: 256-256 ReLU MLPs by default); [`losses`] (every loss, one function each, with the
//! papers' equation numbers); [`Sac`], the agent (`act`, `update`, `save` / `load` of everything
//! needed to resume); [`SacTrainer`], the off-policy loop (warm-up, replay, training phases, the learning-rate schedule) with exact
//! save / resume; [`SacConfig`] (Stable-Baselines3's names and defaults) and [`presets`].

mod agent;
pub mod config;
pub mod discrete;
mod error;
pub mod losses;
pub mod networks;
pub mod presets;
mod trainer;
pub mod v1;
pub mod v2;

pub use agent::{Sac, UpdateMetrics, check_env};
pub use config::SacConfig;
pub use error::{Result, SacError};
pub use rl_buffer::ActionSpec;
pub use rl_math::optim::LrSchedule;
pub use trainer::{EpisodeEnd, Restored, SacTrainer, StepReport};
pub use v2::CriticHalf;
