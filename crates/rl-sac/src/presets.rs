//! The configurations this crate ships, embedded so they work from any directory.
//!
//! Each is a TOML file (`configs/<env>.toml`) with a `[run]` table (environment, budget,
//! evaluation: read by the runner) and a `[sac]` table ([`SacConfig`](crate::SacConfig)).

/// The environments with a preset.
pub const ENVS: &[&str] = &["Pendulum-v1"];

/// The preset file for `env_id`, if one ships.
pub fn get(env_id: &str) -> Option<&'static str> {
    match env_id {
        "Pendulum-v1" => Some(include_str!("../configs/pendulum-v1.toml")),
        _ => None,
    }
}
