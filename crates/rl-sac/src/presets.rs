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
        (
            "MountainCarContinuous-v0",
            include_str!("../configs/mountaincarcontinuous-v0.toml"),
        ),
        (
            "HalfCheetah-v5",
            include_str!("../configs/halfcheetah-v5.toml"),
        ),
        ("Hopper-v5", include_str!("../configs/hopper-v5.toml")),
        ("Walker2d-v5", include_str!("../configs/walker2d-v5.toml")),
        ("Ant-v5", include_str!("../configs/ant-v5.toml")),
        ("Humanoid-v5", include_str!("../configs/humanoid-v5.toml")),
        (
            "HalfCheetah-v5-sac-v1",
            include_str!("../configs/halfcheetah-v5-sac-v1.toml"),
        ),
        (
            "Hopper-v5-sac-v1",
            include_str!("../configs/hopper-v5-sac-v1.toml"),
        ),
        (
            "gymnasium:LunarLander-v3",
            include_str!("../configs/gymnasium-lunarlander-v3.toml"),
        ),
        (
            "gymnasium:LunarLanderContinuous-v3",
            include_str!("../configs/gymnasium-lunarlandercontinuous-v3.toml"),
        ),
    ],
);
