//! Proximal policy optimization (PPO with the clipped surrogate; Schulman et al. 2017) on
//! [Candle](candle_core).
//!
//! ```
//! use candle_core::Device;
//! use rl_ppo::{Ppo, PpoConfig, PpoTrainer};
//!
//! // 4 envs × 16 steps per rollout, 2 epochs of minibatches of 32.
//! let config = PpoConfig { n_envs: 4, n_steps: 16, batch_size: 32, n_epochs: 2, ..PpoConfig::default() };
//! let agent = Ppo::new(config, 4, rl_buffer::ActionSpec::Discrete { n: 2 }, &Device::Cpu, 0)?;
//! let mut trainer = PpoTrainer::with_factory(agent, || rl_envs::make("CartPole-v1"), 0)?;
//! for _ in 0..3 {
//!     let report = trainer.step()?; // a rollout of 64 steps, then 2 × 2 Adam steps
//!     assert_eq!(report.metrics.gradient_steps, 4);
//! }
//! assert_eq!(trainer.num_timesteps(), 192);
//! # Ok::<(), rl_ppo::PpoError>(())
//! ```
//!
//! As the paper and SB3's `PPO` define it, with SB3's names and defaults ([`PpoConfig`]):
//!
//! - [`losses`]: the ratio `r_t(θ)`, the clipped surrogate (eq. 7), the value error (optionally
//!   clipped around the value at collection), the entropy bonus and their sum (eq. 9), one
//!   function per term; the approximate KL and clip fraction logged beside them;
//! - [`Ppo`]: the networks of `rl_nn::actor_critic` (separate 64-64 tanh policy and value MLPs,
//!   orthogonal initialization, categorical or diagonal-Gaussian policy, optional gSDE), Adam
//!   (ε 1e-5), `n_epochs` passes over each rollout in shuffled minibatches with advantages
//!   normalized per minibatch, global-norm gradient clipping, optional `target_kl` early stop;
//! - [`PpoTrainer`]: `n_envs` envs in lockstep for `n_steps` (`rl_nn::rollout::OnPolicyLoop`,
//!   shared with A2C), GAE(λ) with truncated episodes bootstrapped from their true final
//!   observation, optional observation and reward normalization, linear learning-rate and
//!   clipping schedules, exact save / resume;
//! - [`presets`]: rl-baselines3-zoo's settings for CartPole-v1, Acrobot-v1, Pendulum-v1 and
//!   MountainCarContinuous-v0.

mod agent;
mod config;
mod error;
pub mod losses;
pub mod presets;
mod trainer;

pub use agent::{MinibatchMetrics, Ppo, PpoMetrics};
pub use config::PpoConfig;
pub use error::{PpoError, Result};
pub use rl_math::optim::LrSchedule;
pub use rl_nn::actor_critic::Acted;
pub use trainer::{EpisodeEnd, PpoTrainer, RolloutReport};
