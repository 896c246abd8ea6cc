//! The configurations this crate ships (rl-baselines-zoo's `acer.yml` for Stable-Baselines 2
//! where it has one; PFRL's continuous ACER settings for the MuJoCo tasks), embedded so they work
//! from any directory. Each has a `[run]` and an `[acer]` table.

use rl_nn::config::Presets;

/// The presets, each a name and its file.
pub const PRESETS: Presets = Presets::new(
    "ACER",
    &[
        ("CartPole-v1", include_str!("../configs/cartpole-v1.toml")),
        ("Acrobot-v1", include_str!("../configs/acrobot-v1.toml")),
        (
            "MountainCar-v0",
            include_str!("../configs/mountaincar-v0.toml"),
        ),
        ("Pendulum-v1", include_str!("../configs/pendulum-v1.toml")),
        (
            "HalfCheetah-v5",
            include_str!("../configs/halfcheetah-v5.toml"),
        ),
        ("Hopper-v5", include_str!("../configs/hopper-v5.toml")),
        (
            "gymnasium:LunarLander-v3",
            include_str!("../configs/gymnasium-lunarlander-v3.toml"),
        ),
    ],
);
