//! Every kind of bad input a user can hand the library or the runner, each answered by an error
//! that names the problem (never a panic, never a shape error from deep inside Candle). This file
//! is the source of the table in `docs/errors.md`: `cargo test -p rl-runner --test bad_input --
//! --nocapture` prints each case with the message a user sees.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::print_stderr,
    reason = "test code: a panic is a test failure"
)]

use std::fmt::Display;
use std::path::Path;

use candle_core::{Device, Tensor};
use rl_buffer::{ActionSpec, ReplayBuffer, Transition};
use rl_envs::{Action, BoxSpace, Env, EnvError, Space, Step, make};
use rl_runner::{TrainOptions, evaluate_run, train};

/// Prints the case as a table row and returns the message.
fn case(what: &str, err: impl Display) -> String {
    let message = err.to_string().replace('\n', " ");
    eprintln!("| {what} | `{message}` |");
    message
}

fn expect(what: &str, err: impl Display, needles: &[&str]) {
    let message = case(what, err);
    for n in needles {
        assert!(message.contains(n), "{what}: {message:?} lacks {n:?}");
    }
}

fn sac_options(out: &Path, steps: u64) -> TrainOptions {
    TrainOptions {
        algo: "sac".into(),
        steps: Some(steps),
        out: Some(out.to_path_buf()),
        sets: ["net_arch=[16, 16]", "batch_size=16", "run.eval_episodes=1"]
            .map(String::from)
            .to_vec(),
        ..TrainOptions::default()
    }
}

/// The error of a fresh `algo` agent (3-dim observations, one continuous action) asked to act
/// on the batch `x`.
fn act_error(algo: &str, x: &Tensor) -> String {
    let (action, device) = (ActionSpec::Continuous { dim: 1 }, &Device::Cpu);
    let err = match algo {
        "sac" => rl_sac::Sac::new(Default::default(), 3, action, device, 0)
            .unwrap()
            .act_batch(x, true)
            .map(drop)
            .map_err(|e| e.to_string()),
        "a2c" => rl_a2c::A2c::new(Default::default(), 3, action, device, 0)
            .unwrap()
            .act_batch(x, true)
            .map(drop)
            .map_err(|e| e.to_string()),
        "ppo" => rl_ppo::Ppo::new(Default::default(), 3, action, device, 0)
            .unwrap()
            .act_batch(x, true)
            .map(drop)
            .map_err(|e| e.to_string()),
        _ => rl_acer::Acer::new(Default::default(), 3, action, device, 0)
            .unwrap()
            .act_batch(x, true)
            .map(drop)
            .map_err(|e| e.to_string()),
    };
    err.unwrap_err()
}

#[test]
fn wrong_shapes_and_actions_outside_the_space() {
    let mut env = make("CartPole-v1").unwrap();
    env.reset(Some(0)).unwrap();
    expect(
        "discrete action out of range",
        env.step(Action::Discrete(2)).unwrap_err(),
        &["2", "Discrete(2)"],
    );
    expect(
        "continuous action for a discrete env",
        env.step(Action::Continuous(&[0.0])).unwrap_err(),
        &["discrete"],
    );
    let mut env = make("Pendulum-v1").unwrap();
    env.reset(Some(0)).unwrap();
    expect(
        "action of the wrong length",
        env.step(Action::Continuous(&[0.0, 1.0])).unwrap_err(),
        &["2", "1"],
    );
    expect(
        "NaN in an action",
        env.step(Action::Continuous(&[f32::NAN])).unwrap_err(),
        &["NaN"],
    );

    let wrong = Tensor::zeros((2, 4), candle_core::DType::F32, &Device::Cpu).unwrap();
    for algo in ["sac", "a2c", "acer", "ppo"] {
        expect(
            &format!("{algo}: observations of the wrong width"),
            act_error(algo, &wrong),
            &["[batch, 3]", "[2, 4]"],
        );
    }

    let mut buf = ReplayBuffer::new(10, 3, ActionSpec::Discrete { n: 2 }).unwrap();
    let t = |obs: &'static [f32], action: &'static [f32], reward: f64| Transition {
        obs,
        action,
        reward,
        next_obs: &[0.0; 3],
        terminated: false,
        truncated: false,
    };
    expect(
        "replay: action outside Discrete(n)",
        buf.push(t(&[0.0; 3], &[2.0], 0.0)).unwrap_err(),
        &["2"],
    );
    expect(
        "replay: observation of the wrong length",
        buf.push(t(&[0.0; 2], &[1.0], 0.0)).unwrap_err(),
        &["2", "3"],
    );
    expect(
        "replay: NaN observation",
        buf.push(t(&[0.0, f32::NAN, 0.0], &[1.0], 0.0)).unwrap_err(),
        &["NaN"],
    );
    expect(
        "replay: infinite reward",
        buf.push(t(&[0.0; 3], &[1.0], f64::INFINITY)).unwrap_err(),
        &["inf"],
    );
}

