//! Run configuration: a `[run]` table (environment, budget, evaluation, checkpoints) and the
//! algorithm's table (`[sac]`, ...), from a shipped preset or a file, with `--set` overrides.

use serde::{Deserialize, Serialize};

use crate::{Result, RunError};

/// What a run does besides the algorithm's own hyperparameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunConfig {
    /// The algorithm (`"sac"`).
    pub algo: String,
    /// The environment's Gymnasium id.
    pub env: String,
    /// The seed of every random draw of the run.
    pub seed: u64,
    /// Environment steps to train for.
    pub n_timesteps: u64,
    /// Environment steps between deterministic evaluations (0: only at the end).
    pub eval_freq: u64,
    /// Episodes per evaluation.
    pub eval_episodes: usize,
    /// Environment steps between checkpoints (0: only at the end).
    pub checkpoint_freq: u64,
    /// Checkpoints kept (older ones are deleted).
    pub keep_checkpoints: usize,
    /// Environment steps between rows of `metrics/train.csv` (averages of the updates in between).
    pub log_interval: u64,
    /// Save the replay buffer in each checkpoint, so a resumed run continues bit for bit.
    pub save_buffer: bool,
}

impl Default for RunConfig {
    fn default() -> Self {
        Self {
            algo: String::new(),
            env: String::new(),
            seed: 0,
            n_timesteps: 100_000,
            eval_freq: 10_000,
            eval_episodes: 10,
            checkpoint_freq: 10_000,
            keep_checkpoints: 2,
            log_interval: 100,
            save_buffer: false,
        }
    }
}

/// The most evaluation episodes a run or `eval` may ask for.
pub const MAX_EVAL_EPISODES: usize = 100_000;

impl RunConfig {
    /// Checks every value is usable, naming the first that is not (on every path a
    /// configuration enters: a new run, `--resume`, `eval`).
    pub fn validate(&self) -> Result<()> {
        let bad = |what: String| Err(RunError::Config(format!("[run] {what}")));
        if !(1..=MAX_EVAL_EPISODES).contains(&self.eval_episodes) {
            return bad(format!(
                "eval_episodes must be in 1..={MAX_EVAL_EPISODES}, got {}",
                self.eval_episodes
            ));
        }
        if self.keep_checkpoints == 0 {
            return bad("keep_checkpoints must be at least 1".into());
        }
        if self.env.is_empty() || self.env.len() > 200 {
            return bad(format!(
                "env must be an id of 1 to 200 characters, got {:?}",
                self.env
            ));
        }
        Ok(())
    }
}

/// The keys of [`RunConfig`] (a bare `--set key=value` with one of these goes to `[run]`).
pub const RUN_KEYS: &[&str] = &[
    "algo",
    "env",
    "seed",
    "n_timesteps",
    "eval_freq",
    "eval_episodes",
    "checkpoint_freq",
    "keep_checkpoints",
    "log_interval",
    "save_buffer",
];

/// A whole configuration: the run table and the algorithm's table, as TOML.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigFile {
    table: toml::Table,
}

impl ConfigFile {
    /// Parses TOML text. Only `[run]` and the algorithm's table may appear.
    pub fn parse(text: &str) -> Result<Self> {
        let table: toml::Table =
            toml::from_str(text).map_err(|e| RunError::Config(e.to_string()))?;
        Ok(Self { table })
    }

    /// An empty configuration (every default).
    pub fn empty() -> Self {
        Self {
            table: toml::Table::new(),
        }
    }

    /// Applies one `key=value` override. `key` is `table.key` or a bare key (a [`RUN_KEYS`] key goes
    /// to `[run]`, anything else to `[algo]`). `value` is read as TOML (`3e-4`, `true`,
    /// `[64, 64]`, `"auto"`), falling back to a plain string (`ent_coef=auto`).
    pub fn set(&mut self, assignment: &str, algo: &str) -> Result<()> {
        let (key, raw) = assignment.split_once('=').ok_or_else(|| {
            RunError::Config(format!("--set takes key=value, got {assignment:?}"))
        })?;
        let key = key.trim();
        let (table, field) = match key.split_once('.') {
            Some((t, f)) => (t.to_owned(), f.to_owned()),
            None if RUN_KEYS.contains(&key) => ("run".to_owned(), key.to_owned()),
            None => (algo.to_owned(), key.to_owned()),
        };
        if table != "run" && table != algo {
            return Err(RunError::Config(format!(
                "--set {key}: the tables are [run] and [{algo}]"
            )));
        }
        let value = parse_value(raw.trim());
        let entry = self
            .table
            .entry(table.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        let toml::Value::Table(t) = entry else {
            return Err(RunError::Config(format!("[{table}] is not a table")));
        };
        t.insert(field, value);
        Ok(())
    }

    /// The `[run]` table as a [`RunConfig`] (unknown keys are an error).
    pub fn run(&self) -> Result<RunConfig> {
        let value = self
            .table
            .get("run")
            .cloned()
            .unwrap_or(toml::Value::Table(toml::Table::new()));
        value
            .try_into()
            .map_err(|e: toml::de::Error| RunError::Config(format!("[run] {}", e.message())))
    }

    /// The algorithm's table (empty if absent), for the algorithm's own `from_table`.
    pub fn algo_table(&self, algo: &str) -> Result<toml::Table> {
        match self.table.get(algo) {
            None => Ok(toml::Table::new()),
            Some(toml::Value::Table(t)) => Ok(t.clone()),
            Some(other) => Err(RunError::Config(format!(
                "[{algo}] must be a table of settings, got a {}",
                other.type_str()
            ))),
        }
    }

    /// Tables other than `[run]` and `[algo]` (a typo such as `[sca]`), as an error.
    pub fn check_tables(&self, algo: &str) -> Result<()> {
        match self.table.keys().find(|k| *k != "run" && *k != algo) {
            Some(k) => Err(RunError::Config(format!(
                "unknown table [{k}]: a {algo} config has [run] and [{algo}]"
            ))),
            None => Ok(()),
        }
    }

    /// Replaces the `[run]` table with `run` and the algorithm's table with `algo_table` (the
    /// resolved values, defaults filled in): what a run folder's `config.toml` records.
    pub fn resolved(run: &RunConfig, algo: &str, algo_table: toml::Table) -> Result<Self> {
        let mut table = toml::Table::new();
        let run = toml::Table::try_from(run).map_err(|e| RunError::Config(e.to_string()))?;
        table.insert("run".into(), toml::Value::Table(run));
        table.insert(algo.into(), toml::Value::Table(algo_table));
        Ok(Self { table })
    }

    /// The configuration as TOML text.
    pub fn to_text(&self) -> Result<String> {
        toml::to_string(&self.table).map_err(|e| RunError::Config(e.to_string()))
    }
}

fn parse_value(raw: &str) -> toml::Value {
    toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_owned()))
}
