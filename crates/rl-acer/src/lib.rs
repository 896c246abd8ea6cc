//! ACER, actor-critic with experience replay (Wang et al. 2017), on [Candle](candle_core), for
//! discrete and continuous actions.
//!
//! ```
//! use candle_core::Device;
//! use rl_acer::{Acer, AcerConfig, AcerTrainer};
//!
//! // Stable-Baselines 2's defaults with 4 envs on CartPole, replaying from the start.
//! let config = AcerConfig { n_envs: 4, replay_start: 0, ..AcerConfig::default() };
//! let agent = Acer::new(config, 4, rl_buffer::ActionSpec::Discrete { n: 2 }, &Device::Cpu, 0)?;
//! let mut trainer = AcerTrainer::with_factory(agent, || rl_envs::make("CartPole-v1"), 0)?;
//! for _ in 0..3 {
//!     let report = trainer.step()?; // 4 envs × 20 steps, 1 + Poisson(4) updates
//!     assert!(report.updates.iter().all(|m| m.q_loss.is_finite()));
//! }
//! assert_eq!(trainer.num_timesteps(), 240);
//! # Ok::<(), rl_acer::AcerError>(())
//! ```
//!
//! As `algorithms.md` specifies it, with Stable-Baselines 2's defaults ([`AcerConfig`]):
//!
//! - [`AcerTrainer`]: `n_envs` envs in lockstep for `n_steps`; each env's steps are one segment
//!   holding the behaviour policy's full distribution; one on-policy update on the fresh
//!   segments, then `Poisson(replay_ratio)` updates on segments replayed from
//!   `rl_buffer::SegmentReplay`, which keeps unnormalized values: with `normalize_obs` /
//!   `normalize_reward`, replayed batches are normalized with the statistics of the moment they
//!   are drawn ([`AcerTrainer::normalizer`]);
//! - [`Acer`]: the update, top to bottom in `agent.rs`, `discrete.rs` and `continuous.rs`:
//!   Retrace targets (`rl_math::returns::retrace`), truncated importance weights with bias
//!   correction, entropy bonus, the efficient trust region ([`trust_region`]) against the average
//!   policy network, the critic loss, global-norm clipping, RMSprop, the Polyak average;
//! - discrete actions: one body with policy and `Q(s, ·)` heads (or, `shared_body = false`, two
//!   networks as Stable-Baselines 2's `MlpPolicy`, with its orthogonal initialization under
//!   `ortho_init`); continuous actions: a Gaussian
//!   policy and the stochastic dueling network (`V` and `A` heads, `n_samples` samples), `ρ^{1/d}`
//!   traces, `Q_opc`, the value target;
//! - the learning rate falls linearly to 0 over the run (`lr_schedule = "linear"`, SB2's default;
//!   `"constant"` keeps it), set by the trainer from `AcerTrainer::set_total_timesteps`;
//! - every switch the paper ablates is a key: `trust_region`, `bias_correction`,
//!   `correction_term` (`c`), `delta` (`δ`), `replay_ratio`;
//! - [`presets`]: rl-baselines-zoo's settings for CartPole-v1, Acrobot-v1, MountainCar-v0 and
//!   `gymnasium:LunarLander-v3` (the last with SB2's networks; the env comes through
//!   `rl-gymnasium`), the project's for Pendulum-v1 (continuous), and PFRL's MuJoCo settings for
//!   HalfCheetah-v5 and Hopper-v5 (continuous; the envs come from `rl-mujoco`).
//!
//! The gradients with respect to the policy's statistics, the projection and their push through
//! the network are computed explicitly (candle keeps no gradients of intermediate tensors). The
//! tests check against autograd: for discrete actions the whole off-policy policy gradient (bias
//! correction live, trust region projecting, `z*` pushed through softmax and network), the
//! actor-critic limit and the critic's gradient; for continuous actions the Gaussian's score and
//! KL gradients, and one whole update (every parameter and average parameter) against PyTorch in
//! float64 (`tests/golden.rs`, from `tests/fixtures/make_golden.py`).

mod agent;
mod config;
mod continuous;
mod discrete;
mod error;
pub mod networks;
pub mod presets;
#[cfg(test)]
mod tests;
mod trainer;
pub mod trust_region;

pub use agent::{Acer, AcerMetrics, Acted};
pub use config::AcerConfig;
pub use error::{AcerError, Result};
pub use rl_math::optim::LrSchedule;
pub use trainer::{AcerTrainer, CurrentStatistics, EpisodeEnd, RolloutReport};
