//! One whole update of each SAC variant against PyTorch: `tests/fixtures/make_golden.py` writes
//! the weights (targets lagging behind the critics), a batch with terminated and truncated
//! transitions, the noise, and the update written from the papers with autograd and
//! `torch.optim.Adam` in float64: SAC v2 in SB3's order (temperature, critics, actor, Polyak),
//! SAC v1 (value, critics and actor from the same parameters, then the value target's Polyak), and
//! discrete SAC, and SAC v2 with gSDE (clipped mean, learned `[features, actions]` log-std, one
//! reparameterized exploration matrix per step, features learned). The agent here, in f64 from the same numbers, must end with every parameter
//! (actor, critics, targets, value network, log α) within 1e-9 of PyTorch's, relative to each
//! tensor's largest value, and report the same losses.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor};
use rl_buffer::{ActionSpec, ReplayBatch};
use rl_sac::config::{EntCoef, Variant};
use rl_sac::{Sac, SacConfig};
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

fn config(c: &Value) -> SacConfig {
    let f = |k: &str| c[k].as_f64().unwrap();
    let ent_coef = if c["ent_coef"] == "auto" {
        EntCoef::Auto {
            init: f("ent_coef_init"),
        }
    } else {
        EntCoef::Fixed(f("ent_coef"))
    };
    let mut config = SacConfig {
        learning_rate: f("learning_rate"),
        tau: f("tau"),
        gamma: f("gamma"),
        ent_coef,
        batch_size: 8,
        net_arch: floats(&c["net_arch"]).iter().map(|&x| x as usize).collect(),
        variant: if c["variant"] == "v1" {
            Variant::V1
        } else {
            Variant::V2
        },
        ..SacConfig::default()
    };
    if let Some(lambda) = c["policy_regularization"].as_f64() {
        config.policy_regularization = lambda;
    }
    if let Some(ratio) = c["target_entropy_ratio"].as_f64() {
        config.target_entropy_ratio = ratio;
    }
    if let Some(use_sde) = c["use_sde"].as_bool() {
        config.use_sde = use_sde;
        config.clip_mean = f("clip_mean");
    }
    config
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

fn rel(got: f64, want: &Value, what: &str) {
    let want = want.as_f64().unwrap();
    assert!(
        (got - want).abs() <= 1e-9 * want.abs().max(1e-12),
        "{what}: {got} vs PyTorch {want}"
    );
}

#[test]
fn one_update_of_each_variant_equals_pytorch() {
    let g = golden();
    let dim = |k: &str| g[k].as_u64().unwrap() as usize;
    let (obs_dim, act_dim, n_actions, b) = (
        dim("obs_dim"),
        dim("act_dim"),
        dim("n_actions"),
        dim("batch_size"),
    );
    for case in g["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let discrete = case["discrete"].as_bool().unwrap();
        let action = if discrete {
            ActionSpec::Discrete { n: n_actions }
        } else {
            ActionSpec::Continuous { dim: act_dim }
        };
        let mut sac = Sac::with_dtype(
            config(&case["config"]),
            obs_dim,
            action,
            &Device::Cpu,
            DType::F64,
            0,
        )
        .unwrap();
        let mut tensors = HashMap::new();
        for (key, v) in case["params"].as_object().unwrap() {
            let shape: Vec<usize> = floats(&v["shape"]).iter().map(|&x| x as usize).collect();
            let t = Tensor::from_vec(floats(&v["data"]), shape, &Device::Cpu).unwrap();
            tensors.insert(key.clone(), t);
        }
        sac.load_parameters(&tensors).unwrap();

        let batch = &case["batch"];
        let actions = if discrete {
            let a: Vec<u32> = floats(&batch["actions"])
                .iter()
                .map(|&x| x as u32)
                .collect();
            Tensor::from_vec(a, b, &Device::Cpu).unwrap()
        } else {
            f32_tensor(&batch["actions"], &[b, act_dim])
        };
        let replay = ReplayBatch {
            obs: f32_tensor(&batch["obs"], &[b, obs_dim]),
            actions,
            rewards: f32_tensor(&batch["rewards"], &[b]),
            next_obs: f32_tensor(&batch["next_obs"], &[b, obs_dim]),
            terminated: f32_tensor(&batch["terminated"], &[b]),
            truncated: f32_tensor(&batch["truncated"], &[b]),
        };
        // Each draw is [B, act_dim], or gSDE's exploration-matrix noise [features, act_dim].
        let noise_shape = match case.get("noise_shape") {
            Some(shape) => floats(shape).iter().map(|&x| x as usize).collect(),
            None => vec![b, act_dim],
        };
        let noise = case["noise"]
            .as_array()
            .unwrap()
            .iter()
            .map(|eps| f32_tensor(eps, &noise_shape))
            .collect();
        sac.set_update_noise(noise);
        let m = sac.update(&replay).unwrap();

        let want = &case["expected"];
        rel(
            m.critic_loss,
            &want["critic_loss"],
            &format!("{name}: critic loss"),
        );
        rel(m.ent_coef, &want["ent_coef"], &format!("{name}: α"));
        if let Some(loss) = m.ent_coef_loss {
            rel(
                loss,
                &want["ent_coef_loss"],
                &format!("{name}: temperature loss"),
            );
        }
        if let Some(loss) = m.value_loss {
            rel(loss, &want["value_loss"], &format!("{name}: value loss"));
        }
        // SAC v1's reported actor loss leaves out nothing; v2's and discrete SAC's are eq. (7)
        // and (12) as PyTorch's.
        rel(
            m.actor_loss,
            &want["actor_loss"],
            &format!("{name}: actor loss"),
        );

        let expected = want["params"].as_object().unwrap();
        let (actor, critic, target) = sac.params();
        let mut checked = 0;
        let mut stores = vec![("actor/", actor), ("critic/", critic), ("target/", target)];
        stores.extend(sac.value_params().map(|v| ("value/", v)));
        for (prefix, store) in stores {
            for (param, var) in store.params() {
                let key = format!("{prefix}{param}");
                close(
                    var.as_tensor(),
                    &floats(&expected[&key]),
                    &format!("{name}: {key}"),
                );
                checked += 1;
            }
        }
        if let Some(log_alpha) = expected.get("log_alpha") {
            let ours = (sac.alpha().unwrap()).ln();
            let theirs = floats(log_alpha)[0];
            assert!(
                (ours - theirs).abs() <= 1e-12,
                "{name}: log α {ours} vs {theirs}"
            );
        }
        let expected_count = expected.len() - usize::from(expected.contains_key("log_alpha"));
        assert_eq!(checked, expected_count, "{name}: every parameter compared");
    }
}
