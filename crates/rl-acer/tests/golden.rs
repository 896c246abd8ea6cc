//! One whole ACER update against PyTorch, continuous and discrete: `tests/fixtures/make_golden.py`
//! writes, for each case, the weights, a lagging average network, a batch of two segments (a
//! termination and a truncation in them), the behaviour policy and (continuous) the
//! standard-normal draws, and performs the update from the paper with autograd in float64:
//! continuous, the SDN, Retrace with `ρ^{1/d}` traces and `Q_opc`, the value target, the truncated
//! importance weight with the bias correction, the trust region on `(μ, log σ)` pushed through the
//! network; discrete, Retrace with `min(1, ρ)`, the bias correction over every action, the trust
//! region on the probabilities pushed through the softmax; then the gradient clip, TensorFlow's
//! RMSProp and the average network's step. The agent here, in f64 from the same numbers, must end with every
//! parameter and average parameter within 1e-9 (relative to each tensor's largest value).

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor};
use rl_acer::{Acer, AcerConfig};
use rl_buffer::{ActionSpec, SegmentBatch};
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

fn shape(v: &Value) -> Vec<usize> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as usize)
        .collect()
}

/// `f32` tensor from values the script rounded to float32 (exact).
fn f32_tensor(v: &Value, dims: &[usize]) -> Tensor {
    let data: Vec<f32> = floats(v).iter().map(|&x| x as f32).collect();
    Tensor::from_vec(data, dims, &Device::Cpu).unwrap()
}

fn config(c: &Value) -> AcerConfig {
    let f = |k: &str| c[k].as_f64().unwrap();
    let b = |k: &str| c[k].as_bool().unwrap();
    AcerConfig {
        learning_rate: f("learning_rate"),
        gamma: f("gamma"),
        q_coef: f("q_coef"),
        ent_coef: f("ent_coef"),
        max_grad_norm: f("max_grad_norm"),
        rprop_alpha: f("rprop_alpha"),
        rprop_epsilon: f("rprop_epsilon"),
        correction_term: f("correction_term"),
        bias_correction: b("bias_correction"),
        trust_region: b("trust_region"),
        delta: f("delta"),
        alpha: f("alpha"),
        entropy_in_trust_region: b("entropy_in_trust_region"),
        n_samples: c["n_samples"].as_u64().unwrap() as usize,
        net_arch: shape(&c["net_arch"]),
        ..AcerConfig::default()
    }
}

fn close(got: &Tensor, want: &[f64], what: &str) {
    let got: Vec<f64> = got.flatten_all().unwrap().to_vec1().unwrap();
    assert_eq!(got.len(), want.len(), "{what}");
    let scale = want.iter().fold(1e-12f64, |m, x| m.max(x.abs()));
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= 1e-9 * scale,
            "{what}[{i}]: {g} vs PyTorch {w} (scale {scale})"
        );
    }
}

#[test]
fn one_update_equals_pytorch_continuous_and_discrete() {
    let g = golden();
    for case in g["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let discrete = case["discrete"].as_bool().unwrap();
        let (obs_dim, act_dim) = (
            case["obs_dim"].as_u64().unwrap() as usize,
            case["act_dim"].as_u64().unwrap() as usize,
        );
        let (action, width) = if discrete {
            (ActionSpec::Discrete { n: act_dim }, act_dim)
        } else {
            (ActionSpec::Continuous { dim: act_dim }, 2 * act_dim)
        };
        let mut agent = Acer::with_dtype(
            config(&case["config"]),
            obs_dim,
            action,
            &Device::Cpu,
            DType::F64,
            0,
        )
        .unwrap();
        let mut tensors = HashMap::new();
        for (prefix, key) in [("params/", "params"), ("average/", "average")] {
            for (param, v) in case[key].as_object().unwrap() {
                let t =
                    Tensor::from_vec(floats(&v["data"]), shape(&v["shape"]), &Device::Cpu).unwrap();
                tensors.insert(format!("{prefix}{param}"), t);
            }
        }
        agent.load_parameters(&tensors).unwrap();

        let batch = &case["batch"];
        let (b, t) = (
            batch["b"].as_u64().unwrap() as usize,
            batch["t"].as_u64().unwrap() as usize,
        );
        let actions = if discrete {
            let a: Vec<u32> = floats(&batch["actions"])
                .iter()
                .map(|&x| x as u32)
                .collect();
            Tensor::from_vec(a, (b, t), &Device::Cpu).unwrap()
        } else {
            f32_tensor(&batch["actions"], &[b, t, act_dim])
        };
        let segments = SegmentBatch {
            obs: f32_tensor(&batch["obs"], &[b, t + 1, obs_dim]),
            actions,
            rewards: f32_tensor(&batch["rewards"], &[b, t]),
            behaviour: f32_tensor(&batch["behaviour"], &[b, t, width]),
            terminated: f32_tensor(&batch["terminated"], &[b, t]),
            truncated: f32_tensor(&batch["truncated"], &[b, t]),
            final_obs: f32_tensor(&batch["final_obs"], &[b, t, obs_dim]),
        };
        if !discrete {
            let noise: Vec<f32> = floats(&case["noise"]).iter().map(|&x| x as f32).collect();
            agent.set_update_noise(noise);
        }
        let metrics = agent.update(&segments, true).unwrap();

        let want = &case["expected"];
        let rel = |got: f64, want: f64, what: &str| {
            assert!(
                (got - want).abs() <= 1e-9 * want.abs().max(1e-12),
                "{name}: {what} {got} vs PyTorch {want}"
            );
        };
        rel(
            metrics.grad_norm,
            want["grad_norm"].as_f64().unwrap(),
            "gradient norm",
        );
        rel(
            metrics.q_loss,
            want["q_loss"].as_f64().unwrap(),
            "critic loss",
        );
        rel(
            metrics.trust_region_scale,
            want["trust_region_scale"].as_f64().unwrap(),
            "trust-region scale",
        );
        let rho = floats(&want["rho"]);
        rel(
            metrics.rho,
            rho.iter().sum::<f64>() / rho.len() as f64,
            "mean ρ",
        );
        for (store, key) in [
            (agent.params(), "params"),
            (agent.average_params(), "average"),
        ] {
            for (param, var) in store.params() {
                close(
                    var.as_tensor(),
                    &floats(&want[key][param]),
                    &format!("{name}: {key} {param}"),
                );
            }
        }
    }
}

/// The draws given to `set_update_noise` must be as many as the update takes.
#[test]
fn noise_of_the_wrong_length_is_refused() {
    let g = golden();
    let case = &g["cases"][0];
    let mut agent = Acer::with_dtype(
        config(&case["config"]),
        3,
        ActionSpec::Continuous { dim: 2 },
        &Device::Cpu,
        DType::F64,
        0,
    )
    .unwrap();
    let batch = &case["batch"];
    let segments = SegmentBatch {
        obs: f32_tensor(&batch["obs"], &[2, 5, 3]),
        actions: f32_tensor(&batch["actions"], &[2, 4, 2]),
        rewards: f32_tensor(&batch["rewards"], &[2, 4]),
        behaviour: f32_tensor(&batch["behaviour"], &[2, 4, 4]),
        terminated: f32_tensor(&batch["terminated"], &[2, 4]),
        truncated: f32_tensor(&batch["truncated"], &[2, 4]),
        final_obs: f32_tensor(&batch["final_obs"], &[2, 4, 3]),
    };
    agent.set_update_noise(vec![0.0; 5]);
    let err = agent.update(&segments, true).unwrap_err().to_string();
    assert!(err.contains("set_update_noise gave 5 draws"), "{err}");
}
