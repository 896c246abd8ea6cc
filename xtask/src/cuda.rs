//! CUDA for `cargo xtask`: the default build has no CUDA. Candle's `cuda` feature compiles its
//! kernels with `nvcc` at build time, so `cargo xtask with-cuda ARGS` (and a `--device cuda`
//! command, re-run from a build with the `cuda` feature by `rerun.rs`) runs cargo with a CUDA
//! compiler at hand: the user's own toolkit (`CUDA_HOME` / `CUDA_PATH`, or `nvcc` on `PATH`) if
//! there is one, otherwise NVIDIA's compiler wheels from PyPI, fetched once (with the machine's
//! `python3 -m pip`) into `target/cuda/<VERSION>`. No GPU and no driver are needed to compile;
//! running needs both (docs/cuda.md).

#![allow(clippy::print_stderr, reason = "a command-line tool reports on stderr")]

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The CUDA release fetched when the machine has none: the oldest 13.x that NVIDIA ships `nvcc`
/// for on PyPI (the 12.x compiler wheels carry only `ptxas`), so it runs on the widest range of
/// drivers (580 and newer) and cudarc 0.19 knows it.
pub(crate) const VERSION: &str = "13.0";

/// NVIDIA's wheels that together make a compiler: the `nvcc` driver, its front end (`cicc`,
/// in `nvvm`), the CUDA runtime's and CCCL's headers, and the `crt` headers.
const WHEELS: [&str; 5] = [
    "nvidia-cuda-nvcc==13.0.88",
    "nvidia-nvvm==13.0.88",
    "nvidia-cuda-crt==13.0.88",
    "nvidia-cuda-runtime==13.0.96",
    "nvidia-cuda-cccl==13.0.85",
];

/// The GPU generation Candle's kernels are compiled for when `CUDA_COMPUTE_CAP` is unset and no
/// `nvidia-smi` can say (Candle's build asks it; a machine without a GPU, where the build is
/// only checked or carried elsewhere): 8.0, Ampere. The kernels the learners use are PTX, which
/// later GPUs compile on load; Candle's quantized-matmul kernels are machine code for 8.x only,
/// so set `CUDA_COMPUTE_CAP` to the GPU a carried build will run on.
pub(crate) const DEFAULT_COMPUTE_CAP: &str = "80";

/// NVIDIA's wheels of the libraries a CUDA build links (through cudarc): cuBLAS, cuRAND and
/// NVRTC; the runtime comes with the compiler. Fetched only for commands that link.
const LIBRARY_WHEELS: [&str; 3] = [
    "nvidia-cublas==13.0.2.14",
    "nvidia-curand==10.4.5.25",
    "nvidia-cuda-nvrtc==13.0.88",
];

/// Where the compiler and libraries come from.
#[derive(Debug)]
pub(crate) enum Toolkit {
    /// The user's: `nvcc` runs as it is, or `CUDA_HOME` / `CUDA_PATH` names its root.
    Users(Option<PathBuf>),
    /// Fetched from PyPI: the compiler's root, and the libraries' folder when fetched.
    Fetched {
        /// Holds `bin/nvcc`, `include/`, `lib/libcudart.so`.
        compiler: PathBuf,
        /// Holds `lib/libcublas.so` and the others of [`LIBRARY_WHEELS`].
        libraries: Option<PathBuf>,
    },
}

/// The toolkit to build with; `link` when the command links (build, test, run), which fetches
/// the libraries too where the machine has no toolkit.
pub(crate) fn toolkit(link: bool) -> Result<Toolkit> {
    for var in ["CUDA_HOME", "CUDA_PATH"] {
        if let Some(dir) = std::env::var_os(var) {
            return Ok(Toolkit::Users(Some(check_home(var, Path::new(&dir))?)));
        }
    }
    if runs("nvcc", &["--version"]) {
        return Ok(Toolkit::Users(None));
    }
    // Refused before a long build whose programs could not run here (checking is fine).
    if link
        && let Some(major) = driver_major()
        && major < MIN_DRIVER
    {
        bail!(
            "this machine's NVIDIA driver is {major}, older than CUDA {VERSION} needs ({MIN_DRIVER} or newer): install a CUDA toolkit your driver supports (nvidia-smi's \"CUDA Version\") and set CUDA_HOME to it (docs/cuda.md)"
        );
    }
    let root = crate::mujoco::target_dir().join("cuda").join(VERSION);
    let compiler = root.join("compiler");
    if !compiler.join("bin").join("nvcc").is_file() {
        fetch(&compiler, &WHEELS, "compiler", "bin/nvcc")?;
    }
    let libraries = if link {
        let dir = root.join("libraries");
        if !dir.join("lib").join("libcublas.so").exists() {
            fetch(&dir, &LIBRARY_WHEELS, "libraries", "lib/libcublas.so")?;
        }
        link_driver(&dir.join("lib"));
        Some(dir)
    } else {
        None
    };
    Ok(Toolkit::Fetched {
        compiler,
        libraries,
    })
}

