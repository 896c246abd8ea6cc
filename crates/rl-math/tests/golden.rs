//! rl-math against PyTorch: every value and gradient here was computed by PyTorch in float64
//! (`tests/fixtures/make_golden.py`, which says how to re-run it) and stored in
//! `tests/fixtures/golden.json`. float64 results must agree within 1e-10, float32 ones within 1e-5
//! (relative, or absolute below 1). The gSDE tests (`gsde_*`) compare with Stable-Baselines3's own
//! `StateDependentNoiseDistribution` (`tests/fixtures/make_gsde_golden.py`, `gsde_golden.json`),
//! within 1e-12.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

use candle_core::{DType, Device, Tensor, Var};
use rl_math::SeededRng;
use rl_math::clip::clip_grad_norm;
use rl_math::distributions::{Categorical, DiagGaussian, Gsde, LogStdBounds, TanhGaussian};
use rl_math::optim::{Adam, AdamConfig, Optimizer, RmsProp, RmsPropConfig, RmsPropStyle};
use rl_math::returns::{
    Trajectory, gae, n_step_returns, retrace, truncated_traces, truncated_traces_pow,
};
use serde_json::Value;

fn golden() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/golden.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn flat(v: &Value) -> Vec<f64> {
    match v {
        Value::Array(items) => items.iter().flat_map(flat).collect(),
        Value::Number(n) => vec![n.as_f64().unwrap()],
        Value::Bool(b) => vec![f64::from(u8::from(*b))],
        other => panic!("not numeric: {other}"),
    }
}

fn shape(v: &Value) -> Vec<usize> {
    match v {
        Value::Array(items) => {
            let mut s = vec![items.len()];
            if let Some(first) = items.first() {
                s.extend(shape(first));
            }
            s
        }
        _ => vec![],
    }
}

fn tensor(v: &Value, dtype: DType) -> Tensor {
    Tensor::from_vec(flat(v), shape(v), &Device::Cpu)
        .unwrap()
        .to_dtype(dtype)
        .unwrap()
}

fn var(v: &Value, dtype: DType) -> Var {
    Var::from_tensor(&tensor(v, dtype)).unwrap()
}

fn bools(v: &Value) -> Vec<bool> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_bool().unwrap())
        .collect()
}

/// float64: within 1e-10 (absolute below 1, relative above); float32: within 1e-5 likewise.
fn assert_close(got: &Tensor, want: &Value, what: &str) {
    let tol = if got.dtype() == DType::F64 {
        1e-10
    } else {
        1e-5
    };
    let g: Vec<f64> = got
        .to_dtype(DType::F64)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap();
    assert_values(&g, &flat(want), tol, what);
}

fn assert_values(got: &[f64], want: &[f64], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol * w.abs().max(1.0),
            "{what}[{i}]: {g} vs PyTorch {w}"
        );
    }
}

#[test]
fn tanh_gaussian_matches_torch_in_f64_and_f32() {
    let g = &golden()["tanh_gaussian"];
    for dtype in [DType::F64, DType::F32] {
        let mu = var(&g["mu"], dtype);
        let raw = var(&g["log_std_raw"], dtype);
        let bounds = LogStdBounds::Clamp {
            min: g["log_std_min"].as_f64().unwrap(),
            max: g["log_std_max"].as_f64().unwrap(),
        };
        let pi = TanhGaussian::new(mu.as_tensor(), raw.as_tensor(), bounds).unwrap();
        let (action, log_prob) = pi.rsample(&tensor(&g["eps"], dtype)).unwrap();
        assert_close(&action, &g["action"], "action");
        assert_close(&log_prob, &g["log_prob"], "log_prob");
        assert_close(
            &pi.deterministic().unwrap(),
            &g["deterministic_action"],
            "tanh(mu)",
        );

        let w = tensor(&g["w"], dtype);
        let grads = (log_prob * w)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        assert_close(
            grads.get(&mu).unwrap(),
            &g["grad_log_prob"][0],
            "d logp / d mu",
        );
        assert_close(
            grads.get(&raw).unwrap(),
            &g["grad_log_prob"][1],
            "d logp / d log_std",
        );

        let w_a = tensor(&g["w_action"], dtype);
        let grads = (action * w_a)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        assert_close(grads.get(&mu).unwrap(), &g["grad_action"][0], "d a / d mu");
        assert_close(
            grads.get(&raw).unwrap(),
            &g["grad_action"][1],
            "d a / d log_std",
        );
    }
}

