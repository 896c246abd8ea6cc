//! Training plumbing for the workspace's learners: what turns an agent into a reproducible,
//! inspectable, resumable run.
//!
//! ```no_run
//! use rl_runner::{TrainOptions, train, parse_device};
//!
//! let options = TrainOptions { algo: "sac".into(), steps: Some(2_000), progress: true, ..Default::default() };
//! let summary = train(&options, &parse_device("cpu")?)?;
//! println!("{} on {}: {:.1} ± {:.1}", summary.algo, summary.env, summary.eval_mean_return, summary.eval_std_return);
//! # Ok::<(), rl_runner::RunError>(())
//! ```
//!
//! A run folder holds:
//!
//! - `config.toml`: the resolved configuration (`[run]` and the algorithm's table, every default
//!   filled in);
//! - `metrics/train.csv`, `metrics/episodes.csv`, `metrics/eval.csv` and TensorBoard events in
//!   `tb/` (see [`logs`]);
//! - `checkpoints/step-…/` written atomically, with `checkpoints/LATEST` naming the newest;
//! - `learning_curve.png` and `summary.json` at the end.
//!
//! [`Algorithm`] is what a learner provides and [`learners::LEARNERS`] the table of those the
//! runner knows (a new learner is an adapter and a row there); [`train`] runs one,
//! [`evaluate_run`] evaluates a saved run.

pub mod algorithm;
mod algos;
mod checkpoints;
pub mod compare;
pub mod config;
mod error;
mod evaluate;
pub mod learners;
pub mod logs;
pub mod plot;
mod run_dir;
mod runner;
mod signals;
pub mod stats;
pub mod tensorboard;
pub mod video;

pub use algorithm::{Algorithm, EpisodeLog, Progress};
pub use config::{ConfigFile, RunConfig};
pub use error::{Result, RunError};
pub use evaluate::{
    EvalActions, eval_seed, evaluate_algorithm, evaluate_run, evaluate_run_with, load_run,
};
pub use runner::{EPISODE_GIF, Summary, TrainOptions, parse_device, resolve, train};
pub use signals::{stop_on_signals, stop_signal};
