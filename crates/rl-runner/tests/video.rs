//! Episodes as GIFs and runs compared: `--gif` leaves a GIF that decodes to one frame per step
//! (plus the reset), an env that cannot draw is refused before anything is written, and
//! `compare` groups seeds and draws them.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

use std::path::Path;

use candle_core::Device;
use rl_runner::compare::{RunCurves, compare_gif, compare_plot, groups};
use rl_runner::video::{record_run, record_run_with, side_by_side, write_gif};
use rl_runner::{EPISODE_GIF, EvalActions, TrainOptions, evaluate_run_with, train};

fn a2c(out: &Path, env: &str, seed: u64, gif: bool) -> TrainOptions {
    TrainOptions {
        algo: "a2c".into(),
        env: Some(env.into()),
        steps: Some(2_000),
        seed: Some(seed),
        out: Some(out.to_path_buf()),
        sets: ["run.eval_freq=1000", "run.eval_episodes=2"]
            .map(String::from)
            .to_vec(),
        gif,
        ..TrainOptions::default()
    }
}

/// `(width, height, frames)` of a GIF file.
fn decode(path: &Path) -> (u16, u16, usize) {
    let mut options = gif::DecodeOptions::new();
    options.set_color_output(gif::ColorOutput::RGBA);
    let mut decoder = options
        .read_info(std::fs::File::open(path).unwrap())
        .unwrap();
    let (w, h) = (decoder.width(), decoder.height());
    let mut frames = 0;
    while decoder.read_next_frame().unwrap().is_some() {
        frames += 1;
    }
    (w, h, frames)
}

#[test]
fn train_with_gif_leaves_an_episode_gif_of_one_frame_per_step() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let s = train(&a2c(&out, "CartPole-v1", 0, true), &Device::Cpu).unwrap();
    let (w, h, frames) = decode(&out.join(EPISODE_GIF));
    assert_eq!((w, h), (600, 400));
    // The first evaluation episode: its return is its length (CartPole gives +1 a step), and the
    // GIF has a frame after the reset and one after every step.
    assert_eq!(frames as f64, s.eval_returns[0] + 1.0);

    // The same episode from the checkpoint, as `cargo xtask eval --gif` records it.
    let recordings = record_run(&out, 1, &Device::Cpu).unwrap();
    assert_eq!(recordings[0].frames.len(), frames);
    assert_eq!(recordings[0].episode_return, s.eval_returns[0]);
    let path = dir.path().join("again.gif");
    write_gif(&path, &recordings[0].frames).unwrap();
    assert_eq!(decode(&path), (600, 400, frames));
}

#[test]
fn a_stochastic_gif_records_the_episodes_a_stochastic_evaluation_runs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    train(&a2c(&out, "CartPole-v1", 0, false), &Device::Cpu).unwrap();
    // `cargo xtask eval DIR --stochastic --gif FILE`: the recorded episodes are the evaluation's.
    let sampled = evaluate_run_with(&out, 3, &Device::Cpu, EvalActions::Stochastic).unwrap();
    let recordings = record_run_with(&out, 3, &Device::Cpu, EvalActions::Stochastic).unwrap();
    let recorded: Vec<f64> = recordings.iter().map(|r| r.episode_return).collect();
    assert_eq!(recorded, sampled);
    for r in &recordings {
        assert_eq!(r.frames.len() as f64, r.episode_return + 1.0);
    }
    // And not the deterministic episodes (a policy trained for 2 000 steps is far from greedy).
    let greedy: Vec<f64> = record_run(&out, 3, &Device::Cpu)
        .unwrap()
        .iter()
        .map(|r| r.episode_return)
        .collect();
    assert_ne!(recorded, greedy);
}

#[test]
fn gif_of_an_env_that_cannot_render_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let err = train(&a2c(&out, "ProbeConstantReward-v0", 0, true), &Device::Cpu)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("--gif") && err.contains("cannot render"),
        "{err}"
    );
    assert!(!out.exists());
}

#[test]
fn compare_groups_seeds_plots_and_shows_episodes_side_by_side() {
    let dir = tempfile::tempdir().unwrap();
    let dirs: Vec<_> = [("CartPole-v1", 0), ("CartPole-v1", 1), ("Pendulum-v1", 0)]
        .iter()
        .map(|&(env, seed)| {
            let out = dir.path().join(format!("{env}-{seed}"));
            train(&a2c(&out, env, seed, false), &Device::Cpu).unwrap();
            out
        })
        .collect();
    let runs: Vec<RunCurves> = dirs.iter().map(|d| RunCurves::read(d).unwrap()).collect();
    let grouped = groups(&runs);
    assert_eq!(
        grouped
            .iter()
            .map(|(g, m)| (g.as_str(), m.len()))
            .collect::<Vec<_>>(),
        [("A2C CartPole-v1", 2), ("A2C Pendulum-v1", 1)]
    );
    assert_eq!(runs[0].final_eval().unwrap().0, 2_000);

    let png = dir.path().join("compare.png");
    compare_plot(&png, &runs).unwrap();
    assert_eq!(&std::fs::read(&png).unwrap()[1..4], b"PNG");

    let gif = dir.path().join("compare.gif");
    let returns = compare_gif(&gif, &runs, &Device::Cpu).unwrap();
    let (w, h, frames) = decode(&gif);
    // CartPole is 600×400, Pendulum 500×500: side by side, as tall as the tallest; as long as the
    // longest episode (plus its reset frame).
    assert_eq!((w, h), (600 + 600 + 500, 500));
    let longest = returns[..2].iter().map(|r| *r as usize + 1).max().unwrap();
    assert!(frames >= longest, "{frames} frames, returns {returns:?}");
}

#[test]
fn frames_side_by_side_keep_their_pixels() {
    let a = rl_envs::Frame::filled(2, 1, [1, 2, 3]);
    let b = rl_envs::Frame::filled(1, 2, [9, 9, 9]);
    let c = side_by_side(&[&a, &b]);
    assert_eq!((c.width, c.height), (3, 2));
    assert_eq!(c.pixel(1, 0), Some([1, 2, 3]));
    assert_eq!(c.pixel(1, 1), Some([255, 255, 255]));
    assert_eq!(c.pixel(2, 1), Some([9, 9, 9]));
}
