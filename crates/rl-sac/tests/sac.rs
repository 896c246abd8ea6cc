//! SAC's behaviour: each loss moves the right way, α tracks the target entropy, the probes are
//! solved, runs are bit-reproducible and resumable, and bad input stops training with a named error.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

use candle_core::{DType, Device, Tensor};
use rl_buffer::{ActionSpec, ReplayBuffer, Transition};
use rl_envs::probe::{Probe, ProbeEnv};
use rl_envs::{Action, BoxSpace, Env, EnvError, Space, Step, make};
use rl_math::SeededRng;
use rl_math::optim::LrSchedule;
use rl_sac::config::EntCoef;
use rl_sac::losses::{actor_loss, critic_loss, soft_td_target, temperature_loss};
use rl_sac::networks::critic_input;
use rl_sac::{Sac, SacConfig, SacError, SacTrainer, UpdateMetrics};

const ONE: ActionSpec = ActionSpec::Continuous { dim: 1 };

/// The vector of a continuous action.
fn vector(a: rl_envs::OwnedAction) -> Vec<f32> {
    match a {
        rl_envs::OwnedAction::Continuous(v) => v,
        other => panic!("expected a continuous action, got {other:?}"),
    }
}

fn small(config: SacConfig) -> SacConfig {
    SacConfig {
        net_arch: vec![32, 32],
        batch_size: 64,
        learning_starts: 100,
        learning_rate: 1e-3,
        ..config
    }
}

fn scalar(t: &Tensor) -> f64 {
    f64::from(t.to_scalar::<f32>().unwrap())
}

/// A batch of 64 random Pendulum-shaped transitions.
fn fixed_batch() -> rl_buffer::ReplayBatch {
    let mut buf = ReplayBuffer::new(64, 3, ActionSpec::Continuous { dim: 1 }).unwrap();
    let mut rng = SeededRng::new(9);
    for _ in 0..64 {
        let obs = rng.normal_vec(3);
        let next = rng.normal_vec(3);
        let a = rng.normal_vec(1)[0].tanh();
        buf.push(Transition {
            obs: &obs,
            action: &[a],
            reward: f64::from(obs[0]),
            next_obs: &next,
            terminated: false,
            truncated: false,
        })
        .unwrap();
    }
    buf.gather(&(0..64).collect::<Vec<_>>(), &Device::Cpu)
        .unwrap()
}

#[test]
fn one_update_lowers_the_critic_and_actor_losses_on_its_batch() {
    // γ = 0 makes the soft TD target exactly the reward, so the critic loss can be recomputed.
    let config = small(SacConfig {
        ent_coef: EntCoef::Fixed(0.1),
        gamma: 0.0,
        learning_rate: 3e-4,
        ..SacConfig::default()
    });
    let mut sac = Sac::new(config, 3, ONE, &Device::Cpu, 0).unwrap();
    let batch = fixed_batch();
    let y = batch.rewards.clone();
    let eps = SeededRng::new(1)
        .normal(&[64, 1], DType::F32, &Device::Cpu)
        .unwrap();

    let q = |sac: &Sac, a: &Tensor| {
        let x = critic_input(&batch.obs, a).unwrap();
        let c = sac.critics();
        (
            c.forward(0, &x).unwrap().squeeze(1).unwrap(),
            c.forward(1, &x).unwrap().squeeze(1).unwrap(),
        )
    };
    let jq = |sac: &Sac| {
        let (q1, q2) = q(sac, &batch.actions);
        scalar(&critic_loss(&q1, &q2, &y).unwrap())
    };
    let jpi = |sac: &Sac| {
        let (a, logp) = sac
            .actor()
            .unwrap()
            .dist(&batch.obs)
            .unwrap()
            .rsample(&eps)
            .unwrap();
        let (q1, q2) = q(sac, &a);
        scalar(&actor_loss(&logp, &q1, &q2, 0.1).unwrap())
    };
    let critic_before = jq(&sac);
    let actor_before_params = sac.params().0.named_tensors("").unwrap();
    sac.update(&batch).unwrap();
    assert!(jq(&sac) < critic_before, "critic loss did not fall");
    // The actor was stepped against the updated critic: compare it with the old actor there.
    let actor_after = jpi(&sac);
    let after_params = sac.params().0.named_tensors("").unwrap();
    sac.params()
        .0
        .load_named("", &actor_before_params.into_iter().collect())
        .unwrap();
    let actor_before = jpi(&sac);
    sac.params()
        .0
        .load_named("", &after_params.into_iter().collect())
        .unwrap();
    assert!(
        actor_after < actor_before,
        "actor loss did not fall: {actor_after} vs {actor_before}"
    );
}

