//! The one error type of this crate.

use thiserror::Error;

/// What can stop a run: bad configuration or arguments, an unusable run folder or checkpoint, or
/// an error from the learner (a NaN loss, a bad observation), each naming the problem.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum RunError {
    /// A malformed or invalid configuration, override or argument.
    #[error("config: {0}")]
    Config(String),
    /// A run folder that cannot be used (exists already, missing files).
    #[error("run folder {path}: {reason}")]
    RunDir {
        /// The folder.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A checkpoint that could not be loaded (damaged, or for another configuration).
    #[error("cannot load checkpoint {path}: {source}")]
    Load {
        /// The checkpoint folder.
        path: String,
        /// The cause.
        #[source]
        source: Box<RunError>,
    },
    /// A device that this build cannot use.
    #[error("device: {0}")]
    Device(String),
    /// Training stopped; `source` says why and the message says what is safe.
    #[error("training stopped at step {step}: {source}; the last good checkpoint is {checkpoint}")]
    Stopped {
        /// Environment steps done when it stopped.
        step: u64,
        /// The last checkpoint written (untouched by the failure), or "none".
        checkpoint: String,
        /// The cause.
        #[source]
        source: Box<RunError>,
    },
    /// From SAC.
    #[error(transparent)]
    Sac(#[from] rl_sac::SacError),
    /// From A2C.
    #[error(transparent)]
    A2c(#[from] rl_a2c::A2cError),
    /// From ACER.
    #[error(transparent)]
    Acer(#[from] rl_acer::AcerError),
    /// From PPO.
    #[error(transparent)]
    Ppo(#[from] rl_ppo::PpoError),
    /// From the environments.
    #[error(transparent)]
    Env(#[from] rl_envs::EnvError),
    /// From the networks or checkpoints.
    #[error(transparent)]
    Nn(#[from] rl_nn::NnError),
    /// From the plot.
    #[error("plot: {0}")]
    Plot(String),
}

/// `Result` with [`RunError`].
pub type Result<T> = std::result::Result<T, RunError>;

pub(crate) fn io_err(path: &std::path::Path) -> impl Fn(std::io::Error) -> RunError + '_ {
    move |source| RunError::Io {
        path: path.display().to_string(),
        source,
    }
}