#[test]
fn diag_gaussian_matches_torch_in_f64_and_f32() {
    let g = &golden()["diag_gaussian"];
    for dtype in [DType::F64, DType::F32] {
        let (mu0, ls0) = (var(&g["mu0"], dtype), var(&g["log_std0"], dtype));
        let (mu1, ls1) = (var(&g["mu1"], dtype), var(&g["log_std1"], dtype));
        let p = DiagGaussian::new(mu0.as_tensor(), ls0.as_tensor()).unwrap();
        let q = DiagGaussian::new(mu1.as_tensor(), ls1.as_tensor()).unwrap();
        let w = tensor(&g["w"], dtype);
        let weighted = |t: Tensor| (t * &w).unwrap().sum_all().unwrap();

        let log_prob = p.log_prob(&tensor(&g["x"], dtype)).unwrap();
        assert_close(&log_prob, &g["log_prob"], "log_prob");
        let grads = weighted(log_prob).backward().unwrap();
        assert_close(
            grads.get(&mu0).unwrap(),
            &g["grad_log_prob"][0],
            "d logp / d mu",
        );
        assert_close(
            grads.get(&ls0).unwrap(),
            &g["grad_log_prob"][1],
            "d logp / d log_std",
        );

        let entropy = p.entropy().unwrap();
        assert_close(&entropy, &g["entropy"], "entropy");
        let grads = weighted(entropy).backward().unwrap();
        assert_close(
            grads.get(&ls0).unwrap(),
            &g["grad_entropy"][0],
            "d H / d log_std",
        );

        let kl = p.kl(&q).unwrap();
        assert_close(&kl, &g["kl"], "kl");
        let grads = weighted(kl).backward().unwrap();
        for (i, v) in [&mu0, &ls0, &mu1, &ls1].into_iter().enumerate() {
            assert_close(grads.get(v).unwrap(), &g["grad_kl"][i], "d KL / d params");
        }
    }
}

#[test]
fn state_independent_log_std_broadcasts_over_the_batch() {
    let mean = Tensor::zeros((4, 2), DType::F64, &Device::Cpu).unwrap();
    let log_std = Var::from_tensor(&Tensor::new(&[0.1f64, -0.3], &Device::Cpu).unwrap()).unwrap();
    let p = DiagGaussian::new(&mean, log_std.as_tensor()).unwrap();
    let h = p.entropy().unwrap();
    assert_eq!(h.dims(), [4]);
    let grads = h.sum_all().unwrap().backward().unwrap();
    // dH/dlog_std = 1 per state and dimension, summed over the 4 states.
    let g: Vec<f64> = grads.get(&log_std).unwrap().to_vec1().unwrap();
    assert_eq!(g, [4.0, 4.0]);
}

#[test]
fn categorical_matches_torch_in_f64_and_f32() {
    let g = &golden()["categorical"];
    let actions: Vec<u32> = flat(&g["actions"]).iter().map(|a| *a as u32).collect();
    let actions = Tensor::new(actions.as_slice(), &Device::Cpu).unwrap();
    for dtype in [DType::F64, DType::F32] {
        let (lp, lq) = (var(&g["logits_p"], dtype), var(&g["logits_q"], dtype));
        let p = Categorical::from_logits(lp.as_tensor()).unwrap();
        let q = Categorical::from_logits(lq.as_tensor()).unwrap();
        let w = tensor(&g["w"], dtype);
        let weighted = |t: Tensor| (t * &w).unwrap().sum_all().unwrap();
        assert_close(&p.probs().unwrap(), &g["probs"], "probs");

        let log_prob = p.log_prob(&actions).unwrap();
        assert_close(&log_prob, &g["log_prob"], "log_prob");
        let grads = weighted(log_prob).backward().unwrap();
        assert_close(
            grads.get(&lp).unwrap(),
            &g["grad_log_prob"][0],
            "d logp / d logits",
        );

        let entropy = p.entropy().unwrap();
        assert_close(&entropy, &g["entropy"], "entropy");
        let grads = weighted(entropy).backward().unwrap();
        assert_close(
            grads.get(&lp).unwrap(),
            &g["grad_entropy"][0],
            "d H / d logits",
        );

        let kl = p.kl(&q).unwrap();
        assert_close(&kl, &g["kl"], "kl");
        let grads = weighted(kl).backward().unwrap();
        assert_close(
            grads.get(&lp).unwrap(),
            &g["grad_kl"][0],
            "d KL / d logits_p",
        );
        assert_close(
            grads.get(&lq).unwrap(),
            &g["grad_kl"][1],
            "d KL / d logits_q",
        );
    }
}

