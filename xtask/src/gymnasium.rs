//! The Python bridge for `cargo xtask`: a command that names a `gymnasium:<id>` env re-runs
//! itself built with the `gymnasium` feature (`rerun.rs`), embedding the Python of the venv
//! `RL_GYMNASIUM_VENV` names, or else of `target/gymnasium/venv`, made once from
//! `crates/rl-gymnasium/requirements.txt` (Gymnasium 1.4.0 with Box2D and pygame).
//! docs/gymnasium.md explains it.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Result, bail};

/// The venv whose Python and packages the bridge uses: `RL_GYMNASIUM_VENV` if set, otherwise
/// `target/gymnasium/venv`, made on first use.
pub(crate) fn venv() -> Result<PathBuf> {
    if let Some(v) = std::env::var_os("RL_GYMNASIUM_VENV") {
        let v = PathBuf::from(v);
        if !v.join("bin/python").exists() {
            bail!(
                "RL_GYMNASIUM_VENV={} has no bin/python: point it at a virtual environment with gymnasium installed, or unset it to let cargo xtask make one",
                v.display()
            );
        }
        return Ok(v);
    }
    let v = crate::mujoco::target_dir().join("gymnasium").join("venv");
    let requirements = crate::workspace_root().join("crates/rl-gymnasium/requirements.txt");
    crate::python::venv(&v, &requirements, "the Python bridge (gymnasium:<id> envs)")?;
    Ok(v)
}

/// `cmd` with the bridge's interpreter: pyo3 builds against `venv`'s Python (`PYO3_PYTHON`) and
/// the embedded interpreter adds `venv`'s packages (`RL_GYMNASIUM_VENV`).
pub(crate) fn with_python(cmd: &mut Command, venv: &Path) {
    cmd.env("PYO3_PYTHON", venv.join("bin/python"))
        .env("RL_GYMNASIUM_VENV", venv);
}