/// An env that returns NaN in its observation or reward after a few steps.
struct Faulty {
    what: &'static str,
    obs: [f32; 3],
    obs_space: Space,
    action_space: Space,
    t: usize,
}

impl Env for Faulty {
    fn id(&self) -> &str {
        "Faulty-v0"
    }
    fn observation_space(&self) -> &Space {
        &self.obs_space
    }
    fn action_space(&self) -> &Space {
        &self.action_space
    }
    fn reset(&mut self, _seed: Option<u64>) -> Result<&[f32], EnvError> {
        self.t = 0;
        self.obs = [0.0; 3];
        Ok(&self.obs)
    }
    fn step(&mut self, action: Action<'_>) -> Result<Step<'_>, EnvError> {
        action.expect_continuous("Faulty-v0", 1)?;
        self.t += 1;
        let bad = self.t == 7;
        self.obs = [
            0.1,
            if bad && self.what == "observation" {
                f32::NAN
            } else {
                0.2
            },
            0.3,
        ];
        Ok(Step {
            observation: &self.obs,
            reward: if bad && self.what == "reward" {
                f64::NAN
            } else {
                -1.0
            },
            terminated: false,
            truncated: self.t >= 50,
        })
    }
}

#[test]
fn nan_in_observations_rewards_and_losses() {
    for what in ["observation", "reward"] {
        let env = Faulty {
            what,
            obs: [0.0; 3],
            obs_space: Space::Box(BoxSpace::uniform(-1.0, 1.0, 3).unwrap()),
            action_space: Space::Box(BoxSpace::uniform(-1.0, 1.0, 1).unwrap()),
            t: 0,
        };
        let agent = rl_sac::Sac::new(
            rl_sac::SacConfig::default(),
            3,
            ActionSpec::Continuous { dim: 1 },
            &Device::Cpu,
            0,
        )
        .unwrap();
        let mut trainer = rl_sac::SacTrainer::new(agent, env, 0).unwrap();
        let err = (0..20).find_map(|_| trainer.step().err()).unwrap();
        expect(
            &format!("NaN {what} from the environment"),
            err,
            &["NaN", "step"],
        );
    }

    // A loss that overflows: rewards of 1e38 make the critic loss infinite.
    let mut agent = rl_sac::Sac::new(
        rl_sac::SacConfig::default(),
        3,
        ActionSpec::Continuous { dim: 1 },
        &Device::Cpu,
        0,
    )
    .unwrap();
    let mut buf = ReplayBuffer::new(64, 3, ActionSpec::Continuous { dim: 1 }).unwrap();
    for _ in 0..64 {
        buf.push(Transition {
            obs: &[0.1, 0.2, 0.3],
            action: &[0.5],
            reward: 3e38,
            next_obs: &[0.1, 0.2, 0.3],
            terminated: false,
            truncated: false,
        })
        .unwrap();
    }
    let mut rng = rl_math::SeededRng::new(0);
    let err = (0..5)
        .find_map(|_| {
            agent
                .update(&buf.sample(32, &mut rng, &Device::Cpu).unwrap())
                .err()
        })
        .unwrap();
    expect("a loss that is not finite", err, &["loss", "gradient step"]);
}

#[test]
fn malformed_configs_and_unknown_keys() {
    expect(
        "config: TOML syntax error",
        rl_sac::SacConfig::from_toml("[sac]\nlearning_rate = = 3").unwrap_err(),
        &["line 2"],
    );
    expect(
        "config: unknown key",
        rl_a2c::A2cConfig::from_toml("[a2c]\nn_step = 5").unwrap_err(),
        &["n_step", "n_steps"],
    );
    expect(
        "config: wrong type",
        rl_acer::AcerConfig::from_toml("[acer]\nn_steps = \"20\"").unwrap_err(),
        &["n_steps", "string"],
    );
    expect(
        "config: value out of range",
        rl_sac::SacConfig::from_toml("[sac]\ngamma = 1.5").unwrap_err(),
        &["gamma", "1.5"],
    );
    expect(
        "config: a minibatch of no rows",
        rl_ppo::PpoConfig::from_toml("[ppo]\nbatch_size = 0").unwrap_err(),
        &["PPO config", "batch_size"],
    );
    expect(
        "config: gSDE for discrete actions",
        rl_ppo::Ppo::new(
            rl_ppo::PpoConfig {
                use_sde: true,
                ..Default::default()
            },
            4,
            ActionSpec::Discrete { n: 2 },
            &Device::Cpu,
            0,
        )
        .unwrap_err(),
        &["use_sde", "continuous actions"],
    );
    expect(
        "config: gSDE with SAC v1",
        rl_sac::SacConfig::from_toml("[sac]\nvariant = \"v1\"\nent_coef = 0.2\nuse_sde = true")
            .unwrap_err(),
        &["use_sde", "SAC v2"],
    );
    let dir = tempfile::tempdir().unwrap();
    let mut o = sac_options(&dir.path().join("w"), 10);
    o.sets.push("batch_size=\"256\"".into());
    expect(
        "--set with a value of the wrong type",
        train(&o, &Device::Cpu).unwrap_err(),
        &["SAC config: batch_size: invalid type", "expected usize"],
    );
    let mut o = sac_options(&dir.path().join("a"), 10);
    o.sets.push("run.eval_freqq=5".into());
    expect(
        "--set with an unknown run key",
        train(&o, &Device::Cpu).unwrap_err(),
        &["eval_freqq"],
    );
    let mut o = sac_options(&dir.path().join("b"), 10);
    o.sets.push("learning_rate".into());
    expect(
        "--set without a value",
        train(&o, &Device::Cpu).unwrap_err(),
        &["learning_rate"],
    );
}

#[test]
fn checkpoints_that_do_not_fit() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    train(&sac_options(&run, 150), &Device::Cpu).unwrap();
    let ckpt = rl_nn::checkpoint::CheckpointDir::new(run.join("checkpoints"))
        .latest()
        .unwrap()
        .unwrap();
    let model = std::fs::read_dir(&ckpt)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|e| e == "safetensors"))
        .unwrap();
    let original = std::fs::read(&model).unwrap();

    std::fs::write(&model, &original[..original.len() / 3]).unwrap();
    expect(
        "checkpoint: truncated tensor file",
        evaluate_run(&run, 1, &Device::Cpu).unwrap_err(),
        &["safetensors", "corrupt"],
    );
    // Without the manifest the loaders themselves still refuse a truncated file.
    let manifest = std::fs::read(ckpt.join("MANIFEST.json")).unwrap();
    std::fs::remove_file(ckpt.join("MANIFEST.json")).unwrap();
    expect(
        "checkpoint: truncated tensor file, no manifest",
        evaluate_run(&run, 1, &Device::Cpu).unwrap_err(),
        &["safetensors"],
    );
    std::fs::write(ckpt.join("MANIFEST.json"), manifest).unwrap();
    for at in [10, original.len() - 5] {
        // One flipped bit, in the header and in the weights.
        let mut flipped = original.clone();
        flipped[at] ^= 0x10;
        std::fs::write(&model, &flipped).unwrap();
        expect(
            &format!("checkpoint: one bit flipped at byte {at}"),
            evaluate_run(&run, 1, &Device::Cpu).unwrap_err(),
            &["corrupt", "safetensors"],
        );
    }
    std::fs::write(&model, &original).unwrap();

    // Another network shape: the run's config says 32-32 now.
    let config = std::fs::read_to_string(run.join("config.toml")).unwrap();
    std::fs::write(
        run.join("config.toml"),
        config.replace("net_arch = [16, 16]", "net_arch = [32, 32]"),
    )
    .unwrap();
    expect(
        "checkpoint: another network shape",
        evaluate_run(&run, 1, &Device::Cpu).unwrap_err(),
        &["16", "32"],
    );
    std::fs::write(run.join("config.toml"), &config).unwrap();

    // Another algorithm's checkpoint.
    let a2c = dir.path().join("a2c");
    train(
        &TrainOptions {
            algo: "a2c".into(),
            steps: Some(200),
            out: Some(a2c.clone()),
            sets: vec!["run.eval_episodes=1".into()],
            ..TrainOptions::default()
        },
        &Device::Cpu,
    )
    .unwrap();
    let a2c_ckpt = rl_nn::checkpoint::CheckpointDir::new(a2c.join("checkpoints"))
        .latest()
        .unwrap()
        .unwrap();
    let mut agent = rl_sac::Sac::new(
        rl_sac::SacConfig::default(),
        4,
        ActionSpec::Discrete { n: 2 },
        &Device::Cpu,
        0,
    )
    .unwrap();
    expect(
        "checkpoint: from another algorithm",
        agent.load_into(&a2c_ckpt).unwrap_err(),
        &["written by A2C, not SAC"],
    );
    let resume = TrainOptions {
        algo: "acer".into(),
        resume: Some(a2c.clone()),
        ..TrainOptions::default()
    };
    expect(
        "--resume a run of another algorithm",
        train(&resume, &Device::Cpu).unwrap_err(),
        &["a2c", "acer"],
    );

    std::fs::write(run.join("checkpoints/LATEST"), "step-999\n").unwrap();
    std::fs::remove_dir_all(&ckpt).unwrap();
    expect(
        "checkpoint: LATEST names a missing folder (no other checkpoint)",
        evaluate_run(&run, 1, &Device::Cpu).unwrap_err(),
        &["missing"],
    );
}

