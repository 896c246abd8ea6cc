//! One whole A2C update against PyTorch: `tests/fixtures/make_golden.py` writes the weights, a
//! rollout batch (observations, actions, advantages, returns) and the update of SB3's
//! `A2C.train` done with autograd, `clip_grad_norm_` and `torch.optim.RMSprop` in float64, for a
//! categorical policy (entropy bonus, gradient clipped), a Gaussian one (advantages
//! normalized) and a Gaussian with gSDE (σ from the last hidden features and a `[features,
//! actions]` scale). The agent here, in f64 from the same numbers, must end with every parameter
//! within 1e-9 of PyTorch's (relative to each tensor's largest value) and report the same losses
//! and gradient norm.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

mod common;

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor};
use common::{fixture, floats};
use rl_a2c::{A2c, A2cConfig};
use rl_buffer::{ActionSpec, RolloutBatch};
use serde_json::Value;

/// An `f32` tensor of values the script rounded to float32 (exact).
fn f32_tensor(v: &Value, dims: &[usize]) -> Tensor {
    let data: Vec<f32> = floats(v).iter().map(|&x| x as f32).collect();
    Tensor::from_vec(data, dims, &Device::Cpu).unwrap()
}

fn rel(got: f64, want: &Value, what: &str) {
    let want = want.as_f64().unwrap();
    assert!(
        (got - want).abs() <= 1e-9 * want.abs().max(1e-12),
        "{what}: {got} vs PyTorch {want}"
    );
}

#[test]
fn one_update_equals_pytorch() {
    let g = fixture("golden.json");
    let (obs_dim, rows) = (
        g["obs_dim"].as_u64().unwrap() as usize,
        g["rows"].as_u64().unwrap() as usize,
    );
    for case in g["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let c = &case["config"];
        let f = |k: &str| c[k].as_f64().unwrap();
        let config = A2cConfig {
            learning_rate: f("learning_rate"),
            ent_coef: f("ent_coef"),
            vf_coef: f("vf_coef"),
            max_grad_norm: f("max_grad_norm"),
            rms_prop_eps: f("rms_prop_eps"),
            normalize_advantage: c["normalize_advantage"].as_bool().unwrap(),
            net_arch: floats(&c["net_arch"]).iter().map(|&x| x as usize).collect(),
            use_sde: c["use_sde"].as_bool().unwrap_or(false),
            ..A2cConfig::default()
        };
        let out = case["out_dim"].as_u64().unwrap() as usize;
        let discrete = case["discrete"].as_bool().unwrap();
        let action = if discrete {
            ActionSpec::Discrete { n: out }
        } else {
            ActionSpec::Continuous { dim: out }
        };
        let mut agent =
            A2c::with_dtype(config, obs_dim, action, &Device::Cpu, DType::F64, 0).unwrap();
        let mut tensors = HashMap::new();
        for (key, v) in case["params"].as_object().unwrap() {
            let shape: Vec<usize> = floats(&v["shape"]).iter().map(|&x| x as usize).collect();
            let t = Tensor::from_vec(floats(&v["data"]), shape, &Device::Cpu).unwrap();
            tensors.insert(format!("params/{key}"), t);
        }
        agent.load_parameters(&tensors).unwrap();

        let b = &case["batch"];
        let actions = if discrete {
            let a: Vec<u32> = floats(&b["actions"]).iter().map(|&x| x as u32).collect();
            Tensor::from_vec(a, rows, &Device::Cpu).unwrap()
        } else {
            f32_tensor(&b["actions"], &[rows, out])
        };
        let zeros = Tensor::zeros(rows, DType::F32, &Device::Cpu).unwrap();
        let batch = RolloutBatch {
            obs: f32_tensor(&b["obs"], &[rows, obs_dim]),
            actions,
            values: zeros.clone(),
            log_probs: zeros,
            advantages: f32_tensor(&b["advantages"], &[rows]),
            returns: f32_tensor(&b["returns"], &[rows]),
        };
        let m = agent.update(&batch).unwrap();
        let want = &case["expected"];
        rel(
            m.policy_loss,
            &want["policy_loss"],
            &format!("{name}: policy loss"),
        );
        rel(
            m.value_loss,
            &want["value_loss"],
            &format!("{name}: value loss"),
        );
        rel(
            m.entropy_loss,
            &want["entropy_loss"],
            &format!("{name}: entropy loss"),
        );
        rel(
            m.grad_norm,
            &want["grad_norm"],
            &format!("{name}: gradient norm"),
        );
        let expected = want["params"].as_object().unwrap();
        assert_eq!(agent.params().params().len(), expected.len(), "{name}");
        for (param, var) in agent.params().params() {
            let ours: Vec<f64> = var.as_tensor().flatten_all().unwrap().to_vec1().unwrap();
            let theirs = floats(&expected[param]);
            let scale = theirs.iter().fold(1e-12f64, |m, x| m.max(x.abs()));
            for (i, (o, t)) in ours.iter().zip(&theirs).enumerate() {
                assert!(
                    (o - t).abs() <= 1e-9 * scale,
                    "{name}: {param}[{i}] {o} vs PyTorch {t} (scale {scale})"
                );
            }
        }
    }
}
