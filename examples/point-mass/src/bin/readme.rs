//! The program "Your own environment" in the README shows, verbatim below this header (the
//! README test in `tests/readme.rs` checks it): `cargo run -p point-mass --bin readme`.

#![allow(clippy::print_stdout, reason = "an example program reports on stdout")]

use point_mass::PointMass; // your type implementing rl_envs::Env
use rl_envs::{EnvSpec, register};
use rl_runner::{TrainOptions, evaluate_run, parse_device, train};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let spec = EnvSpec::new("PointMass-v0").with_max_episode_steps(50);
    register(spec, || PointMass::new(false))?; // now make("PointMass-v0") builds it
    let (device, out) = (parse_device("cpu")?, std::path::PathBuf::from("runs/pm"));
    let new_run = TrainOptions {
        algo: "sac".into(), // or "a2c", "acer", "ppo"
        env: Some("PointMass-v0".into()),
        steps: Some(5_000),
        sets: vec!["learning_starts=1000".into(), "net_arch=[64,64]".into()], // like --set
        save_buffer: true, // SAC's replay buffer in checkpoints: the resume is exact
        out: Some(out.clone()),
        ..TrainOptions::default()
    };
    train(&new_run, &device)?;
    let more = TrainOptions {
        algo: "sac".into(),
        resume: Some(out.clone()), // from the latest checkpoint, on to 10 000 steps
        steps: Some(10_000),
        ..TrainOptions::default()
    };
    let summary = train(&more, &device)?;
    println!(
        "eval {:.1} ± {:.1}",
        summary.eval_mean_return, summary.eval_std_return
    );
    let returns = evaluate_run(&out, 20, &device)?; // the saved policy, 20 episodes
    println!("{returns:?}");
    Ok(())
}