#[test]
fn alpha_moves_toward_the_target_entropy() {
    let batch = fixed_batch();
    // A fresh policy (log σ ≈ 0) is far more random than H̄ = −dim(A) = −1: α must fall.
    let mut sac = Sac::new(small(SacConfig::default()), 3, ONE, &Device::Cpu, 0).unwrap();
    let m: UpdateMetrics = sac.update(&batch).unwrap();
    assert_eq!(m.ent_coef, 1.0, "the step uses α before its own update");
    assert!(m.entropy > sac.target_entropy());
    assert!(sac.alpha().unwrap() < 1.0);
    // Ask for more entropy than it has: α must rise.
    let config = small(SacConfig {
        target_entropy: rl_sac::config::TargetEntropy::Value(5.0),
        ..SacConfig::default()
    });
    let mut sac = Sac::new(config, 3, ONE, &Device::Cpu, 0).unwrap();
    sac.update(&batch).unwrap();
    assert!(sac.alpha().unwrap() > 1.0);
    // Fixed α stays.
    let mut fixed = Sac::new(
        small(SacConfig {
            ent_coef: EntCoef::Fixed(0.2),
            ..SacConfig::default()
        }),
        3,
        ONE,
        &Device::Cpu,
        0,
    )
    .unwrap();
    let m = fixed.update(&batch).unwrap();
    assert_eq!(
        (m.ent_coef, m.ent_coef_loss, fixed.alpha().unwrap()),
        (0.2, None, 0.2)
    );
}

/// The discount of a probe's run: 0.5 on the discounting probe, where `V(0) = γ` must then come
/// out as 0.5, far from the 1.0 of a learner that ignores γ and the 0.25 of one that applies it
/// twice (with γ = 0.99 all three lie within the tolerance); the learner's default elsewhere.
fn probe_gamma(probe: Probe, default: f64) -> f64 {
    if probe == Probe::DiscountedTwoStep {
        0.5
    } else {
        default
    }
}

/// Trains on a continuous probe and returns the trainer.
fn train_probe(probe: Probe, steps: usize) -> SacTrainer<ProbeEnv> {
    let env = ProbeEnv::new(probe, true);
    let config = small(SacConfig {
        ent_coef: EntCoef::Fixed(0.01),
        gamma: probe_gamma(probe, SacConfig::default().gamma),
        ..SacConfig::default()
    });
    let agent = Sac::for_env(config, &env, &Device::Cpu, 0).unwrap();
    let mut trainer = SacTrainer::new(agent, env, 0).unwrap();
    for _ in 0..steps {
        trainer.step().unwrap();
    }
    trainer
}

/// `(deterministic action, Q1 there)` for observation `s`.
fn policy_and_value(trainer: &mut SacTrainer<ProbeEnv>, s: f32) -> (f32, f64) {
    let a = vector(trainer.agent_mut().act(&[s], true).unwrap())[0];
    let obs = Tensor::new(&[[s]], &Device::Cpu).unwrap();
    let act = Tensor::new(&[[a]], &Device::Cpu).unwrap();
    let q1 = trainer
        .agent()
        .critics()
        .forward(0, &critic_input(&obs, &act).unwrap())
        .unwrap();
    (
        a,
        f64::from(q1.flatten_all().unwrap().to_vec1::<f32>().unwrap()[0]),
    )
}

#[test]
fn sac_solves_every_continuous_probe() {
    for probe in Probe::ALL {
        let gamma = probe_gamma(probe, SacConfig::default().gamma);
        let mut trainer = train_probe(probe, 1200);
        let reference = ProbeEnv::new(probe, true);
        let observations: &[f32] = match probe {
            Probe::ObservationReward | Probe::ObservationActionReward => &[-1.0, 1.0],
            Probe::DiscountedTwoStep => &[0.0, 1.0],
            _ => &[0.0],
        };
        for &s in observations {
            let (a, q) = policy_and_value(&mut trainer, s);
            let want = reference.expected_value(&[s], gamma);
            assert!(
                (q - want).abs() < 0.1,
                "{probe:?} s={s}: Q {q:.3}, expected {want:.3}"
            );
            if let Some(rl_envs::OwnedAction::Continuous(best)) = reference.optimal_action(&[s]) {
                assert!(
                    (a - best[0]).abs() < 0.1,
                    "{probe:?} s={s}: action {a:.3}, expected {:.3}",
                    best[0]
                );
            }
        }
    }
}