#[test]
fn unknown_names_and_existing_folders() {
    let dir = tempfile::tempdir().unwrap();
    expect(
        "unknown environment id",
        make("CartPole-v0").err().unwrap(),
        &["CartPole-v0", "CartPole-v1"],
    );
    let o = TrainOptions {
        algo: "trpo".into(),
        ..sac_options(&dir.path().join("x"), 10)
    };
    expect(
        "unknown algorithm",
        train(&o, &Device::Cpu).unwrap_err(),
        &["trpo", "sac, a2c, acer, ppo"],
    );
    let o = TrainOptions {
        preset: Some("Pendulum-v9".into()),
        ..sac_options(&dir.path().join("y"), 10)
    };
    expect(
        "unknown preset",
        train(&o, &Device::Cpu).unwrap_err(),
        &["Pendulum-v9", "Pendulum-v1"],
    );
    expect(
        "unknown device",
        rl_runner::parse_device("tpu").unwrap_err(),
        &["tpu"],
    );
    if !cfg!(feature = "cuda") {
        expect(
            "cuda asked of a build without the cuda feature",
            rl_runner::parse_device("cuda").unwrap_err(),
            &["no cuda support", "`cuda` feature"],
        );
    }

    let out = dir.path().join("run");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    expect(
        "run folder that already exists",
        train(&sac_options(&out, 10), &Device::Cpu).unwrap_err(),
        &["already exists"],
    );
    assert_eq!(
        std::fs::read_to_string(out.join("notes.txt")).unwrap(),
        "mine"
    );

    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::write(
        empty.join("config.toml"),
        "[run]\nalgo = \"sac\"\nenv = \"Pendulum-v1\"\n",
    )
    .unwrap();
    let resume = TrainOptions {
        algo: "sac".into(),
        resume: Some(empty),
        ..TrainOptions::default()
    };
    expect(
        "--resume a folder without checkpoints",
        train(&resume, &Device::Cpu).unwrap_err(),
        &["no checkpoint"],
    );
    expect(
        "--resume a folder that is no run",
        train(
            &TrainOptions {
                algo: "sac".into(),
                resume: Some(dir.path().join("nowhere")),
                ..TrainOptions::default()
            },
            &Device::Cpu,
        )
        .unwrap_err(),
        &["config.toml"],
    );
}

