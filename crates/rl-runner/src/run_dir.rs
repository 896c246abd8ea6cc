//! A run's folder: its default name, creating it (or refusing a used one), its lock, and reading
//! files inside it without following links out of it or reading without bound.

use std::path::{Path, PathBuf};

use crate::config::RunConfig;
use crate::error::io_err;
use crate::logs::{EPISODES_HEADER, EVAL_HEADER};
use crate::plot::Curve;
use crate::{Result, RunError};

/// The most bytes a metrics CSV may have (millions of episodes' rows).
pub(crate) const METRICS_LIMIT: u64 = 4 << 30;

/// The `config.toml` of the run folder `dir`, or an error saying the folder is no run folder.
pub(crate) fn read_run_config(dir: &Path) -> Result<String> {
    let path = confined(dir, "config.toml")?;
    if !path.exists() {
        return Err(RunError::RunDir {
            path: dir.display().to_string(),
            reason: "not a run folder (it has no config.toml); runs are made by cargo xtask train"
                .into(),
        });
    }
    read_text(&path, CONFIG_LIMIT)
}

pub(crate) fn default_run_dir(run: &RunConfig) -> PathBuf {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    // An id may hold characters a folder name should not (`gymnasium:module:Env-v0`).
    let env: String = run
        .env
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '-' | '_' | '.' => c,
            _ => '_',
        })
        .collect();
    PathBuf::from("runs").join(format!("{}-{env}-seed{}-{secs}", run.algo, run.seed))
}

/// A new run's folder must not exist, or be empty.
pub(crate) fn check_new_dir(dir: &Path) -> Result<()> {
    if let Ok(mut entries) = std::fs::read_dir(dir)
        && entries.next().is_some()
    {
        return Err(RunError::RunDir {
            path: dir.display().to_string(),
            reason: "already exists and is not empty: choose another --out, or --resume it".into(),
        });
    }
    Ok(())
}

/// Creates the run folder, takes its lock and writes its `config.toml`; if that fails, removes
/// what it created (never a folder that existed before, nor one another process holds).
pub(crate) fn create_run_dir(dir: &Path, config: &str) -> Result<RunLock> {
    let existed = dir.exists();
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    let lock = RunLock::acquire(dir)?;
    let made = (|| {
        // Another process may have filled the folder between the check and the lock.
        check_new_dir_but_lock(dir)?;
        let path = confined(dir, "config.toml")?;
        std::fs::write(&path, config).map_err(io_err(&path))
    })();
    match made {
        Ok(()) => Ok(lock),
        Err(e) => {
            drop(lock);
            if !existed {
                let _ = std::fs::remove_dir_all(dir);
            }
            Err(e)
        }
    }
}

/// The new run's folder holds nothing but its lock.
pub(crate) fn check_new_dir_but_lock(dir: &Path) -> Result<()> {
    let others = std::fs::read_dir(dir)
        .map_err(io_err(dir))?
        .filter_map(|e| e.ok())
        .any(|e| e.file_name() != LOCK_FILE);
    if others {
        return Err(RunError::RunDir {
            path: dir.display().to_string(),
            reason: "already exists and is not empty: choose another --out, or --resume it".into(),
        });
    }
    Ok(())
}

/// The lock file of a run folder.
pub(crate) const LOCK_FILE: &str = ".lock";

/// An exclusive advisory lock on a run folder's `.lock` (holding the owner's pid), released when
/// dropped or when the process dies (a `kill -9` leaves no stale lock).
#[derive(Debug)]
pub(crate) struct RunLock {
    _file: std::fs::File,
}

impl RunLock {
    pub(crate) fn acquire(dir: &Path) -> Result<Self> {
        use std::io::Write;
        let path = confined(dir, LOCK_FILE)?;
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io_err(&path))?;
        match file.try_lock() {
            Ok(()) => {
                // The holder's pid, for the message another process gets.
                let _ = file.set_len(0);
                let _ = write!(file, "{}", std::process::id());
                Ok(Self { _file: file })
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                let holder = rl_math::persist::read_bounded(&path, 64)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .and_then(|t| t.trim().parse::<u32>().ok())
                    .map_or("another process".to_owned(), |pid| format!("process {pid}"));
                Err(RunError::RunDir {
                    path: dir.display().to_string(),
                    reason: format!(
                        "is in use by {holder} (a training run or --resume holds it): one process writes a run folder at a time; wait for it to finish, or choose another --out"
                    ),
                })
            }
            Err(std::fs::TryLockError::Error(e)) => Err(io_err(&path)(e)),
        }
    }
}

/// `run/rel`, refused if it or a folder on the way below `run` is a symbolic link: nothing a run
/// reads or writes may lead out of its folder.
pub(crate) fn confined(run: &Path, rel: &str) -> Result<PathBuf> {
    let mut path = run.to_path_buf();
    for part in Path::new(rel).components() {
        path.push(part);
        if std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(RunError::RunDir {
                path: path.display().to_string(),
                reason: "is a symbolic link, which is refused: a run reads and writes only inside its folder"
                    .into(),
            });
        }
    }
    Ok(path)
}

/// The most bytes a `config.toml` (or `--config` file) may have.
pub(crate) const CONFIG_LIMIT: u64 = 1 << 20;

/// The text of a small regular file (see `rl_math::persist::read_bounded`).
pub(crate) fn read_text(path: &Path, limit: u64) -> Result<String> {
    let bytes = rl_math::persist::read_bounded(path, limit).map_err(|e| match e {
        rl_math::MathError::Io { source, .. } => io_err(path)(source),
        other => RunError::Config(other.to_string()),
    })?;
    String::from_utf8(bytes).map_err(|_| RunError::RunDir {
        path: path.display().to_string(),
        reason: "is not UTF-8 text".into(),
    })
}

pub(crate) fn read_curve(dir: &Path) -> Result<Curve> {
    let rows = |name: &str, header: &str| -> Result<Vec<Vec<String>>> {
        let path = confined(dir, &format!("metrics/{name}"))?;
        let text = read_text(&path, METRICS_LIMIT)?;
        let mut lines = text.lines();
        if lines.next() != Some(header) {
            return Err(RunError::RunDir {
                path: path.display().to_string(),
                reason: "unexpected header".into(),
            });
        }
        Ok(lines
            .map(|l| l.split(',').map(str::to_owned).collect())
            .collect())
    };
    let num = |s: &str| s.parse::<f64>().unwrap_or(f64::NAN);
    Ok(Curve {
        episodes: rows("episodes.csv", EPISODES_HEADER)?
            .iter()
            .filter(|r| r.len() >= 3)
            .map(|r| (num(&r[0]) as u64, num(&r[2])))
            .collect(),
        evals: rows("eval.csv", EVAL_HEADER)?
            .iter()
            .filter(|r| r.len() >= 3)
            .map(|r| (num(&r[0]) as u64, num(&r[1]), num(&r[2])))
            .collect(),
    })
}