#[test]
fn gae_and_n_step_returns_match_sb3s_formulation() {
    let g = &golden()["gae"];
    let (rewards, values, next_values) = (
        flat(&g["rewards"]),
        flat(&g["values"]),
        flat(&g["next_values"]),
    );
    let (terminated, truncated) = (bools(&g["terminated"]), bools(&g["truncated"]));
    let traj = Trajectory {
        rewards: &rewards,
        values: &values,
        next_values: &next_values,
        terminated: &terminated,
        truncated: &truncated,
    };
    let gamma = g["gamma"].as_f64().unwrap();
    for case in g["cases"].as_array().unwrap() {
        let lambda = case["lambda"].as_f64().unwrap();
        let adv = gae(&traj, gamma, lambda).unwrap();
        assert_values(
            &adv.advantages,
            &flat(&case["advantages"]),
            1e-10,
            "advantages",
        );
        assert_values(&adv.returns, &flat(&case["returns"]), 1e-10, "returns");
        if lambda == 1.0 {
            let r = n_step_returns(&traj, gamma).unwrap();
            assert_values(&r, &flat(&case["returns"]), 1e-10, "n-step returns");
        }
    }
}

#[test]
fn retrace_matches_baselines_q_retrace() {
    let g = &golden()["retrace"];
    let (rewards, values, next_values) = (
        flat(&g["rewards"]),
        flat(&g["values"]),
        flat(&g["next_values"]),
    );
    let (terminated, truncated) = (bools(&g["terminated"]), bools(&g["truncated"]));
    let traj = Trajectory {
        rewards: &rewards,
        values: &values,
        next_values: &next_values,
        terminated: &terminated,
        truncated: &truncated,
    };
    let (q, rho) = (flat(&g["q_taken"]), flat(&g["rho"]));
    let gamma = g["gamma"].as_f64().unwrap();
    let d = g["action_dim"].as_u64().unwrap() as usize;
    let ones = vec![1.0; rho.len()];
    for (traces, key) in [
        (truncated_traces(&rho), "q_ret_min1_rho"),
        (truncated_traces_pow(&rho, d), "q_ret_min1_rho_pow"),
        (ones, "q_opc"),
    ] {
        let got = retrace(&traj, &q, &traces, gamma).unwrap();
        assert_values(&got, &flat(&g[key]), 1e-10, key);
    }
}

/// OpenAI Baselines' `q_retrace` (baselines/acer/acer.py) transcribed line for line for one env:
/// `vs` holds the `n + 1` values `V(s_0) … V(s_n)`, `ds` the done flags (Baselines knows no
/// truncation), and the traces are `min(1, ρ)`.
fn baselines_q_retrace(
    rs: &[f64],
    ds: &[f64],
    q_is: &[f64],
    vs: &[f64],
    rho_i: &[f64],
    gamma: f64,
) -> Vec<f64> {
    let nsteps = rs.len();
    let rho_bar: Vec<f64> = rho_i.iter().map(|r| r.min(1.0)).collect();
    let v_final = vs[nsteps];
    let mut qret = v_final;
    let mut qrets = Vec::new();
    for i in (0..nsteps).rev() {
        qret = rs[i] + gamma * qret * (1.0 - ds[i]);
        qrets.push(qret);
        qret = (rho_bar[i] * (qret - q_is[i])) + vs[i];
    }
    qrets.reverse();
    qrets
}

