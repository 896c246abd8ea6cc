//! A whole A2C run against Stable-Baselines3 itself, not one update: `tests/fixtures/make_whole_run.py`
//! runs SB3 2.9.2's `A2C` (its own rollout collection, `VecNormalize`, rollout buffer with GAE
//! and truncation bootstrapping, loss, clipping and RMSprop, all in float32) for 400 updates on
//! two Pendulum-v1 envs, and records its initial weights, its exploration noise, where each
//! episode started, every update's losses and the weights every 50 updates. [`A2cTrainer`] here
//! starts from the same weights, samples with the same noise
//! ([`SeededRng::replaying_normals`]) and starts each episode in the same state, and must
//! follow SB3 update after update.
//!
//! Both sides compute in float32 with different summation orders (gemm against PyTorch's BLAS),
//! so the runs agree to rounding that grows slowly over the run, not bit for bit; a plumbing
//! difference (normalization order, a bootstrap, the advantage, a clipping rule) moves the
//! losses by whole percents within a few updates and the weights far more.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

mod common;

use std::collections::{HashMap, VecDeque};

use candle_core::{DType, Device, Tensor};
use common::{fixture, floats};
use rl_a2c::{A2c, A2cConfig, A2cTrainer};
use rl_buffer::ActionSpec;
use rl_envs::{Action, BoxedEnv, Env, EnvError, Space, Step};
use rl_math::SeededRng;
use serde_json::Value;

/// SB3's parameters as tensors named `params/<name>`, for `A2c::load_parameters`.
fn tensors(params: &Value) -> HashMap<String, Tensor> {
    params
        .as_object()
        .unwrap()
        .iter()
        .map(|(key, v)| {
            let shape: Vec<usize> = floats(&v["shape"]).iter().map(|&x| x as usize).collect();
            let data: Vec<f32> = floats(&v["data"]).iter().map(|&x| x as f32).collect();
            let t = Tensor::from_vec(data, shape, &Device::Cpu).unwrap();
            (format!("params/{key}"), t)
        })
        .collect()
}

/// An env that starts each episode in the next of SB3's recorded start states.
struct StartsAsRecorded {
    env: BoxedEnv,
    starts: VecDeque<Vec<f64>>,
}