/// The oldest NVIDIA driver series that runs CUDA [`VERSION`] programs.
const MIN_DRIVER: u32 = 580;

/// The major version of the machine's NVIDIA driver, as `nvidia-smi` reports it; `None` without
/// one (a machine without a GPU, which only compiles).
fn driver_major() -> Option<u32> {
    let out = Command::new("nvidia-smi")
        .args(["--query-gpu=driver_version", "--format=csv,noheader"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines().next()?.trim().split('.').next()?.parse().ok()
}

/// Whether a cargo command line (`build ...`, `+nightly check ...`) links binaries: everything
/// but checking, linting, documenting and inspecting does. With no command (`with-cuda` alone
/// prints the variables) nothing is built.
pub(crate) fn links(cargo_args: &[std::ffi::OsString]) -> bool {
    let command = cargo_args
        .iter()
        .filter_map(|a| a.to_str())
        .find(|a| !a.starts_with('+') && !a.starts_with('-'));
    !matches!(
        command,
        None | Some("check" | "c" | "clippy" | "doc" | "d" | "fmt" | "metadata" | "tree")
    )
}

/// The folder of the NVIDIA driver's `libcuda.so.1`, which a CUDA build links and loads
/// (cudarc links it, so a CUDA binary does not start without it): the dynamic loader's path and
/// cache, as the loader searches.
pub(crate) fn driver_dir() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("LD_LIBRARY_PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    // `ldconfig` is in /sbin, which a user's PATH may lack.
    let cache = ["ldconfig", "/sbin/ldconfig", "/usr/sbin/ldconfig"]
        .iter()
        .find_map(|p| Command::new(p).arg("-p").output().ok());
    if let Some(out) = cache {
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            // `\tlibcuda.so.1 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libcuda.so.1`; the
            // 32-bit one (`(libc6)`) is not this program's.
            if let Some((name, path)) = line.trim().split_once(" => ")
                && name.starts_with("libcuda.so.1 ")
                && name.contains("x86-64")
                && let Some(parent) = Path::new(path).parent()
            {
                dirs.push(parent.to_path_buf());
            }
        }
    }
    dirs.into_iter().find(|d| d.join("libcuda.so.1").exists())
}

/// Gives the driver's `libcuda.so.1` the plain name the linker looks for (`-lcuda`), in `lib`,
/// where the driver's folder has only the versioned one (a driver without its development
/// files). Nothing when there is no driver: the link then fails naming `-lcuda`.
fn link_driver(lib: &Path) {
    let plain = lib.join("libcuda.so");
    if let Some(driver) = driver_dir()
        && !driver.join("libcuda.so").exists()
        && !plain.exists()
    {
        // A link left dangling by a driver that moved is replaced.
        let _ = std::fs::remove_file(&plain);
        #[cfg(unix)]
        let _ = std::os::unix::fs::symlink(driver.join("libcuda.so.1"), plain);
    }
}

/// `dir` (the value of `var`) if it holds `bin/nvcc`, or an error naming both.
fn check_home(var: &str, dir: &Path) -> Result<PathBuf> {
    if !dir.join("bin").join("nvcc").is_file() {
        bail!(
            "{var}={} has no bin/nvcc: point it at a CUDA toolkit, or unset it to let cargo xtask fetch NVIDIA's compiler (docs/cuda.md)",
            dir.display()
        );
    }
    Ok(dir.to_path_buf())
}

/// Whether `program args` starts and exits with success.
fn runs(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Downloads `wheels` and merges them into `root` (written under a temporary name, then
/// renamed: an interrupted fetch leaves nothing half-made); `what` they are, for messages;
/// `marker` the file that must exist after.
fn fetch(root: &Path, wheels: &[&str], what: &str, marker: &str) -> Result<()> {
    if !cfg!(all(target_os = "linux", target_arch = "x86_64")) {
        bail!(
            "fetching NVIDIA's CUDA {what} is implemented for x86-64 Linux only: install a CUDA toolkit and set CUDA_HOME (docs/cuda.md)"
        );
    }
    let python = crate::python::with_pip().map_err(|_| {
        anyhow::anyhow!(
            "fetching NVIDIA's CUDA {what} needs the machine's Python with pip, but neither `python3 -m pip` nor `python -m pip` works here: install Python 3 with pip (Debian/Ubuntu: apt install python3-pip), or set CUDA_HOME to a CUDA toolkit you have (docs/cuda.md)"
        )
    })?;
    let parent = root.parent().context("cache folder")?;
    std::fs::create_dir_all(parent).with_context(|| parent.display().to_string())?;
    // Earlier fetches that were interrupted (Ctrl-C during the download) left their temporary
    // folders: hundreds of MB each.
    let stale = format!(".{what}-");
    for entry in std::fs::read_dir(parent).into_iter().flatten().flatten() {
        if entry.file_name().to_string_lossy().starts_with(&stale) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
    let tmp = parent.join(format!(".{what}-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).with_context(|| tmp.display().to_string())?;
    eprintln!(
        "CUDA {VERSION}: fetching NVIDIA's {what} wheels with {python} -m pip (once; cached in {})",
        root.display()
    );
    let wheel_dir = tmp.join("wheels");
    let out = crate::python::download_wheels(&python, wheels, &wheel_dir)?;
    if !out.status.success() {
        let _ = std::fs::remove_dir_all(&tmp);
        bail!(
            "{python} -m pip download {} failed (PyPI unreachable?):\n{}\nInstall a CUDA toolkit and set CUDA_HOME instead (docs/cuda.md)",
            wheels.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    // Each wheel is a zip holding one part of the toolkit under `nvidia/cu13/`; Python's zipfile
    // merges them into one root (no zip code here), keeping the programs executable and giving
    // each `libX.so.N` the plain `libX.so` name the linker looks for.
    let script = r#"
import glob, os, re, shutil, sys, zipfile
prefix = "nvidia/cu13/"
for wheel in glob.glob(os.path.join(sys.argv[1], "*.whl")):
    with zipfile.ZipFile(wheel) as z:
        for info in z.infolist():
            if not info.filename.startswith(prefix) or info.is_dir():
                continue
            path = os.path.join(sys.argv[2], info.filename[len(prefix):])
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with z.open(info) as src, open(path, "wb") as dst:
                shutil.copyfileobj(src, dst)
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                os.chmod(path, mode)
lib = os.path.join(sys.argv[2], "lib")
for name in os.listdir(lib) if os.path.isdir(lib) else []:
    m = re.fullmatch(r"(lib\w+\.so)\.\d+", name)
    if m and not os.path.exists(os.path.join(lib, m.group(1))):
        os.symlink(name, os.path.join(lib, m.group(1)))
"#;
    let status = Command::new(&python)
        .args(["-c", script])
        .arg(&wheel_dir)
        .arg(&tmp)
        .status()
        .context("extracting the wheels")?;
    let _ = std::fs::remove_dir_all(&wheel_dir);
    if !status.success() {
        let _ = std::fs::remove_dir_all(&tmp);
        bail!(
            "extracting NVIDIA's CUDA {VERSION} {what} wheels into {} failed ({status}; disk full?)",
            tmp.display()
        );
    }
    if !tmp.join(marker).exists() {
        let _ = std::fs::remove_dir_all(&tmp);
        bail!("NVIDIA's CUDA {VERSION} {what} wheels hold no {marker}");
    }
    if let Err(e) = std::fs::rename(&tmp, root) {
        let _ = std::fs::remove_dir_all(&tmp);
        // Another process may have finished the same fetch first.
        if !root.join(marker).exists() {
            return Err(e).with_context(|| format!("moving the {what} to {}", root.display()));
        }
    }
    eprintln!("CUDA {VERSION}: {what} in {}", root.display());
    Ok(())
}

/// `cmd` with the toolkit findable: `nvcc` first on `PATH`, `CUDA_HOME` for the crates that
/// look there, the libraries on `LIBRARY_PATH` (for the linker) and `LD_LIBRARY_PATH` (for the
/// built programs), and [`DEFAULT_COMPUTE_CAP`] when neither `CUDA_COMPUTE_CAP` nor `nvidia-smi`
/// says which GPU to compile for.
pub(crate) fn with_toolkit(cmd: &mut Command, toolkit: &Toolkit) {
    let mut libs = Vec::new();
    match toolkit {
        Toolkit::Users(None) => {}
        Toolkit::Users(Some(root)) => {
            prepend(cmd, "PATH", &[root.join("bin")]);
            cmd.env("CUDA_HOME", root);
            // A toolkit outside the loader's configuration (a .run or conda install).
            libs.extend(
                ["lib64", "lib", "targets/x86_64-linux/lib"]
                    .iter()
                    .map(|l| root.join(l))
                    .filter(|d| d.is_dir()),
            );
        }
        Toolkit::Fetched {
            compiler,
            libraries,
        } => {
            prepend(cmd, "PATH", &[compiler.join("bin")]);
            cmd.env("CUDA_HOME", compiler);
            libs.push(compiler.join("lib"));
            libs.extend(libraries.iter().map(|l| l.join("lib")));
        }
    }
    if let Some(driver) = driver_dir() {
        libs.push(driver);
    }
    if !libs.is_empty() {
        prepend(cmd, "LIBRARY_PATH", &libs);
        prepend(cmd, "LD_LIBRARY_PATH", &libs);
    }
    if std::env::var_os("CUDA_COMPUTE_CAP").is_none() && !runs("nvidia-smi", &["-L"]) {
        cmd.env("CUDA_COMPUTE_CAP", DEFAULT_COMPUTE_CAP);
    }
}

/// Puts `dirs` in front of `var`'s value for `cmd`: the value already set on `cmd` (by another
/// part, such as MuJoCo's library on `LD_LIBRARY_PATH`), else this process's.
fn prepend(cmd: &mut Command, var: &str, dirs: &[PathBuf]) {
    let mut paths = dirs.to_vec();
    let set = cmd
        .get_envs()
        .find(|(k, _)| *k == std::ffi::OsStr::new(var))
        .and_then(|(_, v)| v.map(|v| v.to_os_string()));
    if let Some(old) = set.or_else(|| std::env::var_os(var)) {
        paths.extend(std::env::split_paths(&old));
    }
    if let Ok(joined) = std::env::join_paths(paths) {
        cmd.env(var, joined);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_home_without_nvcc_is_named_in_the_error() {
        let dir = std::env::temp_dir().join(format!("rl-no-cuda-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let err = super::check_home("CUDA_HOME", &dir)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("CUDA_HOME=") && err.contains("has no bin/nvcc"),
            "{err}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn checking_and_linting_fetch_no_libraries() {
        let args = |a: &[&str]| a.iter().map(std::ffi::OsString::from).collect::<Vec<_>>();
        assert!(!super::links(&args(&["check", "-p", "xtask"])));
        assert!(!super::links(&args(&["clippy", "--features", "cuda"])));
        assert!(super::links(&args(&["build", "-p", "xtask"])));
        assert!(super::links(&args(&["test"])));
        assert!(!super::links(&args(&["+nightly", "--locked", "check"])));
        assert!(super::links(&args(&["--locked", "run", "-p", "xtask"])));
        assert!(!super::links(&args(&[])));
    }

    #[test]
    fn what_another_part_put_on_a_path_is_kept() {
        let mut cmd = std::process::Command::new("true");
        cmd.env("LD_LIBRARY_PATH", "/mujoco/lib");
        super::prepend(&mut cmd, "LD_LIBRARY_PATH", &["/cuda/lib".into()]);
        let value = cmd
            .get_envs()
            .find(|(k, _)| *k == "LD_LIBRARY_PATH")
            .and_then(|(_, v)| v)
            .unwrap();
        assert_eq!(value, "/cuda/lib:/mujoco/lib");
    }
}