/// An oracle that does not share the Rust code's control flow: on episodes that only terminate
/// (Baselines' setting), `retrace` with `min(1, ρ)` traces equals the transcription above.
#[test]
fn retrace_equals_baselines_q_retrace_transcribed() {
    let mut rng = SeededRng::new(11);
    let normals = |rng: &mut SeededRng, n: usize| -> Vec<f64> {
        rng.normal_vec(n).into_iter().map(f64::from).collect()
    };
    for case in 0..20 {
        let n = 1 + case % 9;
        let rs = normals(&mut rng, n);
        let q_is = normals(&mut rng, n);
        let vs = normals(&mut rng, n + 1);
        let rho: Vec<f64> = normals(&mut rng, n).iter().map(|x| x.exp()).collect();
        // Terminations anywhere, the last step included, about one step in four.
        let ds: Vec<f64> = normals(&mut rng, n)
            .iter()
            .map(|x| f64::from(u8::from(*x > 0.67)))
            .collect();
        let terminated: Vec<bool> = ds.iter().map(|&d| d == 1.0).collect();
        let traj = Trajectory {
            rewards: &rs,
            values: &vs[..n],
            next_values: &vs[1..],
            terminated: &terminated,
            truncated: &vec![false; n],
        };
        let ours = retrace(&traj, &q_is, &truncated_traces(&rho), 0.97).unwrap();
        let theirs = baselines_q_retrace(&rs, &ds, &q_is, &vs, &rho, 0.97);
        assert_values(
            &ours,
            &theirs,
            1e-12,
            &format!("case {case} (dones {ds:?})"),
        );
    }
}

/// Truncation, which Baselines does not model, worked by hand on three steps (γ = ½, traces ½):
/// the truncated step bootstraps from the value of its true final observation (8), not from the
/// next segment's Retrace value and not from nothing.
#[test]
fn retrace_through_a_truncation_by_hand() {
    let traj = |terminated: [bool; 3], truncated: [bool; 3]| {
        let t = Trajectory {
            rewards: &[1.0, 2.0, 3.0],
            values: &[10.0, 20.0, 30.0],
            next_values: &[20.0, 8.0, 40.0],
            terminated: &terminated,
            truncated: &truncated,
        };
        retrace(&t, &[4.0, 5.0, 6.0], &[0.5; 3], 0.5).unwrap()
    };
    // Step 2: 3 + ½·40 = 23, carried as ½(23 − 6) + 30 = 38.5 (not used: step 1 ended).
    // Step 1, truncated: 2 + ½·8 = 6, carried as ½(6 − 5) + 20 = 20.5.
    // Step 0: 1 + ½·20.5 = 11.25.
    assert_eq!(
        traj([false; 3], [false, true, false]),
        vec![11.25, 6.0, 23.0]
    );
    // Terminated at step 1 instead: 2, carried as ½(2 − 5) + 20 = 18.5; step 0: 1 + 9.25.
    assert_eq!(
        traj([false, true, false], [false; 3]),
        vec![10.25, 2.0, 23.0]
    );
    // Neither: step 1 takes step 2's carried value: 2 + ½·38.5 = 21.25; step 0: 1 + ½(½(21.25 −
    // 5) + 20) = 15.0625.
    assert_eq!(traj([false; 3], [false; 3]), vec![15.0625, 21.25, 23.0]);
}

/// The golden optimizers' problem: `mean((x Wᵀ + b − y)²) + 0.1 Σ sin(W)`.
fn regression_loss(w: &Var, b: &Var, x: &Tensor, y: &Tensor) -> Tensor {
    let pred = x
        .matmul(&w.as_tensor().t().unwrap())
        .unwrap()
        .broadcast_add(b.as_tensor())
        .unwrap();
    let mse = (pred - y).unwrap().sqr().unwrap().mean_all().unwrap();
    (mse + (w.as_tensor().sin().unwrap().sum_all().unwrap() * 0.1).unwrap()).unwrap()
}