#[test]
fn users_environments_that_break_the_contract() {
    let faulty = |what: &'static str| Faulty {
        what,
        obs: [0.0; 3],
        obs_space: Space::Box(BoxSpace::uniform(-1.0, 1.0, 3).unwrap()),
        action_space: Space::Box(BoxSpace::uniform(-1.0, 1.0, 1).unwrap()),
        t: 0,
    };
    rl_envs::register(rl_envs::EnvSpec::new("Faulty-v0"), move || {
        Ok(faulty("observation"))
    })
    .unwrap();
    expect(
        "registering an id that is already registered",
        rl_envs::register(rl_envs::EnvSpec::new("Faulty-v0"), move || {
            Ok(faulty("reward"))
        })
        .unwrap_err(),
        &["Faulty-v0", "already registered"],
    );
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let o = TrainOptions {
        env: Some("Faulty-v0".into()),
        ..sac_options(&out, 100)
    };
    expect(
        "training a registered env whose observations turn NaN",
        train(&o, &Device::Cpu).unwrap_err(),
        &["check_env(Faulty-v0)", "step 6", "NaN"],
    );
    assert!(!out.exists(), "a failed start left a run folder");
}

/// An env whose copies after the first (the one `check_env` inspects) fail at their first step,
/// as an env whose simulator or remote end breaks at once would.
struct BreaksAtOnce {
    broken: bool,
    space: Space,
}

