//! The configurations this crate ships, embedded so they work from any directory.
//!
//! Each is a TOML file in `configs/` with a `[run]` table (environment, budget, evaluation: read by
//! the runner) and a `[sac]` table ([`SacConfig`](crate::SacConfig)). A preset is named by its
//! environment id, or by `<env id>-sac-v1` for SAC v1's.

use rl_nn::config::Presets;

/// The presets, each a name and its file.
pub const PRESETS: Presets = Presets::new(
    "SAC",
    &[
        ("Pendulum-v1", include_str!("../configs/pendulum-v1.toml")),
        (
            "Pendulum-v1-sac-v1",
            include_str!("../configs/pendulum-v1-sac-v1.toml"),
        ),
        ("CartPole-v1", include_str!("../configs/cartpole-v1.toml")),
        ("Acrobot-v1", include_str!("../configs/acrobot-v1.toml")),
    ],
);
