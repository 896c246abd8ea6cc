//! The configurations this crate ships (rl-baselines3-zoo's `ppo.yml`), embedded so they work
//! from any directory. Each has a `[run]` and a `[ppo]` table.

use rl_nn::config::Presets;

/// The presets, each a name and its file.
pub const PRESETS: Presets = Presets::new(
    "PPO",
    &[
        ("CartPole-v1", include_str!("../configs/cartpole-v1.toml")),
        ("Acrobot-v1", include_str!("../configs/acrobot-v1.toml")),
        ("Pendulum-v1", include_str!("../configs/pendulum-v1.toml")),
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
    ],
);
