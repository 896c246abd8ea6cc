//! The machine's Python, for what `cargo xtask` fetches or runs through it: MuJoCo's library
//! (PyPI's wheel), the MuJoCo peer's venv, the Python bridge's venv.

use std::path::Path;
use std::process::Command;

use anyhow::{Result, bail};

/// The Pythons tried for pip, in order.
pub(crate) const PYTHONS: [&str; 2] = ["python3", "python"];

/// The first Python of [`PYTHONS`] that has pip.
pub(crate) fn with_pip() -> Result<String> {
    python_with_pip(&PYTHONS)
}

/// The first of `candidates` that runs `-m pip`, or an error that says what to install.
pub(crate) fn python_with_pip(candidates: &[&str]) -> Result<String> {
    for python in candidates {
        let ok = Command::new(python)
            .args(["-m", "pip", "--version"])
            .output()
            .is_ok_and(|o| o.status.success());
        if ok {
            return Ok((*python).to_owned());
        }
    }
    bail!(
        "this needs the machine's Python with pip (cargo xtask fetches MuJoCo's library from PyPI's `mujoco` wheel, \
         and makes the venvs of the Python bridge and the MuJoCo peer, with it), but neither `python3 -m pip` nor \
         `python -m pip` works here. Install Python 3 with pip (Debian/Ubuntu: apt install python3-pip); for MuJoCo \
         you can instead set MUJOCO_DYNAMIC_LINK_DIR to the lib folder of a MuJoCo {} you have (see docs/mujoco.md)",
        crate::mujoco::VERSION
    )
}

/// `python -m pip download --no-deps --only-binary=:all: SPECS --dest dest`: the wheels alone,
/// for cargo xtask to unpack (MuJoCo's library, NVIDIA's CUDA compiler). Its output, so the
/// caller can say what failed and what to do instead.
pub(crate) fn download_wheels(
    python: &str,
    specs: &[&str],
    dest: &Path,
) -> anyhow::Result<std::process::Output> {
    use anyhow::Context;
    Command::new(python)
        .args([
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
        ])
        .args(specs)
        .arg("--dest")
        .arg(dest)
        .output()
        .with_context(|| format!("running {python} -m pip download"))
}

/// Makes the venv `venv` from `requirements` (`what` it is for, in messages) unless it exists:
/// made under a temporary name and renamed (`bin/python -m ...` works from a moved venv; only
/// its console scripts record the old path), so an interrupted install leaves nothing.
pub(crate) fn venv(venv: &Path, requirements: &Path, what: &str) -> Result<()> {
    if venv.join("bin/python").exists() {
        return Ok(());
    }
    let base = with_pip()?;
    eprintln!(
        "{what}: making {} from {} (once)",
        venv.display(),
        requirements.display()
    );
    let tmp = venv.with_extension("tmp");
    let _ = std::fs::remove_dir_all(&tmp);
    if let Some(parent) = venv.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let made = Command::new(&base)
        .args(["-m", "venv"])
        .arg(&tmp)
        .status()?
        .success()
        && Command::new(tmp.join("bin/python"))
            .args(["-m", "pip", "install", "--quiet", "-r"])
            .arg(requirements)
            .status()?
            .success();
    if !made {
        let _ = std::fs::remove_dir_all(&tmp);
        bail!(
            "could not make {} ({base} -m venv, then pip install -r {}): PyPI unreachable, or no wheel for this Python?",
            venv.display(),
            requirements.display()
        );
    }
    if std::fs::rename(&tmp, venv).is_err() && !venv.join("bin/python").exists() {
        bail!("could not move {} to {}", tmp.display(), venv.display());
    }
    Ok(())
}