impl Env for StartsAsRecorded {
    fn id(&self) -> &str {
        self.env.id()
    }
    fn observation_space(&self) -> &Space {
        self.env.observation_space()
    }
    fn action_space(&self) -> &Space {
        self.env.action_space()
    }
    fn reset(&mut self, seed: Option<u64>) -> Result<&[f32], EnvError> {
        self.env.reset(seed)?;
        let start = self
            .starts
            .pop_front()
            .expect("an episode SB3 did not start");
        self.env.set_state(&start)
    }
    fn step(&mut self, action: Action<'_>) -> Result<Step<'_>, EnvError> {
        self.env.step(action)
    }
    fn max_episode_steps(&self) -> Option<usize> {
        self.env.max_episode_steps()
    }
}

/// `|ours − sb3| ≤ tol · max(|sb3|, floor)`.
fn close(ours: f64, sb3: f64, tol: f64, floor: f64) -> bool {
    (ours - sb3).abs() <= tol * sb3.abs().max(floor)
}

#[test]
fn four_hundred_updates_follow_stable_baselines3() {
    let g = fixture("whole_run.json");
    let c = &g["config"];
    let f = |k: &str| c[k].as_f64().unwrap();
    let n_envs = g["n_envs"].as_u64().unwrap() as usize;
    let config = A2cConfig {
        learning_rate: f("learning_rate"),
        n_steps: c["n_steps"].as_u64().unwrap() as usize,
        n_envs,
        gamma: f("gamma"),
        gae_lambda: f("gae_lambda"),
        ent_coef: f("ent_coef"),
        vf_coef: f("vf_coef"),
        max_grad_norm: f("max_grad_norm"),
        rms_prop_eps: f("rms_prop_eps"),
        normalize_advantage: c["normalize_advantage"].as_bool().unwrap(),
        net_arch: floats(&c["net_arch"]).iter().map(|&x| x as usize).collect(),
        normalize_obs: true,
        normalize_reward: true,
        ..A2cConfig::default()
    };
    let mut agent = A2c::with_dtype(
        config,
        3,
        ActionSpec::Continuous { dim: 1 },
        &Device::Cpu,
        DType::F32,
        0,
    )
    .unwrap();
    agent.load_parameters(&tensors(&g["initial"])).unwrap();
    let noise: Vec<f32> = floats(&g["noise"]).iter().map(|&x| x as f32).collect();
    agent.set_rng(SeededRng::replaying_normals(0, &noise));

    let mut starts: VecDeque<VecDeque<Vec<f64>>> = g["starts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|env| env.as_array().unwrap().iter().map(floats).collect())
        .collect();
    let env_id = g["env"].as_str().unwrap().to_owned();
    let factory = move || -> Result<StartsAsRecorded, EnvError> {
        Ok(StartsAsRecorded {
            env: rl_envs::make(&env_id)?,
            starts: starts.pop_front().expect("one list of starts per env"),
        })
    };
    let mut trainer = A2cTrainer::with_factory(agent, factory, 0).unwrap();

    let updates = g["updates"].as_array().unwrap();
    let every = g["updates_every_checkpoint"].as_u64().unwrap() as usize;
    let mut worst_loss = 0.0f64;
    let mut worst_param = Vec::new();
    for (k, sb3) in updates.iter().enumerate() {
        let m = trainer.step().unwrap().metrics;
        for (what, ours) in [
            ("policy_loss", m.policy_loss),
            ("value_loss", m.value_loss),
            ("entropy_loss", m.entropy_loss),
        ] {
            let theirs = sb3[what].as_f64().unwrap();
            let err = (ours - theirs).abs() / theirs.abs().max(1e-2);
            worst_loss = worst_loss.max(err);
            assert!(
                err <= 1e-2,
                "update {}: {what} {ours} vs SB3 {theirs}",
                k + 1
            );
        }
        if (k + 1) % every == 0 {
            let want = &g["checkpoints"][(k + 1).to_string()];
            let mut worst = 0.0f64;
            for (param, var) in trainer.agent().params().params() {
                let ours: Vec<f32> = var.as_tensor().flatten_all().unwrap().to_vec1().unwrap();
                let theirs = floats(&want[param]["data"]);
                let scale = theirs.iter().fold(1e-12f64, |m, x| m.max(x.abs()));
                for (o, t) in ours.iter().zip(&theirs) {
                    worst = worst.max((f64::from(*o) - t).abs() / scale);
                }
            }
            worst_param.push((k + 1, worst));
            assert!(
                worst <= 5e-4,
                "after update {}: a parameter differs from SB3's by {worst:.2e} of its tensor's largest value",
                k + 1
            );
        }
    }
    println!(
        "largest relative loss difference {worst_loss:.2e}; parameters (after update, largest \
         difference relative to the tensor's largest value): {worst_param:?}"
    );

    // The normalization statistics, updated from every observation and reward of the run.
    let n = &g["normalize"];
    let stats = trainer.env().stats();
    for (rms, key) in [(&stats.obs, "obs"), (&stats.ret, "ret")] {
        let rms = rms.as_ref().unwrap();
        for (what, ours, theirs) in [
            ("mean", rms.mean(), floats(&n[format!("{key}_mean")])),
            ("var", rms.var(), floats(&n[format!("{key}_var")])),
        ] {
            assert_eq!(ours.len(), theirs.len(), "{key} {what}");
            for (o, t) in ours.iter().zip(&theirs) {
                assert!(close(*o, *t, 1e-4, 1e-2), "{key} {what}: {o} vs SB3 {t}");
            }
        }
        assert_eq!(
            rms.count(),
            n[format!("{key}_count")].as_f64().unwrap(),
            "{key} count"
        );
    }
}