fn pendulum_trainer(seed: u64) -> SacTrainer<rl_envs::BoxedEnv> {
    let env = make("Pendulum-v1").unwrap();
    let agent = Sac::for_env(small(SacConfig::default()), &env, &Device::Cpu, seed).unwrap();
    SacTrainer::new(agent, env, seed).unwrap()
}

fn run(trainer: &mut SacTrainer<rl_envs::BoxedEnv>, steps: usize) -> Vec<UpdateMetrics> {
    (0..steps)
        .flat_map(|_| trainer.step().unwrap().updates)
        .collect()
}

#[test]
fn the_same_seed_gives_bit_identical_metrics() {
    let a = run(&mut pendulum_trainer(3), 300);
    let b = run(&mut pendulum_trainer(3), 300);
    assert_eq!(a.len(), 200);
    assert_eq!(a, b);
    let c = run(&mut pendulum_trainer(4), 300);
    assert_ne!(a, c);
}

#[test]
fn a_resumed_trainer_with_its_buffer_continues_bit_for_bit() {
    let dir = tempfile::tempdir().unwrap();
    let mut straight = pendulum_trainer(5);
    let mut first = pendulum_trainer(5);
    run(&mut straight, 250);
    run(&mut first, 250);
    first.save(dir.path(), true).unwrap();
    let mut resumed = pendulum_trainer(99); // different seed: everything must come from the files
    assert!(resumed.load(dir.path()).unwrap().exact());
    assert_eq!(run(&mut straight, 200), run(&mut resumed, 200));
    assert_eq!(
        straight.agent_mut().act(&[1.0, 0.0, 0.5], true).unwrap(),
        resumed.agent_mut().act(&[1.0, 0.0, 0.5], true).unwrap()
    );
}

/// rl-baselines3-zoo's `lin_<lr>` (its LunarLanderContinuous entry): before each training phase
/// every optimizer's rate is `lr · (1 − t / total)` with `t` the environment steps taken, this one
/// included (SB3's `_update_learning_rate` after `collect_rollouts`); `"constant"` keeps `lr`, and
/// so does a trainer never told its total. A resumed run told the same total continues bit for bit.
#[test]
fn a_linear_learning_rate_falls_to_zero_over_the_run() {
    let linear = small(SacConfig {
        lr_schedule: LrSchedule::Linear,
        ..SacConfig::default()
    });
    let trainer = |config: SacConfig, total: Option<u64>| {
        let env = make("Pendulum-v1").unwrap();
        let agent = Sac::for_env(config, &env, &Device::Cpu, 7).unwrap();
        let mut t = SacTrainer::new(agent, env, 7).unwrap();
        if let Some(total) = total {
            t.set_total_timesteps(total);
        }
        t
    };
    let mut tr = trainer(linear.clone(), Some(400));
    run(&mut tr, 100);
    assert_eq!(
        tr.agent().learning_rate(),
        1e-3,
        "untouched before learning starts"
    );
    for n in 101..=400u32 {
        tr.step().unwrap();
        let expected = 1e-3 * (1.0 - f64::from(n) / 400.0);
        assert!(
            (tr.agent().learning_rate() - expected).abs() < 1e-18,
            "step {n}"
        );
    }
    tr.step().unwrap();
    assert_eq!(
        tr.agent().learning_rate(),
        0.0,
        "past the total: 0, not negative"
    );

    let mut untold = trainer(linear.clone(), None);
    run(&mut untold, 150);
    assert_eq!(untold.agent().learning_rate(), 1e-3);
    let mut constant = trainer(small(SacConfig::default()), Some(400));
    run(&mut constant, 150);
    assert_eq!(constant.agent().learning_rate(), 1e-3);

    let dir = tempfile::tempdir().unwrap();
    let mut straight = trainer(linear.clone(), Some(400));
    run(&mut straight, 200);
    straight.save(dir.path(), true).unwrap();
    let mut resumed = trainer(linear, Some(400));
    assert!(resumed.load(dir.path()).unwrap().exact());
    assert_eq!(run(&mut straight, 100), run(&mut resumed, 100));
    let err = SacConfig::from_toml("[sac]\nlr_schedule = \"cosine\"").unwrap_err();
    assert!(err.to_string().contains("lr_schedule"), "{err}");
}

