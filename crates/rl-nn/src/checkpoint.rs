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
use rl_math::persist::{DATA_FILE_LIMIT, read_bounded, write_atomically};

use crate::{NnError, Result};

/// The variable that makes every checkpoint write pause (see [`CheckpointDir::save`]).
pub const PAUSE_VARIABLE: &str = "RL_CHECKPOINT_PAUSE_MS";

/// With `RL_CHECKPOINT_PAUSE_MS=N` in the environment, a checkpoint write sleeps `N` ms twice:
/// once after its files are written and before its manifest (the folder still has its temporary
/// name), once after the rename and before `LATEST` names it. The fault tests
/// (`xtask/tests/faults.rs`) use it to land `kill -9` inside a checkpoint write on purpose, not by
/// chance. Unset (always, outside those tests), nothing pauses.
fn pause_for_fault_tests() {
    static PAUSE: std::sync::OnceLock<Option<u64>> = std::sync::OnceLock::new();
    let pause = PAUSE.get_or_init(|| std::env::var(PAUSE_VARIABLE).ok()?.parse().ok());
    if let Some(ms) = pause {
        std::thread::sleep(std::time::Duration::from_millis(*ms));
    }
}

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
    /// `root/name` and `LATEST`. Older checkpoints beyond the newest `keep` are deleted. (With
    /// [`PAUSE_VARIABLE`] set, the write pauses twice on its way, for the fault tests.)
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
        refuse_link(&self.root)?;
        std::fs::create_dir_all(&self.root).map_err(|e| io(&self.root, e))?;
        let tmp = self
            .root
            .join(format!(".tmp-{name}-{}", std::process::id()));
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp).map_err(|e| io(&tmp, e))?;
        }
        std::fs::create_dir(&tmp).map_err(|e| io(&tmp, e))?;
        let written = write(&tmp).and_then(|()| {
            pause_for_fault_tests();
            write_manifest(&tmp)
        });
        if let Err(e) = written {
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
        pause_for_fault_tests();
        write_atomically(&self.root.join("LATEST"), format!("{name}\n").as_bytes())?;
        self.prune(keep.max(1), name);
        Ok(dest)
    }

    /// The folder `LATEST` names, if any checkpoint was written. `LATEST` must be a small
    /// regular file naming a folder of `root` (not a link, not a path); errors never repeat what
    /// it holds.
    pub fn latest(&self) -> Result<Option<PathBuf>> {
        refuse_link(&self.root)?;
        let pointer = self.root.join("LATEST");
        let bytes = match read_bounded(&pointer, 256) {
            Ok(b) => b,
            Err(rl_math::MathError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                return Ok(None);
            }
            Err(e) => {
                return Err(NnError::Checkpoint {
                    path: pointer.display().to_string(),
                    reason: io_reason(e),
                });
            }
        };
        let name = String::from_utf8(bytes)
            .map(|s| s.trim().to_owned())
            .unwrap_or_default();
        if !is_checkpoint_name(&name) {
            return Err(NnError::Checkpoint {
                path: pointer.display().to_string(),
                reason: "does not name a checkpoint folder (it should hold a name such as step-000000001000)"
                    .into(),
            });
        }
        let dir = self.root.join(&name);
        refuse_link(&dir)?;
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
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| is_checkpoint_name(n))
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
        // `file_type` does not follow links: a linked folder is neither pruned nor followed.
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
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

/// (Re)writes the `MANIFEST.json` of the checkpoint folder `dir` from the files it holds now, as
/// [`CheckpointDir::save`] does: for tools that produce checkpoints, and for tests and fuzzers
/// that forge them (a re-signed checkpoint must still be validated by the loaders).
pub fn sign(dir: &Path) -> Result<()> {
    refuse_link(dir)?;
    write_manifest(dir)
}

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
        if name == MANIFEST {
            continue;
        }
        let kind = entry.file_type().map_err(io)?;
        if kind.is_dir() {
            continue;
        }
        let bytes =
            read_bounded(&entry.path(), DATA_FILE_LIMIT).map_err(|e| NnError::Checkpoint {
                path: entry.path().display().to_string(),
                reason: io_reason(e),
            })?;
        out.push((name, bytes));
    }
    out.sort();
    Ok(out)
}

