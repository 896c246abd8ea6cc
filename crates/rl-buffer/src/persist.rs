//! Saving buffers: safetensors files with a JSON header, written atomically.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use crate::{BufferError, Result};

/// Writes `bytes` to `path` so that a crash never leaves a partial file there: the bytes go to a
/// temporary file in the same folder, are flushed to disk, and the file is renamed over `path`
/// (an atomic replacement on POSIX file systems). An interrupted write leaves the previous file.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let io = |source| BufferError::Io {
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

/// A named column to save: raw little-endian bytes with their dtype and shape.
pub(crate) struct Column {
    pub(crate) name: &'static str,
    pub(crate) dtype: Dtype,
    pub(crate) shape: Vec<usize>,
    pub(crate) bytes: Vec<u8>,
}

impl Column {
    pub(crate) fn f32(name: &'static str, shape: Vec<usize>, values: &[f32]) -> Self {
        Self {
            name,
            dtype: Dtype::F32,
            shape,
            bytes: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        }
    }

    pub(crate) fn bools(name: &'static str, shape: Vec<usize>, values: &[bool]) -> Self {
        Self {
            name,
            dtype: Dtype::U8,
            shape,
            bytes: values.iter().map(|&b| u8::from(b)).collect(),
        }
    }
}

/// Serializes `columns` with `header` (JSON) stored under the metadata key `"header"`, and writes
/// them atomically to `path`.
pub(crate) fn save(path: &Path, header: &impl serde::Serialize, columns: &[Column]) -> Result<()> {
    let corrupt = |reason: String| BufferError::Corrupt {
        path: path.display().to_string(),
        reason,
    };
    let header = serde_json::to_string(header).map_err(|e| corrupt(e.to_string()))?;
    let views = columns
        .iter()
        .map(|c| {
            TensorView::new(c.dtype, c.shape.clone(), &c.bytes)
                .map(|v| (c.name.to_string(), v))
                .map_err(|e| corrupt(format!("{}: {e}", c.name)))
        })
        .collect::<Result<Vec<_>>>()?;
    let metadata = HashMap::from([("header".to_string(), header)]);
    let bytes =
        safetensors::serialize(views, Some(metadata)).map_err(|e| corrupt(e.to_string()))?;
    write_atomically(path, &bytes)
}

/// A loaded file: its header and columns, with checked access.
pub(crate) struct Loaded {
    path: String,
    bytes: Vec<u8>,
}

impl Loaded {
    pub(crate) fn read(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|source| BufferError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Ok(Self {
            path: path.display().to_string(),
            bytes,
        })
    }

    pub(crate) fn corrupt(&self, reason: impl Into<String>) -> BufferError {
        BufferError::Corrupt {
            path: self.path.clone(),
            reason: reason.into(),
        }
    }

    fn tensors(&self) -> Result<SafeTensors<'_>> {
        SafeTensors::deserialize(&self.bytes).map_err(|e| self.corrupt(e.to_string()))
    }

    /// The JSON header, parsed.
    pub(crate) fn header<T: serde::de::DeserializeOwned>(&self) -> Result<T> {
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

    pub(crate) fn f32(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>> {
        let bytes = self.column(name, Dtype::F32, shape)?;
        Ok(bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }

    pub(crate) fn bools(&self, name: &str, shape: &[usize]) -> Result<Vec<bool>> {
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
