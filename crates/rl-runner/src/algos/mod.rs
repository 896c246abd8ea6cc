//! The runner's adapters for the workspace's learners.

pub(crate) mod a2c;
pub(crate) mod acer;
pub(crate) mod sac;
