//! `RAYON_NUM_THREADS` changes nothing: a run started without it is the same, number for number,
//! as one started with it (every matrix product goes through `rl_math::matmul`, single-threaded
//! and without candle's per-call core count; the timings of both settings are in
//! docs/performance.md).

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

use std::path::Path;
use std::process::Command;

fn train(out: &Path, variable: Option<&str>) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xtask"));
    cmd.env_remove("RAYON_NUM_THREADS");
    if let Some(v) = variable {
        cmd.env("RAYON_NUM_THREADS", v);
    }
    let status = cmd
        .args([
            "train",
            "a2c",
            "--steps",
            "2000",
            "--seed",
            "4",
            "--no-progress",
            "--out",
        ])
        .arg(out)
        .status()
        .unwrap();
    assert!(status.success(), "{variable:?}: {status}");
}

/// `metrics/train.csv` without the wall-clock column.
fn metrics(dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("metrics").join("train.csv")).unwrap();
    text.lines()
        .map(|line| {
            line.rsplit_once(',')
                .map_or(line, |(head, _)| head)
                .to_owned()
        })
        .collect()
}

#[test]
fn a_run_started_without_the_threads_variable_is_the_run_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let (with, without) = (dir.path().join("with"), dir.path().join("without"));
    train(&with, Some("1"));
    train(&without, None);
    let (a, b) = (metrics(&with), metrics(&without));
    assert!(a.len() > 2, "{a:?}");
    assert_eq!(a, b);
}
