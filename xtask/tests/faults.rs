//! Faults a user's training meets, done to the real binary: `kill -9` at random moments (with
//! checkpoints every few milliseconds), and `kill -9` on purpose inside each stage of a checkpoint
//! write (held open by `RL_CHECKPOINT_PAUSE_MS`); after each the last checkpoint must load and
//! `--resume` must continue. And Ctrl-C (SIGINT), SIGTERM and SIGHUP, which must stop the run at
//! the next step with a final checkpoint and the shell's exit status.

#![cfg(unix)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr,
    reason = "test code: a panic is a test failure"
)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use candle_core::Device;
use rand::{Rng, SeedableRng};

fn xtask() -> Command {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
}

/// `(algo, overrides)`: checkpoints as often as each algorithm's steps allow, replay memories
/// included, so a kill lands inside a checkpoint write often.
const RUNS: [(&str, &[&str]); 4] = [
    ("a2c", &["--set", "run.checkpoint_freq=400"]),
    ("acer", &["--set", "run.checkpoint_freq=320"]),
    ("ppo", &["--set", "run.checkpoint_freq=256"]),
    (
        "sac",
        &[
            "--save-buffer",
            "--set",
            "run.checkpoint_freq=25",
            "--set",
            "learning_starts=50",
            "--set",
            "net_arch=[32, 32]",
        ],
    ),
];

fn start(algo: &str, dir: &Path, extra: &[&str]) -> Child {
    start_with(xtask(), algo, dir, extra)
}

