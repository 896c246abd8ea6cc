//! MuJoCo for `cargo xtask`: the default build has no MuJoCo (no native library, no Python), so a
//! command that needs a MuJoCo task (`train sac --env HalfCheetah-v5`, `regress --tier mujoco`,
//! ...) re-runs itself built with the `mujoco` feature (`rerun.rs`), after making sure MuJoCo
//! 3.17.0's library is at hand: `MUJOCO_DYNAMIC_LINK_DIR` if the user set it, otherwise the
//! library extracted once from PyPI's `mujoco` wheel (with the machine's `python3 -m pip`) into
//! `target/mujoco/3.17.0/lib`. docs/mujoco.md explains it.

#![allow(clippy::print_stderr, reason = "a command-line tool reports on stderr")]

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The MuJoCo version mujoco-rs 7.0.0 is built for; the parity recordings use the same.
pub(crate) const VERSION: &str = "3.17.0";

/// Whether `id` is a MuJoCo task (known to this build whether or not it has MuJoCo).
pub(crate) fn is_mujoco(id: &str) -> bool {
    rl_mujoco::Task::from_id(id).is_some()
}

/// The folder holding `libmujoco.so` for building and running: `$MUJOCO_DYNAMIC_LINK_DIR` if
/// set, otherwise `target/mujoco/<VERSION>/lib`, extracted from PyPI's wheel the first time.
pub(crate) fn library_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("MUJOCO_DYNAMIC_LINK_DIR") {
        let dir = PathBuf::from(dir);
        if !dir.join(lib_name()).is_file() {
            bail!(
                "MUJOCO_DYNAMIC_LINK_DIR={} has no {}: point it at the lib folder of MuJoCo {VERSION}, or unset it to let cargo xtask fetch it",
                dir.display(),
                lib_name()
            );
        }
        return Ok(dir);
    }
    let root = target_dir().join("mujoco").join(VERSION);
    let lib = root.join("lib");
    if !lib.join(lib_name()).is_file() {
        fetch(&root)?;
    }
    Ok(lib)
}

fn lib_name() -> &'static str {
    if cfg!(target_os = "macos") {
        "libmujoco.dylib"
    } else {
        "libmujoco.so"
    }
}

pub(crate) fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::workspace_root().join("target"))
}