/// Checks every file of the checkpoint folder `dir` against its `MANIFEST.json`: a file changed
/// on disk (a flipped bit, a truncation, a replaced file), missing or added is an error naming
/// it, before anything is loaded into a network. Folders written before manifests existed (no
/// `MANIFEST.json`) pass.
pub fn verify(dir: &Path) -> Result<()> {
    refuse_link(dir)?;
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
    let bytes = read_bounded(path, DATA_FILE_LIMIT).map_err(|e| NnError::Checkpoint {
        path: path.display().to_string(),
        reason: io_reason(e),
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

/// The most bytes a JSON file of a checkpoint may have (state, counters, an env snapshot).
pub const JSON_FILE_LIMIT: u64 = 64 << 20;

/// Reads a JSON file: a regular file of at most [`JSON_FILE_LIMIT`] bytes.
pub fn read_json(path: &Path) -> Result<serde_json::Value> {
    let err = |reason: String| NnError::Checkpoint {
        path: path.display().to_string(),
        reason,
    };
    let bytes = read_bounded(path, JSON_FILE_LIMIT).map_err(|e| err(io_reason(e)))?;
    serde_json::from_slice(&bytes).map_err(|e| err(format!("not valid JSON ({e})")))
}

/// The reason of a read error without its path (the caller's error names the file).
fn io_reason(e: rl_math::MathError) -> String {
    match e {
        rl_math::MathError::Io { source, .. } => source.to_string(),
        other => other.to_string(),
    }
}

/// Refuses `path` if it is a symbolic link (a run's checkpoint folders and files must not lead
/// out of it: a link could load another run's weights, or make pruning delete its checkpoints).
fn refuse_link(path: &Path) -> Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => Err(NnError::Checkpoint {
            path: path.display().to_string(),
            reason:
                "is a symbolic link, which is refused: checkpoints must be inside the run folder"
                    .into(),
        }),
        _ => Ok(()),
    }
}

/// Whether `name` can be a checkpoint folder's name: letters, digits, `-`, `_` and `.`, not
/// starting with a dot, at most 64 characters.
fn is_checkpoint_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Reads an agent's state file `dir/file` (JSON naming the learner that wrote it in its `"algo"`
/// key): a folder without it, a file written by another learner than `algo` (`name` is how users
/// know it) or one that does not parse as `T` is an error saying which.
pub fn read_agent_state<T: serde::de::DeserializeOwned>(
    dir: &Path,
    file: &str,
    algo: &str,
    name: &str,
) -> Result<T> {
    expect_file(dir, file, name)?;
    let json = read_json(&dir.join(file))?;
    let by = json
        .get("algo")
        .and_then(|a| a.as_str())
        .unwrap_or("unknown");
    if by != algo {
        return Err(NnError::NotResumable(format!(
            "{} was written by {by}, not {name}",
            dir.display()
        )));
    }
    serde_json::from_value(json)
        .map_err(|e| NnError::NotResumable(format!("{}: {e}", dir.display())))
}

/// A checkpoint's observation width, action kind and hidden layers (`saved`) against the
/// agent's (`current`): any difference is an error naming both.
pub fn check_same_shapes<A: PartialEq + std::fmt::Debug>(
    saved: (usize, A, &[usize]),
    current: (usize, A, &[usize]),
) -> Result<()> {
    if saved == current {
        return Ok(());
    }
    Err(NnError::NotResumable(format!(
        "it was saved for {} observations, {:?} actions and networks {:?}; this agent has {}, {:?}, {:?}",
        saved.0, saved.1, saved.2, current.0, current.1, current.2
    )))
}

/// A checkpoint's configuration `saved` against the agent's `current`: `validated` (the saved
/// configuration's own check) must pass and every key be equal, since a run resumes with the
/// configuration it was trained with.
pub fn check_same_config<C: serde::Serialize, E: std::fmt::Display>(
    saved: &C,
    current: &C,
    validated: std::result::Result<(), E>,
) -> Result<()> {
    validated.map_err(|e| NnError::NotResumable(format!("its configuration: {e}")))?;
    match first_difference(saved, current) {
        Some((key, was, now)) => Err(NnError::NotResumable(format!(
            "its {key} is {was}, this agent's {now}: a checkpoint resumes with the configuration it was trained with"
        ))),
        None => Ok(()),
    }
}

/// The first setting whose value differs between a checkpoint's configuration and the one an
/// agent was built with, as `(key, saved, current)` with the values as JSON text: a resumed run
/// keeps the configuration it was trained with, so any difference is an error naming the key.
pub fn first_difference<T: serde::Serialize>(
    saved: &T,
    current: &T,
) -> Option<(String, String, String)> {
    let (Ok(serde_json::Value::Object(a)), Ok(serde_json::Value::Object(b))) =
        (serde_json::to_value(saved), serde_json::to_value(current))
    else {
        return Some(("(configuration)".into(), "?".into(), "?".into()));
    };
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter().find_map(|k| {
        let (x, y) = (a.get(k), b.get(k));
        (x != y).then(|| {
            let show = |v: Option<&serde_json::Value>| {
                v.map_or("(absent)".to_owned(), ToString::to_string)
            };
            (k.clone(), show(x), show(y))
        })
    })
}
