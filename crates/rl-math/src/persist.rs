//! Files of named arrays: safetensors with a JSON header, written atomically.
//!
//! Buffers, checkpoints and optimizer states are saved through here, so a crash or a kill in the
//! middle of a save never leaves a half-written file where a good one was.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use crate::{MathError, Result};

/// Writes `bytes` to `path` so that a crash never leaves a partial file there: the bytes go to a
/// temporary file in the same folder, are flushed to disk, and the file is renamed over `path`
/// (an atomic replacement on POSIX file systems). An interrupted write leaves the previous file.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let io = |source| MathError::Io {
        path: path.display().to_string(),
        source,
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        // Make the rename itself durable.
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io)
}

/// The most bytes a data file (tensors, a replay buffer) may have: 64 GiB, beyond any buffer this
/// workspace writes on a machine that could load it.
pub const DATA_FILE_LIMIT: u64 = 64 << 30;

/// Reads the whole of `path`, which must be a regular file (not a symbolic link, FIFO, device or
/// socket: those are refused at once, so a file replaced by `/dev/zero`, a pipe or a link out of
/// its folder cannot hang, exhaust memory or redirect the read) of at most `limit` bytes.
///
/// ```
/// let dir = std::env::temp_dir().join(format!("rl-math-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("small.txt");
/// std::fs::write(&path, "hello")?;
/// assert_eq!(rl_math::persist::read_bounded(&path, 16)?, b"hello");
/// assert!(rl_math::persist::read_bounded(&path, 4).unwrap_err().to_string().contains("more than"));
/// assert!(rl_math::persist::read_bounded(std::path::Path::new("/dev/zero"), 16).is_err());
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>> {
    use std::io::Read;
    let fail = |source: std::io::Error| MathError::Io {
        path: path.display().to_string(),
        source,
    };
    let refuse = |what: String| fail(std::io::Error::new(std::io::ErrorKind::InvalidData, what));
    let meta = std::fs::symlink_metadata(path).map_err(fail)?;
    let kind = meta.file_type();
    if kind.is_symlink() {
        return Err(refuse("is a symbolic link, which is refused".into()));
    }
    if !kind.is_file() {
        return Err(refuse(
            "is not a regular file (a directory, FIFO, device or socket), which is refused".into(),
        ));
    }
    if meta.len() > limit {
        return Err(refuse(format!(
            "is {} bytes, more than the {limit} such a file may have",
            meta.len()
        )));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    let file = std::fs::File::open(path).map_err(fail)?;
    file.take(limit + 1).read_to_end(&mut bytes).map_err(fail)?;
    if bytes.len() as u64 > limit {
        return Err(refuse(format!(
            "grew past the {limit} bytes such a file may have while it was read"
        )));
    }
    Ok(bytes)
}

/// A named column to save: raw little-endian bytes with their dtype and shape.
pub struct Column {
    name: String,
    dtype: Dtype,
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

impl Column {
    /// A float32 column.
    pub fn f32(name: &str, shape: Vec<usize>, values: &[f32]) -> Self {
        Self {
            name: name.to_owned(),
            dtype: Dtype::F32,
            shape,
            bytes: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        }
    }

    /// A column of flags, stored as bytes 0 and 1.
    pub fn bools(name: &str, shape: Vec<usize>, values: &[bool]) -> Self {
        Self {
            name: name.to_owned(),
            dtype: Dtype::U8,
            shape,
            bytes: values.iter().map(|&b| u8::from(b)).collect(),
        }
    }
}

/// Serializes `columns` with `header` (JSON) stored under the metadata key `"header"`, and writes
/// them atomically to `path`.
pub fn save(path: &Path, header: &impl serde::Serialize, columns: &[Column]) -> Result<()> {
    let corrupt = |reason: String| MathError::Corrupt {
        path: path.display().to_string(),
        reason,
    };
    let header = serde_json::to_string(header).map_err(|e| corrupt(e.to_string()))?;
    let views = columns
        .iter()
        .map(|c| {
            TensorView::new(c.dtype, c.shape.clone(), &c.bytes)
                .map(|v| (c.name.clone(), v))
                .map_err(|e| corrupt(format!("{}: {e}", c.name)))
        })
        .collect::<Result<Vec<_>>>()?;
    let metadata = HashMap::from([("header".to_string(), header)]);
    let bytes =
        safetensors::serialize(views, Some(metadata)).map_err(|e| corrupt(e.to_string()))?;
    write_atomically(path, &bytes)
}

/// A file written by [`save`]: its header and columns, with checked access (a missing column,
/// another dtype or shape, or a malformed file is a [`MathError::Corrupt`] naming the file).
pub struct Loaded {
    path: String,
    bytes: Vec<u8>,
}

impl Loaded {
    /// Reads `path` (the whole file, checked lazily): a regular file of at most
    /// [`DATA_FILE_LIMIT`] bytes (see [`read_bounded`]).
    pub fn read(path: &Path) -> Result<Self> {
        let bytes = read_bounded(path, DATA_FILE_LIMIT)?;
        Ok(Self {
            path: path.display().to_string(),
            bytes,
        })
    }

    /// The error for this file being unusable, with `reason`.
    pub fn corrupt(&self, reason: impl Into<String>) -> MathError {
        MathError::Corrupt {
            path: self.path.clone(),
            reason: reason.into(),
        }
    }

    fn tensors(&self) -> Result<SafeTensors<'_>> {
        SafeTensors::deserialize(&self.bytes).map_err(|e| self.corrupt(e.to_string()))
    }

    /// The JSON header, parsed.
    pub fn header<T: serde::de::DeserializeOwned>(&self) -> Result<T> {
        let (_, meta) =
            SafeTensors::read_metadata(&self.bytes).map_err(|e| self.corrupt(e.to_string()))?;
        let json = meta
            .metadata()
            .as_ref()
            .and_then(|m| m.get("header"))
            .ok_or_else(|| self.corrupt("no header"))?;
        serde_json::from_str(json).map_err(|e| self.corrupt(format!("header: {e}")))
    }

    fn column(&self, name: &str, dtype: Dtype, shape: &[usize]) -> Result<Vec<u8>> {
        let tensors = self.tensors()?;
        let view = tensors
            .tensor(name)
            .map_err(|_| self.corrupt(format!("no column {name:?}")))?;
        if view.dtype() != dtype || view.shape() != shape {
            return Err(self.corrupt(format!(
                "column {name:?} is {:?} {:?}, expected {dtype:?} {shape:?}",
                view.dtype(),
                view.shape()
            )));
        }
        Ok(view.data().to_vec())
    }

    /// A float32 column of exactly `shape`.
    pub fn f32(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>> {
        let bytes = self.column(name, Dtype::F32, shape)?;
        Ok(bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }

    /// A flag column of exactly `shape` (bytes other than 0 and 1 are corruption).
    pub fn bools(&self, name: &str, shape: &[usize]) -> Result<Vec<bool>> {
        let bytes = self.column(name, Dtype::U8, shape)?;
        bytes
            .iter()
            .map(|&b| match b {
                0 => Ok(false),
                1 => Ok(true),
                other => Err(self.corrupt(format!("column {name:?} holds flag value {other}"))),
            })
            .collect()
    }
}
