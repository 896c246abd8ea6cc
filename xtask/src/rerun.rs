//! Re-running `cargo xtask` (or any cargo command) with the optional parts a command needs:
//! MuJoCo (`mujoco.rs`), the Python bridge (`gymnasium.rs`) and CUDA (`cuda.rs`).

#![allow(
    clippy::print_stdout,
    reason = "with-mujoco / with-gymnasium / with-cuda print the environment variables"
)]

use std::ffi::OsString;
use std::process::Command;

use anyhow::{Context, Result, bail};

/// Set in the re-run process, so it never re-runs itself again.
const GUARD: &str = "RL_XTASK_RERUN";

/// The optional parts of a build, each a feature of xtask.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Parts {
    /// MuJoCo's library (`mujoco`).
    pub(crate) mujoco: bool,
    /// The Python bridge's interpreter (`gymnasium`).
    pub(crate) gymnasium: bool,
    /// A CUDA compiler (`cuda`).
    pub(crate) cuda: bool,
}

impl Parts {
    /// The parts this build was compiled with.
    pub(crate) fn built() -> Self {
        Self {
            mujoco: cfg!(feature = "mujoco"),
            gymnasium: cfg!(feature = "gymnasium"),
            cuda: cfg!(feature = "cuda"),
        }
    }

    /// Both sets' parts.
    pub(crate) fn union(self, other: Self) -> Self {
        Self {
            mujoco: self.mujoco || other.mujoco,
            gymnasium: self.gymnasium || other.gymnasium,
            cuda: self.cuda || other.cuda,
        }
    }

    /// Whether every part of `self` is in `other`.
    pub(crate) fn within(self, other: Self) -> bool {
        (!self.mujoco || other.mujoco)
            && (!self.gymnasium || other.gymnasium)
            && (!self.cuda || other.cuda)
    }

    /// The xtask features that turn the parts on.
    fn features(self) -> Vec<&'static str> {
        [
            ("mujoco", self.mujoco),
            ("gymnasium", self.gymnasium),
            ("cuda", self.cuda),
        ]
        .iter()
        .filter(|(_, on)| *on)
        .map(|(f, _)| *f)
        .collect()
    }
}

/// `cmd` with what the parts need: MuJoCo's library, the bridge's Python, a CUDA toolkit (with
/// the libraries when the command `link`s).
fn prepare(cmd: &mut Command, parts: Parts, link: bool) -> Result<()> {
    if parts.mujoco {
        crate::mujoco::with_library(cmd, &crate::mujoco::library_dir()?);
    }
    if parts.gymnasium {
        crate::gymnasium::with_python(cmd, &crate::gymnasium::venv()?);
    }
    if parts.cuda {
        crate::cuda::with_toolkit(cmd, &crate::cuda::toolkit(link)?);
    }
    Ok(())
}

/// Re-runs this `cargo xtask` command built with the features of the parts it needs, and exits
/// with its status.
pub(crate) fn with(parts: Parts) -> Result<()> {
    let features = parts.features();
    if std::env::var_os(GUARD).is_some() {
        bail!(
            "cargo xtask was re-run with its optional parts but still lacks one: build it with `--features {}`",
            features.join(",")
        );
    }
    if parts.cuda && !cfg!(feature = "cuda") {
        eprintln!(
            "--device cuda: building xtask with CUDA (the first time compiles Candle's CUDA kernels: half an hour on a 2-core machine; docs/cuda.md)"
        );
    }
    let mut cmd = Command::new(cargo());
    cmd.args(["run", "--quiet", "--package", "xtask", "--features"])
        .arg(features.join(","))
        .arg("--")
        .args(std::env::args_os().skip(1))
        .env(GUARD, "1")
        .current_dir(std::env::current_dir()?);
    prepare(&mut cmd, parts, true)?;
    exit_like(&mut cmd)
}

/// Runs `cargo ARGS...` with the parts available (`cargo xtask with-mujoco test -p rl-mujoco
/// --features native`), and exits with its status; with no ARGS, prints the variables.
pub(crate) fn cargo_with(args: &[OsString], parts: Parts) -> Result<()> {
    let mut cmd = Command::new(cargo());
    prepare(&mut cmd, parts, crate::cuda::links(args))?;
    if args.is_empty() {
        for (k, v) in cmd.get_envs() {
            if let Some(v) = v {
                println!("export {}={}", k.to_string_lossy(), v.to_string_lossy());
            }
        }
        return Ok(());
    }
    cmd.args(args);
    exit_like(&mut cmd)
}

fn cargo() -> OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// Runs `cmd` in the foreground and exits with its status. Ctrl-C reaches the child (same
/// process group), which checkpoints and exits; this process only waits for it (a SIGTERM or
/// SIGHUP sent to it alone is passed on).
fn exit_like(cmd: &mut Command) -> Result<()> {
    use signal_hook::consts::signal::{SIGHUP, SIGINT, SIGTERM};
    let received = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    for signal in [SIGINT, SIGTERM, SIGHUP] {
        signal_hook::flag::register_usize(signal, received.clone(), signal as usize)?;
    }
    let mut child = cmd
        .spawn()
        .with_context(|| format!("starting {:?}", cmd.get_program()))?;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        let signal = received.swap(0, std::sync::atomic::Ordering::SeqCst);
        if signal == SIGTERM as usize || signal == SIGHUP as usize {
            // Passed on to the child (Ctrl-C reaches it through the terminal already).
            let _ = Command::new("kill")
                .arg(format!("-{signal}"))
                .arg(child.id().to_string())
                .status();
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    std::process::exit(status.code().unwrap_or(130));
}
