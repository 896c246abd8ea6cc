//! Checkpoint directories written atomically, and tensor files inside them.
//!
//! A checkpoint is a folder (`step-000005000/`) of files — a JSON manifest, tensors in
//! safetensors, anything else a trainer needs — that is written under a temporary name, flushed to
//! disk and renamed into place; a `LATEST` file then points at it (itself replaced atomically).
//! A crash or `kill -9` at any moment leaves either the previous checkpoint or the new one, never
//! a partial one, and `LATEST` always names a complete folder.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use rl_math::persist::write_atomically;

use crate::{NnError, Result};

/// The folder holding a run's checkpoints.
#[derive(Debug, Clone)]
pub struct CheckpointDir {
    root: PathBuf,
}

impl CheckpointDir {
    /// Checkpoints under `root` (created on the first save).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Writes checkpoint `name`: `write` fills a fresh temporary folder, which then becomes
    /// `root/name` and `LATEST`. Older checkpoints beyond the newest `keep` are deleted.
    pub fn save(
        &self,
        name: &str,
        keep: usize,
        write: impl FnOnce(&Path) -> Result<()>,
    ) -> Result<PathBuf> {
        let io = |path: &Path, e: std::io::Error| NnError::Checkpoint {
            path: path.display().to_string(),
            reason: e.to_string(),
        };
        std::fs::create_dir_all(&self.root).map_err(|e| io(&self.root, e))?;
        let tmp = self
            .root
            .join(format!(".tmp-{name}-{}", std::process::id()));
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp).map_err(|e| io(&tmp, e))?;
        }
        std::fs::create_dir(&tmp).map_err(|e| io(&tmp, e))?;
        if let Err(e) = write(&tmp) {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(e);
        }
        sync_dir(&tmp);
        let dest = self.root.join(name);
        if dest.exists() {
            std::fs::remove_dir_all(&dest).map_err(|e| io(&dest, e))?;
        }
        std::fs::rename(&tmp, &dest).map_err(|e| io(&dest, e))?;
        sync_dir(&self.root);
        write_atomically(&self.root.join("LATEST"), format!("{name}\n").as_bytes())?;
        self.prune(keep.max(1), name);
        Ok(dest)
    }

    /// The folder `LATEST` names, if any checkpoint was written.
    pub fn latest(&self) -> Result<Option<PathBuf>> {
        let pointer = self.root.join("LATEST");
        let name = match std::fs::read_to_string(&pointer) {
            Ok(s) => s.trim().to_owned(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(NnError::Checkpoint {
                    path: pointer.display().to_string(),
                    reason: e.to_string(),
                });
            }
        };
        let dir = self.root.join(&name);
        if name.is_empty() || name.contains('/') {
            return Err(NnError::Checkpoint {
                path: pointer.display().to_string(),
                reason: format!("points at {name:?}, which is not a checkpoint folder"),
            });
        }
        if !dir.is_dir() {
            // Only a save of the same name interrupted between removing the old folder and
            // renaming the new one leaves this; every folder not named `.tmp-*` is complete, so
            // the newest one is the checkpoint to use.
            return match self.newest_complete() {
                Some(found) => Ok(Some(found)),
                None => Err(NnError::Checkpoint {
                    path: pointer.display().to_string(),
                    reason: format!(
                        "points at {name:?}, which is missing, and no other checkpoint exists"
                    ),
                }),
            };
        }
        Ok(Some(dir))
    }

    /// The newest complete checkpoint folder by name (names sort by step).
    fn newest_complete(&self) -> Option<PathBuf> {
        let mut names: Vec<String> = std::fs::read_dir(&self.root)
            .ok()?
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_dir())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with(".tmp-"))
            .collect();
        names.sort();
        names.pop().map(|n| self.root.join(n))
    }

    /// Deletes all but the newest `keep` checkpoints (by name order; `current` is always kept),
    /// and any temporary folders left by interrupted saves.
    fn prune(&self, keep: usize, current: &str) {
        let Ok(entries) = std::fs::read_dir(&self.root) else {
            return;
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_dir())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        let (tmp, done): (Vec<String>, Vec<String>) =
            names.into_iter().partition(|n| n.starts_with(".tmp-"));
        for n in tmp {
            let _ = std::fs::remove_dir_all(self.root.join(n));
        }
        let excess = done.len().saturating_sub(keep);
        for n in done.into_iter().take(excess).filter(|n| n != current) {
            let _ = std::fs::remove_dir_all(self.root.join(n));
        }
    }
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Writes named tensors to a safetensors file (atomically).
pub fn write_tensors(path: &Path, tensors: &[(String, Tensor)]) -> Result<()> {
    let bytes = safetensors::serialize(tensors.iter().map(|(n, t)| (n.as_str(), t)), None)
        .map_err(|e| NnError::Checkpoint {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
    Ok(write_atomically(path, &bytes)?)
}

/// Reads every tensor of a safetensors file onto `device`. A truncated or corrupt file is an
/// error naming it.
pub fn read_tensors(path: &Path, device: &Device) -> Result<HashMap<String, Tensor>> {
    let bytes = std::fs::read(path).map_err(|e| NnError::Checkpoint {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    candle_core::safetensors::load_buffer(&bytes, device).map_err(|e| NnError::Checkpoint {
        path: path.display().to_string(),
        reason: format!("not a readable tensor file ({e})"),
    })
}

/// Writes a JSON value (pretty, atomically).
pub fn write_json(path: &Path, value: &serde_json::Value) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| NnError::Checkpoint {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    Ok(write_atomically(path, format!("{text}\n").as_bytes())?)
}

/// Reads a JSON file.
pub fn read_json(path: &Path) -> Result<serde_json::Value> {
    let err = |reason: String| NnError::Checkpoint {
        path: path.display().to_string(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    serde_json::from_str(&text).map_err(|e| err(format!("not valid JSON ({e})")))
}