#[test]
fn checkpoints_of_other_shapes_or_algorithms_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let trainer = pendulum_trainer(0);
    trainer.save(dir.path(), false).unwrap();
    let wide = SacConfig {
        net_arch: vec![64, 64],
        ..small(SacConfig::default())
    };
    let mut other = Sac::new(wide, 3, ONE, &Device::Cpu, 0).unwrap();
    let err = other.load_into(dir.path()).unwrap_err();
    assert!(err.to_string().contains("[32, 32]"), "{err}");
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("sac.json")).unwrap())
            .unwrap();
    json["algo"] = "a2c".into();
    std::fs::write(dir.path().join("sac.json"), json.to_string()).unwrap();
    let err = Sac::load(dir.path(), &Device::Cpu).unwrap_err();
    assert!(err.to_string().contains("a2c, not SAC"), "{err}");
}

/// Pendulum whose observation turns NaN, or whose reward explodes, at a given step.
struct Faulty {
    inner: rl_envs::BoxedEnv,
    t: usize,
    nan_obs_at: usize,
    huge_reward: bool,
    obs: Vec<f32>,
}

impl Env for Faulty {
    fn id(&self) -> &str {
        "Faulty"
    }
    fn observation_space(&self) -> &Space {
        self.inner.observation_space()
    }
    fn action_space(&self) -> &Space {
        self.inner.action_space()
    }
    fn reset(&mut self, seed: Option<u64>) -> Result<&[f32], EnvError> {
        self.inner.reset(seed)
    }
    fn step(&mut self, action: Action<'_>) -> Result<Step<'_>, EnvError> {
        self.t += 1;
        let s = self.inner.step(action)?;
        self.obs = s.observation.to_vec();
        if self.t == self.nan_obs_at {
            self.obs[1] = f32::NAN;
        }
        let reward = if self.huge_reward { 3e38 } else { s.reward };
        Ok(Step {
            observation: &self.obs,
            reward,
            terminated: s.terminated,
            truncated: s.truncated,
        })
    }
}

#[test]
fn nan_observations_and_diverging_losses_stop_training_with_a_named_error() {
    let faulty = |nan_obs_at, huge_reward| Faulty {
        inner: make("Pendulum-v1").unwrap(),
        t: 0,
        nan_obs_at,
        huge_reward,
        obs: vec![],
    };
    let env = faulty(7, false);
    let agent = Sac::for_env(small(SacConfig::default()), &env, &Device::Cpu, 0).unwrap();
    let mut trainer = SacTrainer::new(agent, env, 0).unwrap();
    let err = (0..10).find_map(|_| trainer.step().err()).unwrap();
    assert!(
        matches!(err, SacError::Agent(rl_nn::AgentError::NonFinite { .. })),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "observation component 1 is NaN at environment step 7"
    );

    let env = faulty(usize::MAX, true);
    let agent = Sac::for_env(small(SacConfig::default()), &env, &Device::Cpu, 0).unwrap();
    let mut trainer = SacTrainer::new(agent, env, 0).unwrap();
    let err = (0..200).find_map(|_| trainer.step().err()).unwrap();
    assert!(
        err.to_string()
            .starts_with("critic loss is inf at gradient step 1"),
        "{err}"
    );
}

#[test]
fn configs_use_sb3_names_and_refuse_unknown_keys() {
    let preset = SacConfig::preset("Pendulum-v1").unwrap();
    assert_eq!(
        preset,
        SacConfig {
            learning_rate: 1e-3,
            ..SacConfig::default()
        }
    );
    let c = SacConfig::from_toml(
        "[sac]\nent_coef = \"auto_0.1\"\ntarget_entropy = -2.0\nnet_arch = [64, 64]",
    )
    .unwrap();
    assert_eq!(
        (c.ent_coef, c.net_arch.as_slice()),
        (EntCoef::Auto { init: 0.1 }, &[64, 64][..])
    );
    assert_eq!(
        SacConfig::from_toml("[sac]\nent_coef = 0.2")
            .unwrap()
            .ent_coef,
        EntCoef::Fixed(0.2)
    );
    let err = SacConfig::from_toml("[sac]\nleaning_rate = 1e-3").unwrap_err();
    assert!(err.to_string().contains("leaning_rate"), "{err}");
    let err = SacConfig::from_toml("[sac]\ngamma = 1.5").unwrap_err();
    assert!(err.to_string().contains("gamma"), "{err}");
    let err = SacConfig::from_toml("[sac]\nent_coef = \"sometimes\"").unwrap_err();
    assert!(err.to_string().contains("ent_coef"), "{err}");
    assert!(SacConfig::preset("MountainCar-v0").is_err());
    for name in rl_sac::presets::PRESETS.names() {
        SacConfig::preset(name).unwrap();
    }
    let err = SacConfig::from_toml("[sac]\nvariant = \"v1\"").unwrap_err();
    assert!(err.to_string().contains("SAC v1 keeps α fixed"), "{err}");
}

#[test]
fn unsupported_spaces_and_combinations_are_refused() {
    let v1 = SacConfig {
        variant: rl_sac::config::Variant::V1,
        ent_coef: EntCoef::Fixed(0.1),
        ..SacConfig::default()
    };
    let err = Sac::for_env(v1, &make("CartPole-v1").unwrap(), &Device::Cpu, 0).unwrap_err();
    assert!(err.to_string().contains("continuous actions"), "{err}");
    let empty = Sac::new(SacConfig::default(), 0, ONE, &Device::Cpu, 0).unwrap_err();
    assert!(
        empty.to_string().contains("at least one component"),
        "{empty}"
    );
}

/// SAC squashes its actions into `[low, high]` with tanh, so an action space without bounds has
/// no squashing to match: the agent refuses it by name.
#[test]
fn an_unbounded_box_is_refused() {
    struct Unbounded {
        obs: Space,
        act: Space,
    }
    impl Env for Unbounded {
        fn id(&self) -> &str {
            "Unbounded-v0"
        }
        fn observation_space(&self) -> &Space {
            &self.obs
        }
        fn action_space(&self) -> &Space {
            &self.act
        }
        fn reset(&mut self, _seed: Option<u64>) -> Result<&[f32], EnvError> {
            Ok(&[0.0])
        }
        fn step(&mut self, _action: Action<'_>) -> Result<Step<'_>, EnvError> {
            unreachable!("never stepped")
        }
    }
    let env = Unbounded {
        obs: Space::Box(BoxSpace::uniform(-1.0, 1.0, 1).unwrap()),
        act: Space::Box(BoxSpace::uniform(f32::NEG_INFINITY, f32::INFINITY, 1).unwrap()),
    };
    let err = Sac::for_env(SacConfig::default(), &env, &Device::Cpu, 0).unwrap_err();
    assert!(err.to_string().contains("bounded"), "{err}");
    // A bounded box of the same width is accepted.
    let bounded = Unbounded {
        act: Space::Box(BoxSpace::uniform(-2.0, 2.0, 1).unwrap()),
        ..env
    };
    assert!(Sac::for_env(SacConfig::default(), &bounded, &Device::Cpu, 0).is_ok());
}

/// Eq. (5)'s target worked by hand: `r + γ (1 − d) (min(Q̄1, Q̄2) − α log π)`.
#[test]
fn soft_td_target_by_hand() {
    let t = |v: &[f32]| Tensor::new(v, &Device::Cpu).unwrap();
    let y = soft_td_target(
        &t(&[1.0, 2.0, -1.0]),
        &t(&[0.0, 1.0, 0.0]),
        &t(&[3.0, 5.0, -2.0]),
        &t(&[4.0, 1.0, -3.0]),
        &t(&[-1.0, 0.5, 2.0]),
        0.25,
        0.5,
    )
    .unwrap();
    // 1 + 0.5 (3 + 0.25); 2 (terminated: no bootstrap); −1 + 0.5 (−3 − 0.5).
    assert_eq!(y.to_vec1::<f32>().unwrap(), vec![2.625, 2.0, -2.75]);
}

/// Eq. (18) worked by hand: `J(α) = mean(−log α (log π + H̄))`, and its gradient with respect to
/// `log α` is `−mean(log π + H̄)`, which lowers α when the policy's entropy is above the target.
#[test]
fn temperature_loss_by_hand() {
    let log_alpha = candle_core::Var::new(&[0.5f32.ln()], &Device::Cpu).unwrap();
    let log_prob = Tensor::new(&[-1.0f32, -3.0], &Device::Cpu).unwrap();
    let loss = temperature_loss(log_alpha.as_tensor(), &log_prob, -1.0).unwrap();
    // log π + H̄ = [−2, −4], mean −3: J = 3 log 0.5.
    assert!((scalar(&loss) - 3.0 * 0.5f64.ln()).abs() < 1e-6);
    let grads = loss.backward().unwrap();
    let g = grads
        .get(log_alpha.as_tensor())
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    // Entropy −log π ≈ 2 above the target 1: the gradient is +3, so a descent step lowers α.
    assert_eq!(g, vec![3.0]);
}

/// The same 64 transitions stored as truncated, as neither, and as terminated: a truncated
/// transition bootstraps from its next observation exactly like an unfinished one, and a
/// terminated one does not, so its update differs.
#[test]
fn a_truncated_transition_bootstraps_and_a_terminated_one_does_not() {
    let batch_with = |terminated: bool, truncated: bool| {
        let mut buf = ReplayBuffer::new(64, 3, ONE).unwrap();
        let mut rng = SeededRng::new(9);
        for _ in 0..64 {
            let (obs, next) = (rng.normal_vec(3), rng.normal_vec(3));
            let a = rng.normal_vec(1)[0].tanh();
            buf.push(Transition {
                obs: &obs,
                action: &[a],
                reward: f64::from(obs[0]),
                next_obs: &next,
                terminated,
                truncated,
            })
            .unwrap();
        }
        buf.gather(&(0..64).collect::<Vec<_>>(), &Device::Cpu)
            .unwrap()
    };
    let updated = |terminated: bool, truncated: bool| {
        let mut sac = Sac::new(small(SacConfig::default()), 3, ONE, &Device::Cpu, 0).unwrap();
        let metrics = sac.update(&batch_with(terminated, truncated)).unwrap();
        (
            metrics.critic_loss,
            sac.params().0.named_tensors("").unwrap(),
        )
    };
    let flat = |named: &[(String, Tensor)]| -> Vec<f32> {
        named
            .iter()
            .flat_map(|(_, t)| t.flatten_all().unwrap().to_vec1::<f32>().unwrap())
            .collect()
    };
    let (loss_open, open) = updated(false, false);
    let (loss_truncated, truncated) = updated(false, true);
    let (loss_terminated, terminated) = updated(true, false);
    assert_eq!(loss_truncated, loss_open);
    assert_eq!(flat(&truncated), flat(&open));
    assert_ne!(loss_terminated, loss_open);
    assert_ne!(flat(&terminated), flat(&open));
}

/// Through the trainer: Pendulum's 200-step time limit truncates, and the stored transition keeps
/// the flag as truncated (not terminated) with the true last observation as `next_obs`.
#[test]
fn the_trainer_stores_a_time_limit_as_a_truncation() {
    let mut trainer = pendulum_trainer(2);
    for _ in 0..201 {
        trainer.step().unwrap();
    }
    let batch = trainer
        .buffer()
        .gather(&(0..201).collect::<Vec<_>>(), &Device::Cpu)
        .unwrap();
    let flags = |t: &Tensor| t.to_vec1::<f32>().unwrap();
    let (terminated, truncated) = (flags(&batch.terminated), flags(&batch.truncated));
    assert!(terminated.iter().all(|&d| d == 0.0));
    let ends: Vec<usize> = (0..201).filter(|&i| truncated[i] == 1.0).collect();
    assert_eq!(ends, vec![199]);
    // The next transition starts a new episode: its observation is not the truncated one's next.
    let next = batch.next_obs.get(199).unwrap().to_vec1::<f32>().unwrap();
    let after = batch.obs.get(200).unwrap().to_vec1::<f32>().unwrap();
    assert_ne!(next, after);
}