/// Downloads the `mujoco==VERSION` wheel and extracts the library and headers into `root`
/// (written under a temporary name, then renamed: an interrupted fetch leaves nothing half-made).
fn fetch(root: &Path) -> Result<()> {
    if !cfg!(target_os = "linux") {
        bail!(
            "fetching MuJoCo is implemented for Linux only: set MUJOCO_DYNAMIC_LINK_DIR to the lib folder of MuJoCo {VERSION} (docs/mujoco.md)"
        );
    }
    let python = crate::python::with_pip()?;
    let parent = root.parent().context("cache folder")?;
    std::fs::create_dir_all(parent).with_context(|| parent.display().to_string())?;
    let tmp = parent.join(format!(".{VERSION}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(tmp.join("lib")).with_context(|| tmp.display().to_string())?;
    eprintln!(
        "MuJoCo {VERSION}: fetching PyPI's mujoco wheel with {python} -m pip (once; cached in {})",
        root.display()
    );
    let wheel_dir = tmp.join("wheel");
    let spec = format!("mujoco=={VERSION}");
    let out = crate::python::download_wheels(&python, &[&spec], &wheel_dir)?;
    if !out.status.success() {
        let _ = std::fs::remove_dir_all(&tmp);
        bail!(
            "{python} -m pip download mujoco=={VERSION} failed (PyPI unreachable, or no wheel for this Python/platform):\n{}\nSet MUJOCO_DYNAMIC_LINK_DIR to the lib folder of a MuJoCo {VERSION} you have instead (docs/mujoco.md)",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    // The wheel is a zip: its `mujoco/libmujoco.so.<VERSION>` is the C library, and
    // `mujoco/include/` the headers. Python's zipfile extracts them (no zip code here).
    let script = r#"
import glob, os, shutil, sys, zipfile
wheel = glob.glob(os.path.join(sys.argv[1], "mujoco-*.whl"))[0]
lib, include = sys.argv[2], sys.argv[3]
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        base = os.path.basename(name)
        if name.startswith("mujoco/libmujoco.so"):
            with z.open(name) as src, open(os.path.join(lib, base), "wb") as dst:
                shutil.copyfileobj(src, dst)
        elif name.startswith("mujoco/include/") and not name.endswith("/"):
            path = os.path.join(include, name[len("mujoco/include/"):])
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with z.open(name) as src, open(path, "wb") as dst:
                shutil.copyfileobj(src, dst)
"#;
    let status = Command::new(&python)
        .args(["-c", script])
        .arg(&wheel_dir)
        .arg(tmp.join("lib"))
        .arg(tmp.join("include"))
        .status()
        .context("extracting the wheel")?;
    let versioned = tmp.join("lib").join(format!("libmujoco.so.{VERSION}"));
    if !status.success() || !versioned.is_file() {
        let _ = std::fs::remove_dir_all(&tmp);
        bail!("the mujoco {VERSION} wheel has no libmujoco.so.{VERSION}");
    }
    #[cfg(unix)]
    std::os::unix::fs::symlink(
        format!("libmujoco.so.{VERSION}"),
        tmp.join("lib").join(lib_name()),
    )
    .context("linking libmujoco.so")?;
    let _ = std::fs::remove_dir_all(&wheel_dir);
    if let Err(e) = std::fs::rename(&tmp, root) {
        let _ = std::fs::remove_dir_all(&tmp);
        // Another process may have finished the same fetch first.
        if !root.join("lib").join(lib_name()).is_file() {
            return Err(e).with_context(|| format!("moving the library to {}", root.display()));
        }
    }
    eprintln!(
        "MuJoCo {VERSION}: library in {}",
        root.join("lib").display()
    );
    Ok(())
}

/// `cmd` with MuJoCo findable: at build time by mujoco-rs (`MUJOCO_DYNAMIC_LINK_DIR`) and at run
/// time by the loader (`LD_LIBRARY_PATH`, or `DYLD_LIBRARY_PATH` on macOS).
pub(crate) fn with_library(cmd: &mut Command, lib: &Path) {
    let var = if cfg!(target_os = "macos") {
        "DYLD_LIBRARY_PATH"
    } else {
        "LD_LIBRARY_PATH"
    };
    let mut paths = vec![lib.to_path_buf()];
    if let Some(old) = std::env::var_os(var) {
        paths.extend(std::env::split_paths(&old));
    }
    cmd.env("MUJOCO_DYNAMIC_LINK_DIR", lib);
    if let Ok(joined) = std::env::join_paths(paths) {
        cmd.env(var, joined);
    }
}

/// The Python of a venv with Gymnasium on MuJoCo `VERSION` (the env-step peer for the MuJoCo
/// tasks), made on first use in `target/mujoco/peer-venv` from
/// `crates/rl-mujoco/tests/fixtures/requirements.txt` (the versions the parity recordings use).
pub(crate) fn peer_python() -> Result<PathBuf> {
    let venv = target_dir().join("mujoco").join("peer-venv");
    let requirements =
        crate::workspace_root().join("crates/rl-mujoco/tests/fixtures/requirements.txt");
    crate::python::venv(
        &venv,
        &requirements,
        &format!("Gymnasium on MuJoCo {VERSION}"),
    )?;
    Ok(venv.join("bin/python"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn without_pip_the_error_says_what_to_install() {
        let err = crate::python::python_with_pip(&["/nonexistent/python3"])
            .unwrap_err()
            .to_string();
        eprintln!("{err}");
        assert!(
            err.contains("apt install python3-pip") && err.contains("MUJOCO_DYNAMIC_LINK_DIR"),
            "{err}"
        );
    }
}