fn start_with(mut command: Command, algo: &str, dir: &Path, extra: &[&str]) -> Child {
    command
        .args([
            "train",
            algo,
            "--steps",
            "100000000",
            "--no-progress",
            "--out",
        ])
        .arg(dir)
        .args(["--set", "run.eval_freq=0", "--set", "run.eval_episodes=1"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting cargo xtask train")
}

/// The step of the checkpoint `LATEST` names.
fn latest_step(dir: &Path) -> Option<u64> {
    let ckpt = rl_nn::checkpoint::CheckpointDir::new(dir.join("checkpoints"));
    let latest = ckpt
        .latest()
        .expect("LATEST must name a complete checkpoint")?;
    let name = latest.file_name()?.to_string_lossy().into_owned();
    name.strip_prefix("step-")?.parse().ok()
}

#[test]
fn kill_9_at_random_moments_never_loses_the_last_checkpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
    let tries = 24;
    let (mut survived, mut before_first) = (0, 0);
    for i in 0..tries {
        let (algo, extra) = RUNS[i % RUNS.len()];
        let dir = tmp.path().join(format!("{algo}-{i}"));
        let mut child = start(algo, &dir, extra);
        std::thread::sleep(Duration::from_millis(rng.random_range(150..1500)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let Some(step) = latest_step(&dir) else {
            // Killed before the first checkpoint: --resume must say so, not crash.
            before_first += 1;
            let out = xtask()
                .args(["train", algo, "--no-progress", "--resume"])
                .arg(&dir)
                .output()
                .unwrap();
            assert!(!out.status.success());
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(
                err.contains("no checkpoint") || err.contains("config.toml"),
                "{algo} try {i}: {err}"
            );
            continue;
        };
        // The checkpoint loads and evaluates...
        let returns = rl_runner::evaluate_run(&dir, 1, &Device::Cpu)
            .unwrap_or_else(|e| panic!("{algo} try {i}: the last checkpoint does not load: {e}"));
        assert!(returns[0].is_finite());
        // ... and the run resumes from it and trains on.
        resume_past(algo, &dir, step, &format!("try {i}"));
        survived += 1;
    }
    eprintln!(
        "kill -9: {tries} tries, {survived} resumed from their last checkpoint, {before_first} killed before the first one"
    );
    assert!(
        survived >= tries * 2 / 3,
        "too few kills landed after a checkpoint"
    );
}

/// `--resume` from the checkpoint at `step` trains on (50 SAC steps, 2 000 for the others) and
/// checkpoints again past it.
fn resume_past(algo: &str, dir: &Path, step: u64, what: &str) {
    let target = step + if algo == "sac" { 50 } else { 2000 };
    let out = xtask()
        .args([
            "train",
            algo,
            "--no-progress",
            "--steps",
            &target.to_string(),
        ])
        .arg("--resume")
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{algo} {what}: resume from step {step} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(latest_step(dir).unwrap() >= target, "{algo} {what}");
}

/// The entries of a run's checkpoint folder: complete `step-…` folders and `.tmp-…` ones.
fn checkpoint_entries(dir: &Path) -> (Vec<String>, Vec<String>) {
    let names: Vec<String> = std::fs::read_dir(dir.join("checkpoints"))
        .map(|entries| {
            entries
                .filter_map(|e| Some(e.ok()?.file_name().to_string_lossy().into_owned()))
                .collect()
        })
        .unwrap_or_default();
    let (tmp, rest): (Vec<String>, Vec<String>) =
        names.into_iter().partition(|n| n.starts_with(".tmp-"));
    (
        rest.into_iter()
            .filter(|n| n.starts_with("step-"))
            .collect(),
        tmp,
    )
}

/// `kill -9` while a checkpoint is half written, in both of its stages: while its files sit in
/// the temporary folder without a manifest, and after the rename but before `LATEST` names it. The
/// write is held open for 1.5 s by `RL_CHECKPOINT_PAUSE_MS`, so the kill lands there every time;
/// the previous checkpoint must load and the run must resume from it.
#[test]
fn kill_9_inside_a_checkpoint_write_keeps_the_previous_checkpoint() {
    let tmp = tempfile::tempdir().unwrap();
    for (algo, extra) in RUNS {
        for stage in [
            "files written, no manifest",
            "renamed, LATEST not yet updated",
        ] {
            let dir = tmp.path().join(format!("{algo}-{}", stage.len()));
            let mut command = xtask();
            command.env(rl_nn::checkpoint::PAUSE_VARIABLE, "1500");
            let mut child = start_with(command, algo, &dir, extra);
            // Wait for a write in the wanted stage with a complete checkpoint before it.
            let t0 = Instant::now();
            let landed = loop {
                assert!(
                    t0.elapsed() < Duration::from_secs(60),
                    "{algo}: no checkpoint write in stage {stage:?} within 60 s"
                );
                let (complete, partial) = checkpoint_entries(&dir);
                let latest = std::fs::read_to_string(dir.join("checkpoints/LATEST"))
                    .map(|s| s.trim().to_string())
                    .unwrap_or_default();
                let in_stage = if stage.starts_with("files") {
                    !partial.is_empty() && !latest.is_empty()
                } else {
                    !latest.is_empty() && complete.iter().any(|n| *n > latest)
                };
                if in_stage {
                    break latest;
                }
                std::thread::sleep(Duration::from_millis(10));
            };
            child.kill().unwrap(); // SIGKILL, inside the paused write
            child.wait().unwrap();
            let (complete, partial) = checkpoint_entries(&dir);
            if stage.starts_with("files") {
                assert!(
                    !partial.is_empty(),
                    "{algo}: the kill did not land mid-write"
                );
            } else {
                assert!(complete.iter().any(|n| *n > landed), "{algo}: {complete:?}");
            }
            // LATEST still names the checkpoint before the interrupted one, and it loads.
            let step = latest_step(&dir).unwrap();
            assert_eq!(format!("step-{step:012}"), landed, "{algo} {stage}");
            rl_runner::evaluate_run(&dir, 1, &Device::Cpu).unwrap_or_else(|e| {
                panic!("{algo} {stage}: the last checkpoint does not load: {e}")
            });
            resume_past(algo, &dir, step, stage);
            // The interrupted write's leftovers are gone.
            assert!(checkpoint_entries(&dir).1.is_empty(), "{algo} {stage}");
        }
    }
}

/// Ctrl-C (SIGINT), SIGTERM (`docker stop`, Slurm, `timeout`) and SIGHUP (a closed terminal)
/// each stop a run at the next step with a final checkpoint, the `--resume` command and the exit
/// status a shell gives for the signal; one signal per learner (in turn) covers all three.
#[test]
fn stop_signals_stop_at_the_next_step_with_a_final_checkpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let signals = [("INT", 130), ("TERM", 143), ("HUP", 129)];
    for ((algo, _), (signal, code)) in RUNS.into_iter().zip(signals.into_iter().cycle()) {
        let dir = tmp.path().join(algo);
        // No periodic checkpoints: the one that exists after Ctrl-C is the final one.
        let child = start(algo, &dir, &["--set", "run.checkpoint_freq=0"]);
        // Wait until training has started (the run folder's config is written first).
        let t0 = Instant::now();
        while !dir.join("metrics").exists() && t0.elapsed() < Duration::from_secs(20) {
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(700));
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let out = child.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(code),
            "{algo}: exit status after SIG{signal}"
        );
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(
            said.contains("--resume"),
            "{algo}: no --resume hint after SIG{signal}: {said}"
        );
        let step = latest_step(&dir).unwrap_or_else(|| panic!("{algo}: no final checkpoint"));
        assert!(step > 0);
        assert!(
            !dir.join("summary.json").exists(),
            "{algo}: an interrupted run is no finished run"
        );
        // It continues from there.
        let out = xtask()
            .args([
                "train",
                algo,
                "--no-progress",
                "--steps",
                &(step + 100).to_string(),
                "--resume",
            ])
            .arg(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
