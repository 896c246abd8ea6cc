//! The runner's adapters for the workspace's learners.

pub(crate) mod sac;