impl Env for BreaksAtOnce {
    fn id(&self) -> &str {
        "BreaksAtOnce-v0"
    }
    fn observation_space(&self) -> &Space {
        &self.space
    }
    fn action_space(&self) -> &Space {
        &self.space
    }
    fn reset(&mut self, _seed: Option<u64>) -> Result<&[f32], EnvError> {
        Ok(&[0.0])
    }
    fn step(&mut self, action: Action<'_>) -> Result<Step<'_>, EnvError> {
        action.expect_continuous("BreaksAtOnce-v0", 1)?;
        if self.broken {
            return Err(EnvError::Backend {
                env: "BreaksAtOnce-v0".into(),
                message: "the simulator went away".into(),
            });
        }
        Ok(Step {
            observation: &[0.0],
            reward: 0.0,
            terminated: false,
            truncated: false,
        })
    }
}

#[test]
fn a_run_that_fails_before_its_first_step_leaves_nothing_behind() {
    static MADE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    rl_envs::register(rl_envs::EnvSpec::new("BreaksAtOnce-v0"), || {
        let n = MADE.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(BreaksAtOnce {
            broken: n > 0,
            space: Space::Box(BoxSpace::uniform(-1.0, 1.0, 1).unwrap()),
        })
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let o = TrainOptions {
        env: Some("BreaksAtOnce-v0".into()),
        ..sac_options(&out, 100)
    };
    expect(
        "training an env that breaks at its first step",
        train(&o, &Device::Cpu).unwrap_err(),
        &["BreaksAtOnce-v0", "the simulator went away"],
    );
    assert!(
        !out.exists(),
        "a run that failed before its first step left its folder"
    );
    // A folder the user made beforehand stays.
    std::fs::create_dir(&out).unwrap();
    assert!(train(&o, &Device::Cpu).is_err());
    assert!(out.is_dir(), "the user's own folder was removed");
}

/// A finished short SAC run in `dir/name` (a checkpoint at its end), and its checkpoint folder.
fn finished_run(dir: &Path, name: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let run = dir.join(name);
    train(&sac_options(&run, 150), &Device::Cpu).unwrap();
    let ckpt = rl_nn::checkpoint::CheckpointDir::new(run.join("checkpoints"))
        .latest()
        .unwrap()
        .unwrap();
    (run, ckpt)
}

fn resume(run: &Path, steps: u64) -> TrainOptions {
    TrainOptions {
        algo: "sac".into(),
        resume: Some(run.to_path_buf()),
        steps: Some(steps),
        ..TrainOptions::default()
    }
}

#[cfg(unix)]
fn mkfifo(path: &Path) {
    let ok = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(ok.success());
}

#[test]
fn two_writers_cannot_share_a_run_folder() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let first = {
        let (run, stop) = (run.clone(), stop.clone());
        std::thread::spawn(move || {
            let o = TrainOptions {
                stop: Some(stop),
                ..sac_options(&run, 1_000_000)
            };
            train(&o, &Device::Cpu).map_err(|e| e.to_string())
        })
    };
    while !run.join("config.toml").exists() {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let pid = std::process::id().to_string();
    let mut second = sac_options(&run, 100);
    second.out = Some(run.clone());
    let err = train(&second, &Device::Cpu).unwrap_err();
    // The folder is not empty (config.toml): a new run is refused before it tries the lock.
    assert!(err.to_string().contains("already exists"), "{err}");
    expect(
        "--resume a run another process is training",
        train(&resume(&run, 200), &Device::Cpu).unwrap_err(),
        &["in use by process", &pid],
    );
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let s = first.join().unwrap().unwrap();
    assert!(s.interrupted);
    // Once the first process is done, the folder can be resumed.
    train(&resume(&run, s.env_steps + 10), &Device::Cpu).unwrap();
}

#[cfg(unix)]
#[test]
fn links_out_of_the_run_folder_are_refused() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let (run, ckpt) = finished_run(dir.path(), "run");
    let (other, other_ckpt) = finished_run(dir.path(), "other");
    let latest = run.join("checkpoints/LATEST");
    let original = std::fs::read(&latest).unwrap();

    std::fs::remove_file(&latest).unwrap();
    symlink("/etc/passwd", &latest).unwrap();
    let err = evaluate_run(&run, 1, &Device::Cpu).unwrap_err().to_string();
    expect(
        "checkpoints/LATEST is a link to /etc/passwd",
        &err,
        &["symbolic link"],
    );
    assert!(!err.contains("root:"), "the message shows the file: {err}");
    std::fs::remove_file(&latest).unwrap();

    std::fs::write(&latest, "/etc/passwd\n").unwrap();
    let err = evaluate_run(&run, 1, &Device::Cpu).unwrap_err().to_string();
    expect(
        "checkpoints/LATEST names a path outside the run",
        &err,
        &["does not name a checkpoint folder"],
    );
    assert!(!err.contains("passwd"), "the message repeats LATEST: {err}");
    std::fs::write(&latest, &original).unwrap();

    // The step folder LATEST names is a link to another run's checkpoint.
    let moved = dir.path().join("moved");
    std::fs::rename(&ckpt, &moved).unwrap();
    symlink(&other_ckpt, &ckpt).unwrap();
    expect(
        "a checkpoint folder that is a link to another run's",
        evaluate_run(&run, 1, &Device::Cpu).unwrap_err(),
        &["symbolic link"],
    );
    std::fs::remove_file(&ckpt).unwrap();
    std::fs::rename(&moved, &ckpt).unwrap();

    // checkpoints/ itself links to the other run's: resuming must neither load nor prune it.
    let own = run.join("checkpoints");
    std::fs::rename(&own, dir.path().join("own")).unwrap();
    symlink(other.join("checkpoints"), &own).unwrap();
    expect(
        "--resume with checkpoints/ a link to another run's",
        train(&resume(&run, 300), &Device::Cpu).unwrap_err(),
        &["symbolic link"],
    );
    assert!(
        other_ckpt.is_dir(),
        "the other run's checkpoint was touched"
    );
    std::fs::remove_file(&own).unwrap();
    std::fs::rename(dir.path().join("own"), &own).unwrap();

    // A metrics file linked out of the run: resuming would rewrite it.
    let outside = dir.path().join("outside.csv");
    std::fs::write(&outside, "mine\n").unwrap();
    let train_csv = run.join("metrics/train.csv");
    std::fs::remove_file(&train_csv).unwrap();
    symlink(&outside, &train_csv).unwrap();
    expect(
        "--resume with metrics/train.csv a link out of the run",
        train(&resume(&run, 300), &Device::Cpu).unwrap_err(),
        &["symbolic link"],
    );
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "mine\n");
}

#[cfg(unix)]
#[test]
fn unbounded_or_special_files_and_sizes_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (run, ckpt) = finished_run(dir.path(), "run");
    // A FIFO where a file should be would hang a reader; /dev/zero would never end.
    for (what, path) in [
        ("checkpoints/LATEST", run.join("checkpoints/LATEST")),
        ("run.json", ckpt.join("run.json")),
        ("MANIFEST.json", ckpt.join("MANIFEST.json")),
        ("config.toml", run.join("config.toml")),
    ] {
        let saved = std::fs::read(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        mkfifo(&path);
        expect(
            &format!("{what} replaced by a FIFO"),
            evaluate_run(&run, 1, &Device::Cpu).unwrap_err(),
            &["not a regular file"],
        );
        std::fs::remove_file(&path).unwrap();
        std::fs::write(&path, saved).unwrap();
    }
    let o = TrainOptions {
        config: Some("/dev/zero".into()),
        ..sac_options(&dir.path().join("zero"), 10)
    };
    expect(
        "--config /dev/zero",
        train(&o, &Device::Cpu).unwrap_err(),
        &["/dev/zero", "not a regular file"],
    );
    let big = dir.path().join("big.toml");
    std::fs::write(&big, vec![b'#'; 2 << 20]).unwrap();
    let o = TrainOptions {
        config: Some(big),
        ..sac_options(&dir.path().join("big"), 10)
    };
    expect(
        "--config of 2 MiB",
        train(&o, &Device::Cpu).unwrap_err(),
        &["more than"],
    );

    let mut o = sac_options(&dir.path().join("huge"), 10);
    o.sets.push("batch_size=100000000".into());
    o.sets.push("buffer_size=100000000".into());
    expect(
        "--set batch_size=100000000 (memory)",
        train(&o, &Device::Cpu).unwrap_err(),
        &["batch_size 100000000", "GiB"],
    );
    let mut o = sac_options(&dir.path().join("buffer"), 10);
    o.sets.push("buffer_size=1000000000000".into());
    expect(
        "--set buffer_size=10^12 (memory)",
        train(&o, &Device::Cpu).unwrap_err(),
        &["replay buffer", "buffer_size"],
    );
    expect(
        "eval --episodes 2305843009213693952",
        evaluate_run(&run, 2_305_843_009_213_693_952, &Device::Cpu).unwrap_err(),
        &["episodes must be in 1..=100000"],
    );
    let mut o = sac_options(&dir.path().join("episodes"), 10);
    o.sets.push("run.eval_episodes=2305843009213693952".into());
    expect(
        "run.eval_episodes = 2305843009213693952",
        train(&o, &Device::Cpu).unwrap_err(),
        &["eval_episodes must be in 1..=100000"],
    );
}

/// Rewrites the JSON file `path` with `edit` and removes the checkpoint's manifest, as someone
/// re-signing or deleting it would, so the loaders see the edited values.
fn edit_json(path: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    edit(&mut json);
    std::fs::write(path, serde_json::to_string(&json).unwrap()).unwrap();
    let _ = std::fs::remove_file(path.parent().unwrap().join("MANIFEST.json"));
}

#[test]
fn checkpoint_values_are_validated_not_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let (run, ckpt) = finished_run(dir.path(), "run");
    let state = ckpt.join("sac.json");
    let saved = std::fs::read(&state).unwrap();
    let manifest = std::fs::read(ckpt.join("MANIFEST.json")).unwrap();
    for (what, key, value, needles) in [
        (
            "batch_size = 0 in a SAC checkpoint",
            "batch_size",
            serde_json::json!(0),
            &["batch_size"][..],
        ),
        (
            "gamma = -5 in a SAC checkpoint",
            "gamma",
            serde_json::json!(-5.0),
            &["gamma"][..],
        ),
        (
            "learning_rate changed in a SAC checkpoint",
            "learning_rate",
            serde_json::json!(0.5),
            &["learning_rate", "0.5"][..],
        ),
    ] {
        edit_json(&state, |j| j["config"][key] = value);
        expect(
            what,
            evaluate_run(&run, 1, &Device::Cpu).unwrap_err(),
            needles,
        );
        std::fs::write(&state, &saved).unwrap();
        std::fs::write(ckpt.join("MANIFEST.json"), &manifest).unwrap();
    }

