//! Checkpoint directories written atomically, and tensor files inside them.
//!
//! A checkpoint is a folder (`step-000005000/`) of files — a JSON manifest, tensors in
//! safetensors, anything else a trainer needs — that is written under a temporary name, flushed to
//! disk and renamed into place; a `LATEST` file then points at it (itself replaced atomically).
//! A crash or `kill -9` at any moment leaves either the previous checkpoint or the new one, never
//! a partial one, and `LATEST` always names a complete folder. Each folder's `MANIFEST.json` holds
//! the CRC-32C of every file, and [`verify`] checks them before anything is loaded, so a file
//! damaged on disk is an error instead of silently wrong weights.

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
        if let Err(e) = write(&tmp).and_then(|()| write_manifest(&tmp)) {
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

/// Checks the checkpoint folder `dir` holds `file` (an algorithm's state file such as
/// `sac.json`); if not, the error says which algorithm's files it holds instead.
pub fn expect_file(dir: &Path, file: &str, algo: &str) -> Result<()> {
    if dir.join(file).is_file() {
        return Ok(());
    }
    let others: Vec<String> = ["sac", "a2c", "acer"]
        .iter()
        .filter(|a| dir.join(format!("{a}.json")).is_file())
        .map(|a| a.to_uppercase())
        .collect();
    Err(NnError::Checkpoint {
        path: dir.display().to_string(),
        reason: if others.is_empty() {
            format!("no {file}: not a {algo} checkpoint")
        } else {
            format!("written by {}, not {algo}", others.join(", "))
        },
    })
}

/// The file in every checkpoint folder listing its other files with their CRC-32C checksums.
pub const MANIFEST: &str = "MANIFEST.json";

fn write_manifest(dir: &Path) -> Result<()> {
    let mut files = serde_json::Map::new();
    for (name, bytes) in checkpoint_files(dir)? {
        files.insert(name, serde_json::Value::from(crc32c::crc32c(&bytes)));
    }
    write_json(
        &dir.join(MANIFEST),
        &serde_json::json!({ "format": "rl-checkpoint-manifest/1", "crc32c": files }),
    )
}

/// `(name, contents)` of the files of a checkpoint folder other than the manifest.
fn checkpoint_files(dir: &Path) -> Result<Vec<(String, Vec<u8>)>> {
    let io = |e: std::io::Error| NnError::Checkpoint {
        path: dir.display().to_string(),
        reason: e.to_string(),
    };
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == MANIFEST || !entry.path().is_file() {
            continue;
        }
        out.push((name, std::fs::read(entry.path()).map_err(io)?));
    }
    out.sort();
    Ok(out)
}

/// Checks every file of the checkpoint folder `dir` against its `MANIFEST.json`: a file changed
/// on disk (a flipped bit, a truncation, a replaced file), missing or added is an error naming
/// it, before anything is loaded into a network. Folders written before manifests existed (no
/// `MANIFEST.json`) pass.
pub fn verify(dir: &Path) -> Result<()> {
    let manifest = dir.join(MANIFEST);
    if !manifest.exists() {
        return Ok(());
    }
    let json = read_json(&manifest)?;
    let bad = |reason: String| NnError::Checkpoint {
        path: dir.display().to_string(),
        reason,
    };
    let listed = json
        .get("crc32c")
        .and_then(|v| v.as_object())
        .ok_or_else(|| bad(format!("{MANIFEST} has no crc32c table")))?;
    let files = checkpoint_files(dir)?;
    for (name, bytes) in &files {
        match listed.get(name).and_then(serde_json::Value::as_u64) {
            Some(crc) if crc == u64::from(crc32c::crc32c(bytes)) => {}
            Some(_) => {
                return Err(bad(format!(
                    "{name} is corrupt: its checksum differs from the one recorded when it was written"
                )));
            }
            None => return Err(bad(format!("{name} is not listed in {MANIFEST}"))),
        }
    }
    if let Some(missing) = listed.keys().find(|k| !files.iter().any(|(n, _)| n == *k)) {
        return Err(bad(format!("{missing} is missing")));
    }
    Ok(())
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
