//! The run's metrics: CSV files under `metrics/` and TensorBoard events under `tb/`.
//!
//! - `metrics/train.csv`: `step` and the mean of each update metric over the last `log_interval`
//!   steps (SB3's `train/*` names), plus `updates` and `wall_seconds`;
//! - `metrics/episodes.csv`: `step,episode,return,length` for every finished training episode;
//! - `metrics/eval.csv`: `step,mean_return,std_return,episodes,returns` per evaluation.
//!
//! TensorBoard gets the same under `train/…`, `rollout/ep_rew_mean` (mean of the last 100
//! episodes), `rollout/ep_len_mean` and `eval/mean_reward`, `eval/std_reward`.

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::io_err;
use crate::run_dir::{METRICS_LIMIT, confined, read_text};
use crate::tensorboard::EventWriter;
use crate::{Result, RunError};

/// The three CSV files and the TensorBoard writer.
pub(crate) struct Logs {
    dir: PathBuf,
    train: Option<BufWriter<File>>,
    train_columns: Vec<String>,
    episodes: BufWriter<File>,
    eval: BufWriter<File>,
    tb: EventWriter,
    recent: VecDeque<(f64, u64)>,
    /// Running sums of update metrics since the last train row.
    pending: Vec<(&'static str, f64, u64)>,
    pending_updates: u64,
}

pub(crate) const EPISODES_HEADER: &str = "step,episode,return,length";
pub(crate) const EVAL_HEADER: &str = "step,mean_return,std_return,episodes,returns";

impl Logs {
    /// Opens the logs of run folder `run` for appending. After a resume, rows past `keep_until`
    /// (written after the checkpoint being resumed from) are dropped first.
    pub(crate) fn open(run: &Path, keep_until: Option<u64>) -> Result<Self> {
        let dir = confined(run, "metrics")?;
        std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        for name in ["train.csv", "episodes.csv", "eval.csv"] {
            let path = confined(run, &format!("metrics/{name}"))?;
            if let Some(step) = keep_until {
                truncate_after(&path, step)?;
            }
        }
        let train_path = dir.join("train.csv");
        let (train, train_columns) = match read_text(&train_path, METRICS_LIMIT) {
            Ok(text) if !text.is_empty() => {
                let header = text.lines().next().unwrap_or_default().to_owned();
                let columns = header
                    .split(',')
                    .filter(|c| !["step", "updates", "wall_seconds"].contains(c))
                    .map(str::to_owned)
                    .collect();
                (Some(append(&train_path)?), columns)
            }
            _ => (None, Vec::new()),
        };
        let episodes = append_with_header(&dir.join("episodes.csv"), EPISODES_HEADER)?;
        let eval = append_with_header(&dir.join("eval.csv"), EVAL_HEADER)?;
        let tb_dir = confined(run, "tb")?;
        let tb = EventWriter::create(&tb_dir).map_err(io_err(&tb_dir))?;
        Ok(Self {
            dir,
            train,
            train_columns,
            episodes,
            eval,
            tb,
            recent: VecDeque::new(),
            pending: Vec::new(),
            pending_updates: 0,
        })
    }

    /// Records a finished training episode.
    pub(crate) fn episode(&mut self, step: u64, index: u64, ret: f64, length: u64) -> Result<()> {
        let path = self.dir.join("episodes.csv");
        writeln!(self.episodes, "{step},{index},{ret},{length}").map_err(io_err(&path))?;
        if self.recent.len() == 100 {
            self.recent.pop_front();
        }
        self.recent.push_back((ret, length));
        let n = self.recent.len() as f64;
        let mean_ret = self.recent.iter().map(|r| r.0).sum::<f64>() / n;
        let mean_len = self.recent.iter().map(|r| r.1 as f64).sum::<f64>() / n;
        let tb = self.tb.path().to_owned();
        self.tb
            .scalar("rollout/ep_rew_mean", mean_ret, step)
            .map_err(io_err(&tb))?;
        self.tb
            .scalar("rollout/ep_len_mean", mean_len, step)
            .map_err(io_err(&tb))
    }

    /// Mean return of the last `n` training episodes (for the progress line).
    pub(crate) fn recent_return(&self, n: usize) -> Option<f64> {
        let k = self.recent.len().min(n);
        (k > 0).then(|| self.recent.iter().rev().take(k).map(|r| r.0).sum::<f64>() / k as f64)
    }

