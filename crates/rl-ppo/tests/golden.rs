//! Whole PPO updates against PyTorch: `tests/fixtures/make_golden.py` writes the weights, a
//! rollout batch (observations, actions, log-probabilities and values at collection, advantages,
//! returns), each epoch's order of rows, and the update of SB3's `PPO.train` done with autograd,
//! `clip_grad_norm_` and `torch.optim.Adam` in float64: a categorical policy (two epochs of
//! 8, 8 and 4 rows, ratios clipped, entropy bonus, gradient clipped), a Gaussian one (value
//! clipping, advantages as given) and a Gaussian with gSDE that `target_kl` stops in its eighth
//! epoch. The agent here, in f64 from the same numbers and orders, must end with every parameter
//! within 1e-9 of PyTorch's (relative to each tensor's largest value) and report the same
//! metrics.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor};
use rl_buffer::{ActionSpec, RolloutBatch};
use rl_ppo::{Ppo, PpoConfig};
use serde_json::Value;

fn golden() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/golden.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

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
fn whole_updates_equal_pytorch() {
    let g = golden();
    let (obs_dim, rows) = (
        g["obs_dim"].as_u64().unwrap() as usize,
        g["rows"].as_u64().unwrap() as usize,
    );
    for case in g["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let c = &case["config"];
        let f = |k: &str| c[k].as_f64().unwrap();
        let config = PpoConfig {
            learning_rate: f("learning_rate"),
            n_epochs: c["n_epochs"].as_u64().unwrap() as usize,
            batch_size: c["batch_size"].as_u64().unwrap() as usize,
            clip_range: f("clip_range"),
            clip_range_vf: c["clip_range_vf"].as_f64(),
            ent_coef: f("ent_coef"),
            vf_coef: f("vf_coef"),
            max_grad_norm: f("max_grad_norm"),
            normalize_advantage: c["normalize_advantage"].as_bool().unwrap(),
            target_kl: c["target_kl"].as_f64(),
            net_arch: floats(&c["net_arch"]).iter().map(|&x| x as usize).collect(),
            use_sde: c["use_sde"].as_bool().unwrap_or(false),
            ..PpoConfig::default()
        };
        let out = case["out_dim"].as_u64().unwrap() as usize;
        let discrete = case["discrete"].as_bool().unwrap();
        let action = if discrete {
            ActionSpec::Discrete { n: out }
        } else {
            ActionSpec::Continuous { dim: out }
        };
        let mut agent =
            Ppo::with_dtype(config, obs_dim, action, &Device::Cpu, DType::F64, 0).unwrap();
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
        let batch = RolloutBatch {
            obs: f32_tensor(&b["obs"], &[rows, obs_dim]),
            actions,
            values: f32_tensor(&b["values"], &[rows]),
            log_probs: f32_tensor(&b["log_probs"], &[rows]),
            advantages: f32_tensor(&b["advantages"], &[rows]),
            returns: f32_tensor(&b["returns"], &[rows]),
        };
        let orders: Vec<Vec<usize>> = case["orders"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| floats(o).iter().map(|&x| x as usize).collect())
            .collect();
        let m = agent
            .update_in_order(&batch, f("clip_range"), &orders)
            .unwrap();
        let want = &case["expected"];
        for (got, key) in [
            (m.policy_gradient_loss, "policy_gradient_loss"),
            (m.value_loss, "value_loss"),
            (m.entropy_loss, "entropy_loss"),
            (m.loss, "loss"),
            (m.approx_kl, "approx_kl"),
            (m.clip_fraction, "clip_fraction"),
            (m.grad_norm, "grad_norm"),
        ] {
            rel(got, &want[key], &format!("{name}: {key}"));
        }
        assert_eq!(m.epochs as u64, want["epochs"].as_u64().unwrap(), "{name}");
        assert_eq!(
            m.gradient_steps as u64,
            want["gradient_steps"].as_u64().unwrap(),
            "{name}"
        );
        assert_eq!(
            m.stopped_early,
            want["stopped_early"].as_bool().unwrap(),
            "{name}"
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
