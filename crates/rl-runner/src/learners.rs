//! The learners the runner knows, one row of [`LEARNERS`] each: a new learner is its adapter (an
//! [`Algorithm`] in `src/algos/`) and a row here; the runner, `cargo xtask` and the regression
//! table find it from then on.

use candle_core::Device;
use rl_nn::config::Presets;

use crate::algorithm::Algorithm;
use crate::algos::{a2c::A2cAlgorithm, acer::AcerAlgorithm, ppo::PpoAlgorithm, sac::SacAlgorithm};
use crate::config::{ConfigFile, RunConfig};
use crate::{Result, RunError};

/// Builds a learner for a run from its resolved run table and its algorithm table.
pub type Build = fn(&RunConfig, &toml::Table, &Device) -> Result<Box<dyn Algorithm>>;

/// One learner: its name (also its config table's), the environment it trains on when none is
/// given, its shipped presets, and how to build it.
#[derive(Debug, Clone, Copy)]
pub struct Learner {
    /// `"sac"`: the name on the command line and of the config table.
    pub name: &'static str,
    /// The environment when none is given.
    pub default_env: &'static str,
    /// Its shipped presets, named by environment id or variant.
    pub presets: &'static Presets,
    /// The `variant` its config resolves to when none is set (SAC's `"v2"`); `None` for a
    /// learner without variants.
    pub default_variant: Option<&'static str>,
    /// The constructor.
    pub build: Build,
}

/// Every learner the runner knows.
pub const LEARNERS: &[Learner] = &[
    Learner {
        name: "sac",
        default_env: "Pendulum-v1",
        presets: &rl_sac::presets::PRESETS,
        default_variant: Some("v2"),
        build: |run, table, device| Ok(Box::new(SacAlgorithm::new(run, table, device)?)),
    },
    Learner {
        name: "a2c",
        default_env: "CartPole-v1",
        presets: &rl_a2c::presets::PRESETS,
        default_variant: None,
        build: |run, table, device| Ok(Box::new(A2cAlgorithm::new(run, table, device)?)),
    },
    Learner {
        name: "acer",
        default_env: "CartPole-v1",
        presets: &rl_acer::presets::PRESETS,
        default_variant: None,
        build: |run, table, device| Ok(Box::new(AcerAlgorithm::new(run, table, device)?)),
    },
    Learner {
        name: "ppo",
        default_env: "CartPole-v1",
        presets: &rl_ppo::presets::PRESETS,
        default_variant: None,
        build: |run, table, device| Ok(Box::new(PpoAlgorithm::new(run, table, device)?)),
    },
];

/// The learner named `name`, or an error listing the known ones.
pub fn learner(name: &str) -> Result<&'static Learner> {
    LEARNERS.iter().find(|l| l.name == name).ok_or_else(|| {
        RunError::Config(format!(
            "unknown algorithm {name:?}; known: {}",
            names().join(", ")
        ))
    })
}

/// The learners' names, in table order.
pub fn names() -> Vec<&'static str> {
    LEARNERS.iter().map(|l| l.name).collect()
}

/// Builds `run.algo` for `run.env` from the configuration's algorithm table.
pub fn build(run: &RunConfig, file: &ConfigFile, device: &Device) -> Result<Box<dyn Algorithm>> {
    let learner = learner(&run.algo)?;
    (learner.build)(run, &file.algo_table(learner.name)?, device)
}
