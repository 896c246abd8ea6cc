//! The configurations this crate ships (rl-baselines-zoo's `acer.yml` for Stable-Baselines 2
//! where it has one), embedded so they work from any directory. Each has a `[run]` and an
//! `[acer]` table.

/// Every preset name.
pub const NAMES: &[&str] = &["CartPole-v1", "Acrobot-v1", "MountainCar-v0", "Pendulum-v1"];

/// The preset file named `name`, if one ships.
pub fn get(name: &str) -> Option<&'static str> {
    match name {
        "CartPole-v1" => Some(include_str!("../configs/cartpole-v1.toml")),
        "Acrobot-v1" => Some(include_str!("../configs/acrobot-v1.toml")),
        "MountainCar-v0" => Some(include_str!("../configs/mountaincar-v0.toml")),
        "Pendulum-v1" => Some(include_str!("../configs/pendulum-v1.toml")),
        _ => None,
    }
}
