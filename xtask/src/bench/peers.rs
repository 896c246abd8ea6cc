//! The Python peers (Gymnasium, PyTorch, Stable-Baselines3) run from `../shared/anchors/python`,
//! each timing the same work as one of ours.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, bail};

use super::BenchArgs;

/// Where the Python peers live.
pub(super) struct Peers {
    /// The venv's interpreter.
    pub(super) python: PathBuf,
    /// `../shared/anchors/python`.
    pub(super) anchors: PathBuf,
}

/// Runs an anchor script and parses the one JSON line it prints.
pub(super) fn peer_script(peers: &Peers, script: &str, args: &[&str]) -> Result<serde_json::Value> {
    let out = Command::new(&peers.python)
        .current_dir(&peers.anchors)
        .arg(script)
        .args(args)
        .output()
        .with_context(|| format!("running {script}"))?;
    if !out.status.success() {
        bail!("{script} failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().last().unwrap_or("");
    serde_json::from_str(line.trim())
        .with_context(|| format!("{script} printed something other than a JSON line"))
}

/// `torch_sac_update.py --threads N`: the median updates/s of its repeats.
pub(super) fn torch_updates_per_second(peers: &Peers, threads: usize) -> Result<f64> {
    let out = Command::new(&peers.python)
        .current_dir(&peers.anchors)
        .args([
            "torch_sac_update.py",
            "--updates",
            "300",
            "--repeats",
            "2",
            "--threads",
        ])
        .arg(threads.to_string())
        .output()
        .context("running torch_sac_update.py")?;
    if !out.status.success() {
        bail!(
            "torch_sac_update.py failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let json: serde_json::Value = serde_json::from_str(String::from_utf8_lossy(&out.stdout).trim())
        .context("torch_sac_update.py printed something other than one JSON line")?;
    json["updates_per_s_median"]
        .as_f64()
        .context("torch_sac_update.py: no updates_per_s_median")
}

pub(super) fn peer_python(args: &BenchArgs, anchors: &std::path::Path) -> Result<PathBuf> {
    let python = match &args.python {
        Some(p) => p.clone(),
        None => {
            let venv = std::env::var_os("ANCHORS_VENV")
                .map(PathBuf::from)
                .unwrap_or_else(|| {
                    PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                        .join(".cache/rl-anchors-venv")
                });
            venv.join("bin/python")
        }
    };
    if !python.exists() {
        bail!(
            "--peers needs the Python peers' venv, and {} does not exist: run {}/setup.sh first",
            python.display(),
            anchors.display()
        );
    }
    Ok(python)
}

/// Gymnasium's "presampled" steps/s per env from the anchor script `env_throughput.py`.
pub(super) fn gymnasium_steps_per_second(
    peers: &Peers,
    ids: &[&str],
) -> Result<std::collections::HashMap<String, f64>> {
    let anchors = &peers.anchors;
    let out = Command::new(&peers.python)
        .current_dir(anchors)
        .args([
            "env_throughput.py",
            "--max-steps",
            "200000",
            "--max-seconds",
            "3",
            "--envs",
        ])
        .args(ids)
        .output()
        .with_context(|| format!("running {}/env_throughput.py", anchors.display()))?;
    if !out.status.success() {
        bail!(
            "env_throughput.py failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let line = String::from_utf8_lossy(&out.stdout);
    let json: serde_json::Value = serde_json::from_str(line.trim())
        .context("env_throughput.py printed something other than one JSON line")?;
    Ok(ids
        .iter()
        .filter_map(|id| {
            let rate = json["results"][*id]["presampled"]["steps_per_s"].as_f64()?;
            Some(((*id).to_owned(), rate))
        })
        .collect())
}