    for algo in ["a2c", "acer"] {
        let run = dir.path().join(algo);
        let o = TrainOptions {
            algo: algo.into(),
            steps: Some(400),
            out: Some(run.clone()),
            sets: vec!["run.eval_episodes=1".into(), "n_envs=2".into()],
            ..TrainOptions::default()
        };
        train(&o, &Device::Cpu).unwrap();
        let ckpt = rl_nn::checkpoint::CheckpointDir::new(run.join("checkpoints"))
            .latest()
            .unwrap()
            .unwrap();
        edit_json(&ckpt.join("trainer.json"), |j| {
            j["counters"]["returns"] = serde_json::json!([]);
        });
        let resumed = TrainOptions {
            algo: algo.into(),
            resume: Some(run.clone()),
            steps: Some(800),
            ..TrainOptions::default()
        };
        expect(
            &format!(
                "empty episode counters in an {} trainer file",
                algo.to_uppercase()
            ),
            train(&resumed, &Device::Cpu).unwrap_err(),
            &["episode counters for 0 envs"],
        );
    }
}

#[test]
fn resumed_runs_keep_their_configuration_and_say_what_they_ignore() {
    let dir = tempfile::tempdir().unwrap();
    let (run, _) = finished_run(dir.path(), "run");
    for (flag, o) in [
        (
            "--out",
            TrainOptions {
                out: Some(dir.path().join("x")),
                ..resume(&run, 300)
            },
        ),
        (
            "--save-buffer",
            TrainOptions {
                save_buffer: true,
                ..resume(&run, 300)
            },
        ),
        (
            "--preset",
            TrainOptions {
                preset: Some("Pendulum-v1".into()),
                ..resume(&run, 300)
            },
        ),
    ] {
        expect(
            &format!("{flag} with --resume"),
            train(&o, &Device::Cpu).unwrap_err(),
            &[flag, "--resume"],
        );
    }
    let config_path = run.join("config.toml");
    let config = std::fs::read_to_string(&config_path).unwrap();
    for (what, from, to, needles) in [
        (
            "config.toml edited before --resume: gamma",
            "gamma = 0.99",
            "gamma = 0.5",
            &["gamma", "0.5"][..],
        ),
        (
            "config.toml edited before --resume: run.eval_freq",
            "eval_freq = 2000",
            "eval_freq = 500",
            &["run.eval_freq", "500"][..],
        ),
    ] {
        assert!(config.contains(from), "{config}");
        std::fs::write(&config_path, config.replace(from, to)).unwrap();
        expect(
            what,
            train(&resume(&run, 300), &Device::Cpu).unwrap_err(),
            needles,
        );
        std::fs::write(&config_path, &config).unwrap();
    }
    // The budget may change.
    let s = train(&resume(&run, 300), &Device::Cpu).unwrap();
    assert_eq!(s.env_steps, 300);

    let mut o = sac_options(&dir.path().join("small-buffer"), 10);
    o.sets.push("buffer_size=100".into());
    o.sets.push("batch_size=256".into());
    expect(
        "buffer_size smaller than batch_size",
        train(&o, &Device::Cpu).unwrap_err(),
        &["buffer_size (100) is smaller than batch_size (256)"],
    );
}

#[test]
fn a_resume_in_the_same_second_keeps_the_earlier_event_file() {
    let dir = tempfile::tempdir().unwrap();
    let a = rl_runner::tensorboard::EventWriter::create(dir.path()).unwrap();
    let b = rl_runner::tensorboard::EventWriter::create(dir.path()).unwrap();
    assert_ne!(a.path(), b.path());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
}