    /// Accumulates one update's metrics.
    pub(crate) fn update(&mut self, metrics: &[(&'static str, f64)]) {
        for &(name, value) in metrics {
            match self.pending.iter_mut().find(|p| p.0 == name) {
                Some(p) => {
                    p.1 += value;
                    p.2 += 1;
                }
                None => self.pending.push((name, value, 1)),
            }
        }
        self.pending_updates += 1;
    }

    /// Writes the averaged update metrics as one `train.csv` row (if any updates happened).
    pub(crate) fn flush_train(&mut self, step: u64, total_updates: u64, wall: f64) -> Result<()> {
        if self.pending_updates == 0 {
            return Ok(());
        }
        let path = self.dir.join("train.csv");
        if self.train.is_none() {
            self.train_columns = self.pending.iter().map(|p| p.0.to_owned()).collect();
            let mut f = append(&path)?;
            let header: Vec<&str> = ["step", "updates"]
                .into_iter()
                .chain(self.train_columns.iter().map(String::as_str))
                .chain(["wall_seconds"])
                .collect();
            writeln!(f, "{}", header.join(",")).map_err(io_err(&path))?;
            self.train = Some(f);
        }
        let mut row = vec![step.to_string(), total_updates.to_string()];
        let tb = self.tb.path().to_owned();
        for name in &self.train_columns {
            let value = self
                .pending
                .iter()
                .find(|p| p.0 == *name)
                .map(|p| p.1 / p.2 as f64);
            row.push(value.map(|v| v.to_string()).unwrap_or_default());
            if let Some(v) = value {
                self.tb
                    .scalar(&format!("train/{name}"), v, step)
                    .map_err(io_err(&tb))?;
            }
        }
        row.push(format!("{wall:.3}"));
        if let Some(f) = self.train.as_mut() {
            writeln!(f, "{}", row.join(",")).map_err(io_err(&path))?;
        }
        self.pending.clear();
        self.pending_updates = 0;
        Ok(())
    }

    /// Records an evaluation.
    pub(crate) fn eval(&mut self, step: u64, returns: &[f64]) -> Result<(f64, f64)> {
        let (mean, std) = mean_std(returns);
        let path = self.dir.join("eval.csv");
        let list: Vec<String> = returns.iter().map(|r| r.to_string()).collect();
        writeln!(
            self.eval,
            "{step},{mean},{std},{},{}",
            returns.len(),
            list.join(";")
        )
        .map_err(io_err(&path))?;
        let tb = self.tb.path().to_owned();
        self.tb
            .scalar("eval/mean_reward", mean, step)
            .map_err(io_err(&tb))?;
        self.tb
            .scalar("eval/std_reward", std, step)
            .map_err(io_err(&tb))?;
        Ok((mean, std))
    }

    /// Flushes every file (before a checkpoint, and at the end).
    pub(crate) fn flush(&mut self) -> Result<()> {
        for (w, name) in [
            (&mut self.episodes, "episodes.csv"),
            (&mut self.eval, "eval.csv"),
        ] {
            w.flush().map_err(io_err(&self.dir.join(name)))?;
        }
        if let Some(t) = self.train.as_mut() {
            t.flush().map_err(io_err(&self.dir.join("train.csv")))?;
        }
        let tb = self.tb.path().to_owned();
        self.tb.flush().map_err(io_err(&tb))
    }
}

/// Population mean and standard deviation (as SB3's evaluation reports them).
pub fn mean_std(values: &[f64]) -> (f64, f64) {
    if values.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    (mean, var.sqrt())
}

fn append(path: &Path) -> Result<BufWriter<File>> {
    let f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(io_err(path))?;
    Ok(BufWriter::new(f))
}

fn append_with_header(path: &Path, header: &str) -> Result<BufWriter<File>> {
    let fresh = std::fs::metadata(path)
        .map(|m| m.len() == 0)
        .unwrap_or(true);
    let mut f = append(path)?;
    if fresh {
        writeln!(f, "{header}").map_err(io_err(path))?;
    }
    Ok(f)
}

/// Drops the data rows of a CSV file whose first column (the step) is past `step`.
fn truncate_after(path: &Path, step: u64) -> Result<()> {
    if !path.exists() {
        return Ok(());
    }
    let text = read_text(path, METRICS_LIMIT)?;
    let mut lines = text.lines();
    let mut kept: Vec<&str> = lines.next().into_iter().collect();
    for (row, line) in lines.enumerate() {
        let s = line.split(',').next().and_then(|s| s.parse::<u64>().ok());
        match s {
            Some(s) if s <= step => kept.push(line),
            Some(_) => {}
            None => {
                return Err(RunError::RunDir {
                    path: path.display().to_string(),
                    reason: format!("row {} does not start with a step number", row + 1),
                });
            }
        }
    }
    let mut out = kept.join("\n");
    if !out.is_empty() {
        out.push('\n');
    }
    std::fs::write(path, out).map_err(io_err(path))
}