#[test]
fn adam_and_rmsprop_match_ten_torch_steps() {
    let g = &golden()["optimizers"];
    let (x, y) = (tensor(&g["x"], DType::F64), tensor(&g["y"], DType::F64));
    for run in g["runs"].as_array().unwrap() {
        let (w, b) = (var(&g["w0"], DType::F64), var(&g["b0"], DType::F64));
        let params = vec![("b".to_string(), b.clone()), ("w".to_string(), w.clone())];
        let p = &run["params"];
        let f = |k: &str| p[k].as_f64().unwrap();
        let name = run["optimizer"].as_str().unwrap();
        let mut opt: Box<dyn Optimizer> = match name {
            "adam" => Box::new(
                Adam::new(
                    params,
                    AdamConfig {
                        lr: f("lr"),
                        beta1: f("beta1"),
                        beta2: f("beta2"),
                        eps: f("eps"),
                    },
                )
                .unwrap(),
            ),
            "rmsprop" | "rmsprop_tf_like" => {
                let style = if name == "rmsprop" {
                    RmsPropStyle::Pytorch
                } else {
                    RmsPropStyle::TfLike
                };
                Box::new(
                    RmsProp::new(
                        params,
                        RmsPropConfig {
                            lr: f("lr"),
                            alpha: f("alpha"),
                            eps: f("eps"),
                            style,
                        },
                    )
                    .unwrap(),
                )
            }
            other => panic!("unknown optimizer {other}"),
        };
        for (i, step) in run["steps"].as_array().unwrap().iter().enumerate() {
            let loss = regression_loss(&w, &b, &x, &y);
            let what = format!("{name} step {}", i + 1);
            assert_values(
                &[loss.to_scalar::<f64>().unwrap()],
                &[step["loss"].as_f64().unwrap()],
                1e-10,
                &what,
            );
            opt.backward_step(&loss).unwrap();
            assert_close(w.as_tensor(), &step["w"], &what);
            assert_close(b.as_tensor(), &step["b"], &what);
        }
    }
}

#[test]
fn clip_grad_norm_matches_torch() {
    let g = &golden()["clip_grad_norm"];
    let (x, y) = (tensor(&g["x"], DType::F64), tensor(&g["y"], DType::F64));
    for case in g["cases"].as_array().unwrap() {
        let (w, b) = (var(&g["w0"], DType::F64), var(&g["b0"], DType::F64));
        let mut grads = regression_loss(&w, &b, &x, &y).backward().unwrap();
        let norm = clip_grad_norm(
            &mut grads,
            &[w.clone(), b.clone()],
            case["max_norm"].as_f64().unwrap(),
        )
        .unwrap();
        assert_values(
            &[norm],
            &[case["total_norm"].as_f64().unwrap()],
            1e-10,
            "total norm",
        );
        assert_close(grads.get(&w).unwrap(), &case["grad_w"], "clipped dW");
        assert_close(grads.get(&b).unwrap(), &case["grad_b"], "clipped db");
    }
}

fn gsde_golden() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/gsde_golden.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn gsde_tensor(v: &Value, dims: &[usize]) -> Tensor {
    Tensor::from_vec(flat(v), dims, &Device::Cpu).unwrap()
}

fn gsde_close(got: &Tensor, want: &Value, what: &str) {
    let got: Vec<f64> = got.flatten_all().unwrap().to_vec1().unwrap();
    let want = flat(want);
    assert_eq!(got.len(), want.len(), "{what}");
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert!(
            (g - w).abs() <= 1e-12 * w.abs().max(1.0),
            "{what}[{i}]: {g} vs SB3 {w}"
        );
    }
}

