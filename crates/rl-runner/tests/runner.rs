//! The runner end to end on short SAC runs: the run folder's contents, bit-identical reruns,
//! exact resume, and the errors a user meets.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

use std::path::Path;

use candle_core::Device;
use rl_runner::{RunError, TrainOptions, evaluate_run, train};

fn options(out: &Path, steps: u64) -> TrainOptions {
    TrainOptions {
        algo: "sac".into(),
        steps: Some(steps),
        out: Some(out.to_path_buf()),
        sets: [
            "net_arch=[32, 32]",
            "batch_size=32",
            "run.eval_freq=200",
            "run.eval_episodes=2",
            "run.checkpoint_freq=200",
            "run.log_interval=50",
        ]
        .map(String::from)
        .to_vec(),
        ..TrainOptions::default()
    }
}

/// A CSV file without its `wall_seconds` column (the only thing that differs between reruns).
fn metrics(dir: &Path, name: &str) -> String {
    let text = std::fs::read_to_string(dir.join("metrics").join(name)).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    let skip = header.iter().position(|c| *c == "wall_seconds");
    text.lines()
        .map(|l| {
            l.split(',')
                .enumerate()
                .filter(|(i, _)| Some(*i) != skip)
                .map(|(_, v)| v)
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_run_folder_has_config_metrics_events_checkpoints_plot_and_summary() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let s = train(&options(&out, 400), &Device::Cpu).unwrap();
    assert_eq!(
        (
            s.algo.as_str(),
            s.env.as_str(),
            s.env_steps,
            s.eval_episodes
        ),
        ("sac", "Pendulum-v1", 400, 2)
    );
    for f in [
        "config.toml",
        "summary.json",
        "learning_curve.png",
        "metrics/train.csv",
        "metrics/episodes.csv",
        "metrics/eval.csv",
        "checkpoints/LATEST",
    ] {
        assert!(out.join(f).is_file(), "missing {f}");
    }
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    for key in [
        "algo",
        "env",
        "seed",
        "env_steps",
        "wall_seconds",
        "eval_episodes",
        "eval_mean_return",
        "eval_std_return",
    ] {
        assert!(summary.get(key).is_some(), "summary.json lacks {key}");
    }
    let config = std::fs::read_to_string(out.join("config.toml")).unwrap();
    assert!(
        config.contains("learning_rate = 0.001") && config.contains("n_timesteps = 400"),
        "{config}"
    );
    assert!(std::fs::read_dir(out.join("tb")).unwrap().count() == 1);
    let png = std::fs::read(out.join("learning_curve.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    // The final evaluation is what `eval` reproduces from the checkpoint.
    assert_eq!(evaluate_run(&out, 2, &Device::Cpu).unwrap(), s.eval_returns);
}

/// `eval --stochastic`: actions sampled from the policy with the checkpoint's own generator, so
/// the same checkpoint gives the same returns every time; they are not the deterministic ones
/// (a barely trained CartPole policy is far from greedy), which `evaluate_run` keeps.
#[test]
fn stochastic_evaluation_samples_the_policy_reproducibly() {
    use rl_runner::{EvalActions, evaluate_run_with};
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("a2c");
    let opts = TrainOptions {
        algo: "a2c".into(),
        steps: Some(400),
        out: Some(out.clone()),
        sets: vec!["run.eval_episodes=2".into()],
        ..TrainOptions::default()
    };
    train(&opts, &Device::Cpu).unwrap();
    let stochastic = evaluate_run_with(&out, 5, &Device::Cpu, EvalActions::Stochastic).unwrap();
    assert_eq!(
        stochastic,
        evaluate_run_with(&out, 5, &Device::Cpu, EvalActions::Stochastic).unwrap()
    );
    let deterministic = evaluate_run(&out, 5, &Device::Cpu).unwrap();
    assert_eq!(
        deterministic,
        evaluate_run_with(&out, 5, &Device::Cpu, EvalActions::Deterministic).unwrap()
    );
    assert_ne!(stochastic, deterministic);
}

#[test]
fn the_same_seed_writes_the_same_metrics_twice() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let sa = train(&options(&a, 300), &Device::Cpu).unwrap();
    let sb = train(&options(&b, 300), &Device::Cpu).unwrap();
    for f in ["train.csv", "episodes.csv", "eval.csv"] {
        assert_eq!(metrics(&a, f), metrics(&b, f), "{f} differs");
    }
    assert_eq!(sa.eval_returns, sb.eval_returns);
}

#[test]
fn resuming_with_the_buffer_matches_an_uninterrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    let (straight, split) = (dir.path().join("straight"), dir.path().join("split"));
    let mut o = options(&straight, 600);
    o.save_buffer = true;
    let s1 = train(&o, &Device::Cpu).unwrap();

    let mut o = options(&split, 400);
    o.save_buffer = true;
    train(&o, &Device::Cpu).unwrap();
    let resume = TrainOptions {
        algo: "sac".into(),
        resume: Some(split.clone()),
        steps: Some(600),
        ..TrainOptions::default()
    };
    let s2 = train(&resume, &Device::Cpu).unwrap();
    assert_eq!(s1.eval_returns, s2.eval_returns);
    for f in ["train.csv", "episodes.csv", "eval.csv"] {
        assert_eq!(metrics(&straight, f), metrics(&split, f), "{f} differs");
    }
}

/// Train `2n` steps straight; train `n`, stop, resume to `2n`: the metrics must be identical
/// (CPU, same seed), for every algorithm.
#[test]
fn every_algorithm_resumes_bit_for_bit() {
    for (algo, n, sets) in [
        (
            "a2c",
            2000,
            vec![
                "run.eval_freq=2000",
                "run.checkpoint_freq=2000",
                "run.log_interval=400",
            ],
        ),
        (
            "acer",
            1600,
            vec![
                "run.eval_freq=1600",
                "run.checkpoint_freq=1600",
                "run.log_interval=320",
                // The split run's first half is a run of n steps, whose linear learning-rate
                // schedule would end at n; a constant rate makes the halves the whole run.
                "lr_schedule=\"constant\"",
            ],
        ),
        (
            "ppo",
            2048,
            vec![
                "run.eval_freq=2048",
                "run.checkpoint_freq=2048",
                "run.log_interval=512",
                // As ACER's: constant schedules make the first half's run the whole run's.
                "lr_schedule=\"constant\"",
                "clip_range_schedule=\"constant\"",
            ],
        ),
        (
            "sac",
            300,
            vec![
                "net_arch=[32, 32]",
                "batch_size=32",
                "run.eval_freq=300",
                "run.checkpoint_freq=300",
                "run.log_interval=50",
            ],
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (straight, split) = (dir.path().join("straight"), dir.path().join("split"));
        let opts = |out: &Path, steps: u64| TrainOptions {
            algo: algo.into(),
            steps: Some(steps),
            out: Some(out.to_path_buf()),
            save_buffer: true,
            sets: sets
                .iter()
                .map(|s| s.to_string())
                .chain(["run.eval_episodes=2".into()])
                .collect(),
            ..TrainOptions::default()
        };
        let s1 = train(&opts(&straight, 2 * n), &Device::Cpu).unwrap();
        train(&opts(&split, n), &Device::Cpu).unwrap();
        let resume = TrainOptions {
            algo: algo.into(),
            resume: Some(split.clone()),
            steps: Some(2 * n),
            ..TrainOptions::default()
        };
        let s2 = train(&resume, &Device::Cpu).unwrap();
        assert_eq!(s1.env_steps, s2.env_steps, "{algo}");
        assert_eq!(s1.eval_returns, s2.eval_returns, "{algo}");
        for f in ["train.csv", "episodes.csv", "eval.csv"] {
            assert_eq!(
                metrics(&straight, f),
                metrics(&split, f),
                "{algo}: {f} differs"
            );
        }
    }
}

/// A stop request (what Ctrl-C sets) ends the run before its next step with a checkpoint there,
/// and the run resumes from it.
#[test]
fn a_stop_request_checkpoints_and_resumes() {
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let stop = Arc::new(AtomicBool::new(true));
    let mut o = options(&out, 400);
    o.stop = Some(stop);
    let s = train(&o, &Device::Cpu).unwrap();
    assert!(s.interrupted);
    assert_eq!(s.env_steps, 0);
    assert!(out.join("checkpoints/LATEST").is_file());
    assert!(!out.join("summary.json").exists());
    let resume = TrainOptions {
        algo: "sac".into(),
        resume: Some(out.clone()),
        steps: Some(200),
        ..TrainOptions::default()
    };
    let s = train(&resume, &Device::Cpu).unwrap();
    assert!(!s.interrupted && s.env_steps == 200);
}

#[test]
fn user_mistakes_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("something"), "x").unwrap();
    let err = train(&options(&out, 10), &Device::Cpu).unwrap_err();
    assert!(
        matches!(err, RunError::RunDir { .. }) && err.to_string().contains("already exists"),
        "{err}"
    );

    let fresh = dir.path().join("fresh");
    let mut o = options(&fresh, 10);
    o.sets.push("leaning_rate=1e-3".into());
    let err = train(&o, &Device::Cpu).unwrap_err();
    assert!(err.to_string().contains("leaning_rate"), "{err}");

    let mut o = options(&fresh, 10);
    o.sets.push("run.n_timestep=5".into());
    assert!(
        train(&o, &Device::Cpu)
            .unwrap_err()
            .to_string()
            .contains("n_timestep")
    );

    let o = TrainOptions {
        algo: "trpo".into(),
        ..options(&fresh, 10)
    };
    assert!(
        train(&o, &Device::Cpu)
            .unwrap_err()
            .to_string()
            .contains("unknown algorithm \"trpo\"")
    );

    let o = TrainOptions {
        env: Some("CartPole-v0".into()),
        ..options(&fresh, 10)
    };
    let err = train(&o, &Device::Cpu).unwrap_err();
    assert!(
        err.to_string().contains("CartPole-v1"),
        "lists the known ids: {err}"
    );

    let err = evaluate_run(&dir.path().join("nowhere"), 1, &Device::Cpu).unwrap_err();
    assert!(err.to_string().contains("config.toml"), "{err}");
    assert!(rl_runner::parse_device("tpu").is_err());
}

#[test]
fn event_files_are_valid_tfrecords() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = rl_runner::tensorboard::EventWriter::create(dir.path()).unwrap();
    w.scalar("train/loss", 0.5, 7).unwrap();
    w.flush().unwrap();
    let bytes = std::fs::read(w.path()).unwrap();
    let mut records = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let len_bytes = &bytes[at..at + 8];
        let len = u64::from_le_bytes(len_bytes.try_into().unwrap()) as usize;
        let crc = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap());
        assert_eq!(crc, rl_runner::tensorboard::masked_crc(len_bytes));
        let data = &bytes[at + 12..at + 12 + len];
        let crc = u32::from_le_bytes(bytes[at + 12 + len..at + 16 + len].try_into().unwrap());
        assert_eq!(crc, rl_runner::tensorboard::masked_crc(data));
        records.push(data.to_vec());
        at += 16 + len;
    }
    assert_eq!(records.len(), 2);
    assert!(records[0].windows(13).any(|w| w == b"brain.Event:2"));
    assert!(records[1].windows(10).any(|w| w == b"train/loss"));
    assert!(records[1].windows(4).any(|w| w == 0.5f32.to_le_bytes()));
    // A known vector: TFRecord's masked CRC of b"hello" (from TensorFlow's implementation).
    assert_eq!(crc32c::crc32c(b"123456789"), 0xE306_9283);
}

#[test]
fn a_run_that_cannot_start_leaves_no_folder() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    for (env, sets) in [
        ("HalfCheetah-v9", vec![]),                        // not registered
        ("Pendulum-v1", vec!["batch_size=-3".to_owned()]), // a config the agent refuses
    ] {
        let o = TrainOptions {
            env: Some(env.into()),
            sets,
            ..options(&out, 100)
        };
        assert!(train(&o, &Device::Cpu).is_err(), "{env}");
        assert!(
            !out.exists(),
            "{env}: a failed start left {}",
            out.display()
        );
    }
}
