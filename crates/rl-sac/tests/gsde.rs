//! SAC with generalized state-dependent exploration (gSDE; Raffin et al. 2021): one exploration
//! matrix makes the policy a smooth function of the state, `reset_noise` draws the next, runs
//! are reproducible and resume bit for bit (the matrix in use is part of the checkpoint), and the
//! combinations gSDE does not define are refused by name. The update itself is checked against
//! PyTorch in `tests/golden.rs`.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

use candle_core::Device;
use rl_buffer::ActionSpec;
use rl_envs::{OwnedAction, make};
use rl_sac::config::{EntCoef, Variant};
use rl_sac::{Sac, SacConfig, SacTrainer, UpdateMetrics};

fn sde() -> SacConfig {
    SacConfig {
        use_sde: true,
        log_std_init: -1.0,
        net_arch: vec![32, 32],
        batch_size: 64,
        learning_starts: 0,
        train_freq: 16,
        gradient_steps: 4,
        ent_coef: EntCoef::Fixed(0.1),
        ..SacConfig::default()
    }
}

fn action(a: OwnedAction) -> Vec<f32> {
    match a {
        OwnedAction::Continuous(v) => v,
        other => panic!("expected a continuous action, got {other:?}"),
    }
}

#[test]
fn one_exploration_matrix_makes_the_policy_a_function_of_the_state() {
    let mut sac = Sac::new(sde(), 3, ActionSpec::Continuous { dim: 2 }, &Device::Cpu, 0).unwrap();
    let (s, other) = ([0.3f32, -0.2, 0.9], [-0.7f32, 0.1, 0.4]);
    let first = action(sac.act(&s, false).unwrap());
    // The same state, the same matrix: the same action (unlike SAC's independent Gaussian noise).
    assert_eq!(action(sac.act(&s, false).unwrap()), first);
    assert_ne!(action(sac.act(&other, false).unwrap()), first);
    // A new matrix: a new action for the same state.
    sac.reset_noise().unwrap();
    let second = action(sac.act(&s, false).unwrap());
    assert_ne!(second, first);
    assert_eq!(action(sac.act(&s, false).unwrap()), second);
    // Deterministic: tanh of the (clipped) mean, whatever the matrix.
    let greedy = action(sac.act(&s, true).unwrap());
    sac.reset_noise().unwrap();
    assert_eq!(action(sac.act(&s, true).unwrap()), greedy);
    assert!(first.iter().chain(&second).all(|a| a.abs() < 1.0));
}

fn trainer(seed: u64) -> SacTrainer<rl_envs::BoxedEnv> {
    let env = make("MountainCarContinuous-v0").unwrap();
    let config = SacConfig {
        sde_sample_freq: 5,
        ..sde()
    };
    let agent = Sac::for_env(config, &env, &Device::Cpu, seed).unwrap();
    SacTrainer::new(agent, env, seed).unwrap()
}

fn run(trainer: &mut SacTrainer<rl_envs::BoxedEnv>, steps: usize) -> Vec<UpdateMetrics> {
    (0..steps)
        .flat_map(|_| trainer.step().unwrap().updates)
        .collect()
}

#[test]
fn a_gsde_run_is_reproducible_and_resumes_bit_for_bit_inside_a_phase() {
    let a = run(&mut trainer(3), 200);
    assert_eq!(a.len(), 4 * (200 / 16));
    assert_eq!(a, run(&mut trainer(3), 200));
    assert_ne!(a, run(&mut trainer(4), 200));

    // Saved 7 steps into a phase: the exploration matrix in use travels with the checkpoint.
    let dir = tempfile::tempdir().unwrap();
    let (mut straight, mut first) = (trainer(5), trainer(5));
    run(&mut straight, 167);
    run(&mut first, 167);
    first.save(dir.path(), true).unwrap();
    let mut resumed = trainer(99);
    assert!(resumed.load(dir.path()).unwrap().exact());
    let obs = [-0.5f32, 0.01];
    assert_eq!(
        straight.agent_mut().act(&obs, false).unwrap(),
        resumed.agent_mut().act(&obs, false).unwrap()
    );
    assert_eq!(run(&mut straight, 120), run(&mut resumed, 120));
}

#[test]
fn gsde_without_continuous_actions_or_with_sac_v1_is_refused() {
    let err = Sac::for_env(sde(), &make("CartPole-v1").unwrap(), &Device::Cpu, 0).unwrap_err();
    assert!(
        err.to_string().contains("needs continuous actions"),
        "{err}"
    );
    let v1 = SacConfig {
        variant: Variant::V1,
        ..sde()
    };
    let err = v1.validate().unwrap_err();
    assert!(err.to_string().contains("use_sde"), "{err}");
    let err = SacConfig::from_toml("[sac]\nuse_sde = true\nclip_mean = -1.0").unwrap_err();
    assert!(err.to_string().contains("clip_mean"), "{err}");
}

/// The first `n` actions the trainer stored.
fn stored_actions(trainer: &SacTrainer<rl_envs::BoxedEnv>, n: usize) -> Vec<f32> {
    let idx: Vec<usize> = (0..n).collect();
    let batch = trainer.buffer().gather(&idx, &Device::Cpu).unwrap();
    batch.actions.flatten_all().unwrap().to_vec1().unwrap()
}

fn mean_step(a: &[f32]) -> f32 {
    a.windows(2).map(|w| (w[1] - w[0]).abs()).sum::<f32>() / (a.len() - 1) as f32
}

/// Before `learning_starts` the trainer explores uniformly, or with gSDE's smooth noise when
/// `use_sde_at_warmup`: one matrix for a phase makes neighbouring actions close, where uniform
/// draws jump by about 2/3 on average.
#[test]
fn use_sde_at_warmup_explores_smoothly_before_learning_starts() {
    let make_trainer = |at_warmup: bool| {
        let env = make("MountainCarContinuous-v0").unwrap();
        let config = SacConfig {
            learning_starts: 1_000,
            use_sde_at_warmup: at_warmup,
            ..sde()
        };
        let agent = Sac::for_env(config, &env, &Device::Cpu, 1).unwrap();
        let mut trainer = SacTrainer::new(agent, env, 1).unwrap();
        assert!(
            run(&mut trainer, 16).is_empty(),
            "no updates during warm-up"
        );
        stored_actions(&trainer, 16)
    };
    let (smooth, uniform) = (make_trainer(true), make_trainer(false));
    assert!(mean_step(&smooth) < 0.05, "{smooth:?}");
    assert!(mean_step(&uniform) > 0.3, "{uniform:?}");
}

/// With no hidden layer the noise is built on the observation itself (SB3's identity
/// `latent_pi`): the log-std is `[obs_dim, act_dim]` and training runs.
#[test]
fn gsde_without_hidden_layers_builds_its_noise_on_the_observation() {
    let env = make("MountainCarContinuous-v0").unwrap();
    let config = SacConfig {
        net_arch: vec![],
        ..sde()
    };
    let agent = Sac::for_env(config, &env, &Device::Cpu, 2).unwrap();
    let (actor, _, _) = agent.params();
    assert_eq!(actor.get("actor.log_std").unwrap().dims(), [2, 1]);
    let mut trainer = SacTrainer::new(agent, env, 2).unwrap();
    let updates = run(&mut trainer, 64);
    assert_eq!(updates.len(), 4 * 4);
    assert!(updates.iter().all(|m| m.actor_loss.is_finite()));
}