/// gSDE against Stable-Baselines3's own `StateDependentNoiseDistribution` (`full_std=True`,
/// `use_expln=False`, `learn_features=False`): `tests/fixtures/make_gsde_golden.py` stored SB3's
/// log-probabilities, entropies, their gradients with respect to `log_std` and the mean, and the
/// per-row noise for given exploration matrices, in float64.
#[test]
fn gsde_log_prob_entropy_gradients_and_noise_equal_sb3() {
    let g = gsde_golden();
    let n = |k: &str| g[k].as_u64().unwrap() as usize;
    let (b, l, d) = (n("b"), n("l"), n("d"));
    let features = gsde_tensor(&g["features"], &[b, l]);
    let log_std = Var::from_tensor(&gsde_tensor(&g["log_std"], &[l, d])).unwrap();
    let mean = Var::from_tensor(&gsde_tensor(&g["mean"], &[b, d])).unwrap();
    let actions = gsde_tensor(&g["actions"], &[b, d]);

    let row_log_std = Gsde::log_std(&features, log_std.as_tensor()).unwrap();
    let pi = DiagGaussian::new(mean.as_tensor(), &row_log_std).unwrap();
    let log_prob = pi.log_prob(&actions).unwrap();
    let entropy = pi.entropy().unwrap();
    gsde_close(&log_prob, &g["log_prob"], "log_prob");
    gsde_close(&entropy, &g["entropy"], "entropy");
    let grads = (log_prob.sum_all().unwrap() + entropy.sum_all().unwrap())
        .unwrap()
        .backward()
        .unwrap();
    gsde_close(
        grads.get(log_std.as_tensor()).unwrap(),
        &g["grad_log_std"],
        "d/d log_std",
    );
    gsde_close(
        grads.get(mean.as_tensor()).unwrap(),
        &g["grad_mean"],
        "d/d mean",
    );
    // The features are detached: no gradient reaches them even when they are a variable.
    let fv = Var::from_tensor(&features).unwrap();
    let lp = DiagGaussian::new(
        mean.as_tensor(),
        &Gsde::log_std(fv.as_tensor(), log_std.as_tensor()).unwrap(),
    )
    .unwrap()
    .log_prob(&actions)
    .unwrap();
    assert!(
        lp.sum_all()
            .unwrap()
            .backward()
            .unwrap()
            .get(fv.as_tensor())
            .is_none()
    );

    let matrices = gsde_tensor(&g["matrices"], &[b, l, d]);
    gsde_close(
        &Gsde::noise(&features, &matrices).unwrap(),
        &g["noise"],
        "noise",
    );
}

/// Exploration matrices have entries `N(0, exp(log_std)²)`: over many draws each entry's sample
/// standard deviation is its `σ`, and the same seed draws the same matrices.
#[test]
fn gsde_exploration_matrices_have_the_learned_scale() {
    let sigma = [[0.5f64, 2.0], [0.1, 1.0]];
    let log_std = Tensor::new(
        &[[0.5f64.ln(), 2f64.ln()], [0.1f64.ln(), 0.0]],
        &Device::Cpu,
    )
    .unwrap();
    let n = 20_000;
    let m = Gsde::sample_matrices(&log_std, n, &mut SeededRng::new(1)).unwrap();
    assert_eq!(m.dims(), [n, 2, 2]);
    assert_eq!(m.dtype(), DType::F64);
    let v: Vec<f64> = m.flatten_all().unwrap().to_vec1().unwrap();
    for (k, s) in sigma.iter().flatten().enumerate() {
        let var = v.iter().skip(k).step_by(4).map(|x| x * x).sum::<f64>() / n as f64;
        // 20 000 draws: the sample std is within 3% of σ (about 6 standard errors).
        assert!(
            (var.sqrt() / s - 1.0).abs() < 0.03,
            "entry {k}: {} vs {s}",
            var.sqrt()
        );
    }
    let again = Gsde::sample_matrices(&log_std, n, &mut SeededRng::new(1)).unwrap();
    assert_eq!(again.flatten_all().unwrap().to_vec1::<f64>().unwrap(), v);
    // Shapes that do not fit are named.
    let err = Gsde::noise(
        &Tensor::zeros((3, 2), DType::F64, &Device::Cpu).unwrap(),
        &m,
    )
    .unwrap_err();
    assert!(err.to_string().contains("matrices"), "{err}");
    let err = Gsde::log_std(
        &Tensor::zeros((3, 5), DType::F64, &Device::Cpu).unwrap(),
        &log_std,
    )
    .unwrap_err();
    assert!(err.to_string().contains("features"), "{err}");
}
