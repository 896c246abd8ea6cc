//! `cargo run -p point-mass [-- OUT_DIR]`: trains SAC and PPO on `PointMass-v0`, and A2C and ACER
//! on `PointMassDiscrete-v0`, through the runner: half the budget, then a resume from the checkpoint
//! to the whole. Prints each final evaluation and exits non-zero if one misses the env's reward
//! threshold. Run folders go under OUT_DIR (default `runs/point-mass-<unix time>`).

#![allow(clippy::print_stdout, reason = "an example program reports on stdout")]

use std::path::PathBuf;

use rl_runner::{TrainOptions, parse_device, stop_on_signals, train};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    point_mass::register()?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?;
    let out = std::env::args().nth(1).map_or_else(
        || PathBuf::from(format!("runs/point-mass-{}", now.as_secs())),
        PathBuf::from,
    );
    let (device, stop) = (parse_device("cpu")?, stop_on_signals()?);
    let learners = [
        (
            "sac",
            "PointMass-v0",
            10_000,
            "learning_starts=1000 net_arch=[64,64]",
        ),
        (
            "a2c",
            "PointMassDiscrete-v0",
            200_000,
            "n_envs=8 ent_coef=0.01",
        ),
        (
            "acer",
            "PointMassDiscrete-v0",
            200_000,
            // Trained in two halves: a constant learning rate, so the halves are the whole run (a
            // linear schedule, ACER's default, would end with the first half).
            "n_envs=8 normalize_reward=true lr_schedule=\"constant\"",
        ),
        (
            "ppo",
            "PointMass-v0",
            30_000,
            // SB3's defaults but for more envs and shorter rollouts (reaches -6.9 by 10k).
            "n_envs=8 n_steps=64 batch_size=128 learning_rate=0.001",
        ),
    ];
    for (algo, env, steps, sets) in learners {
        let run_dir = out.join(algo);
        let first_half = TrainOptions {
            algo: algo.into(),
            env: Some(env.into()),
            steps: Some(steps / 2),
            sets: sets.split(' ').map(String::from).collect(),
            save_buffer: true, // SAC's replay buffer in the checkpoint: the resume is exact
            out: Some(run_dir.clone()),
            stop: Some(stop.clone()),
            ..TrainOptions::default()
        };
        train(&first_half, &device)?;
        let rest = TrainOptions {
            algo: algo.into(),
            steps: Some(steps),
            resume: Some(run_dir),
            stop: Some(stop.clone()),
            ..TrainOptions::default()
        };
        let s = train(&rest, &device)?;
        let threshold = rl_envs::spec(env)?
            .reward_threshold
            .unwrap_or(f64::NEG_INFINITY);
        println!(
            "{algo} on {env}: eval {:.2} ± {:.2} after {} steps (threshold {threshold}); {}",
            s.eval_mean_return, s.eval_std_return, s.env_steps, s.run_dir
        );
        if s.interrupted || s.eval_mean_return < threshold {
            return Err(format!("{algo} did not reach {threshold} on {env}").into());
        }
    }
    Ok(())
}
