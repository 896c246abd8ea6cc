//! Unit tests of the update's internals: the terms of `algorithms.md`, checked by hand and
//! against candle's autograd.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

use candle_core::{D, Device, Tensor, Var};
use rl_buffer::{ActionSpec, Segment, SegmentReplay};
use rl_math::SeededRng;
use rl_math::distributions::DiagGaussian;

use crate::agent::{Nets, Rows};
use crate::{Acer, AcerConfig};

/// `B` segments of `T` steps on random observations, actions drawn from the agent's current
/// policy and stored with that policy as the behaviour (fresh, on-policy data), random rewards,
/// a termination in segment 0 and a truncation in segment 1.
fn on_policy_batch(agent: &mut Acer, b: usize, t: usize) -> rl_buffer::SegmentBatch {
    let d = agent.obs_dim();
    let mut rng = SeededRng::new(11);
    let replay =
        SegmentReplay::new(b * t, t, d, agent.action_spec(), agent.behaviour_width()).unwrap();
    let mut data = Vec::new();
    for seg in 0..b {
        let obs = rng.normal_vec((t + 1) * d);
        let x = Tensor::from_slice(&obs[..t * d], (t, d), &Device::Cpu).unwrap();
        let acted = agent.act_batch(&x, false).unwrap();
        let rewards = rng.normal_vec(t);
        let mut terminated = vec![false; t];
        let mut truncated = vec![false; t];
        let mut final_obs = vec![0.0; t * d];
        if seg == 0 {
            terminated[t / 2] = true;
        }
        if seg == 1 {
            truncated[1] = true;
            final_obs[d..2 * d].copy_from_slice(&rng.normal_vec(d));
        }
        data.push((obs, acted, rewards, terminated, truncated, final_obs));
    }
    let segments: Vec<Segment<'_>> = data
        .iter()
        .map(
            |(obs, acted, rewards, terminated, truncated, final_obs)| Segment {
                obs,
                actions: &acted.actions,
                rewards,
                behaviour: &acted.behaviour,
                terminated,
                truncated,
                final_obs,
            },
        )
        .collect();
    replay.stack(&segments, &Device::Cpu).unwrap()
}

fn close(ours: &[Option<Tensor>], autograd: &[Tensor], what: &str) {
    assert_eq!(ours.len(), autograd.len(), "{what}: gradient count");
    for (i, (a, b)) in ours.iter().zip(autograd).enumerate() {
        let a: Vec<f32> = a
            .as_ref()
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        let b: Vec<f32> = b.flatten_all().unwrap().to_vec1().unwrap();
        let scale = b.iter().fold(1e-3f32, |m, x| m.max(x.abs()));
        for (x, y) in a.iter().zip(&b) {
            assert!(
                (x - y).abs() <= 1e-3 * scale,
                "{what}, parameter {i}: {x} vs autograd {y} (scale {scale})"
            );
        }
    }
}

/// Autograd's gradient of every parameter in store order (zeros where the loss does not reach).
fn per_parameter(agent: &Acer, grads: &candle_core::backprop::GradStore) -> Vec<Tensor> {
    agent
        .params
        .params()
        .iter()
        .map(|(_, var)| {
            grads
                .get(var.as_tensor())
                .cloned()
                .unwrap_or_else(|| var.as_tensor().zeros_like().unwrap())
        })
        .collect()
}

/// With fresh data (`μ = f`, so every `ρ = 1`), `c = ∞` and no trust region, ACER's policy
/// gradient is the on-policy actor-critic one: `∇ −mean(log f(a|s) · sg(Q_ret − V) + ent_coef H)`
/// (the replay-ratio-0 case of the paper's section 3.1).
#[test]
fn on_policy_with_infinite_c_is_the_actor_critic_gradient() {
    on_policy_with_infinite_c_is_the_actor_critic_gradient_with(true);
    on_policy_with_infinite_c_is_the_actor_critic_gradient_with(false);
}

fn on_policy_with_infinite_c_is_the_actor_critic_gradient_with(shared_body: bool) {
    let config = AcerConfig {
        shared_body,
        trust_region: false,
        correction_term: f64::INFINITY,
        q_coef: 0.0,
        ent_coef: 0.01,
        replay_ratio: 0.0,
        net_arch: vec![16, 16],
        ..AcerConfig::default()
    };
    let mut agent = Acer::new(config, 3, ActionSpec::Discrete { n: 3 }, &Device::Cpu, 7).unwrap();
    let batch = on_policy_batch(&mut agent, 3, 5);
    let (ours, _) = agent.discrete_gradients(&batch).unwrap();

    // The actor-critic loss by autograd, with Q_ret from traces of exactly 1.
    let Nets::Discrete(net) = &agent.nets else {
        panic!()
    };
    let rows = Rows::of(&batch).unwrap();
    let (logits, q) = net.forward(&rows.obs).unwrap();
    let f = candle_nn::ops::softmax_last_dim(&logits).unwrap();
    let v: Vec<f64> = crate::agent::to_f64(&(&f * &q).unwrap().sum(1).unwrap()).unwrap();
    let actions = batch.actions.flatten_all().unwrap();
    let q_a = crate::agent::to_f64(
        &q.gather(&actions.unsqueeze(1).unwrap(), 1)
            .unwrap()
            .squeeze(1)
            .unwrap(),
    )
    .unwrap();
    let v_last = crate::agent::to_f64(&agent.values(&rows.last_obs).unwrap()).unwrap();
    let v_final: Vec<(usize, f64)> = rows
        .finals
        .iter()
        .map(|(i, o)| {
            (
                *i,
                crate::agent::to_f64(&agent.values(o).unwrap()).unwrap()[0],
            )
        })
        .collect();
    let next_v = rows.next_values(&v, &v_last, &v_final);
    let q_ret = rows
        .retrace(&q_a, &v, &next_v, &vec![1.0; v.len()], 0.99)
        .unwrap();
    let adv: Vec<f32> = q_ret.iter().zip(&v).map(|(r, v)| (r - v) as f32).collect();
    let adv = Tensor::from_slice(&adv, adv.len(), &Device::Cpu).unwrap();

    let (logits, _) = net.forward_with_grad(&rows.obs).unwrap();
    let log_f = candle_nn::ops::log_softmax(&logits, D::Minus1).unwrap();
    let log_f_a = log_f
        .gather(&actions.unsqueeze(1).unwrap(), 1)
        .unwrap()
        .squeeze(1)
        .unwrap();
    let entropy = (log_f.exp().unwrap() * &log_f)
        .unwrap()
        .sum(1)
        .unwrap()
        .neg()
        .unwrap();
    let loss = ((log_f_a * adv).unwrap().mean_all().unwrap().neg().unwrap()
        - (entropy.mean_all().unwrap() * 0.01).unwrap())
    .unwrap();
    let grads = loss.backward().unwrap();
    let autograd = per_parameter(&agent, &grads);
    close(&ours, &autograd, "policy gradient");
}

/// The critic's gradient: `q_coef · ½ mean((sg(Q_ret) − Q(s, a))²)` by autograd.
#[test]
fn the_critic_gradient_is_the_retrace_regression() {
    the_critic_gradient_is_the_retrace_regression_with(true);
    the_critic_gradient_is_the_retrace_regression_with(false);
}

fn the_critic_gradient_is_the_retrace_regression_with(shared_body: bool) {
    let config = AcerConfig {
        shared_body,
        trust_region: false,
        ent_coef: 0.0,
        q_coef: 0.5,
        net_arch: vec![16],
        ..AcerConfig::default()
    };
    let mut agent = Acer::new(config, 2, ActionSpec::Discrete { n: 2 }, &Device::Cpu, 3).unwrap();
    let batch = on_policy_batch(&mut agent, 2, 4);
    // Isolate the critic: zero advantages cannot be arranged, so compare the Q head only.
    let (ours, _) = agent.discrete_gradients(&batch).unwrap();
    let Nets::Discrete(net) = &agent.nets else {
        panic!()
    };
    let rows = Rows::of(&batch).unwrap();
    let (logits, q) = net.forward(&rows.obs).unwrap();
    let f = candle_nn::ops::softmax_last_dim(&logits).unwrap();
    let v = crate::agent::to_f64(&(&f * &q).unwrap().sum(1).unwrap()).unwrap();
    let mu = crate::agent::to_f64(&batch.behaviour).unwrap();
    let actions = batch.actions.flatten_all().unwrap();
    let a: Vec<u32> = actions.to_vec1().unwrap();
    let fv = crate::agent::to_f64(&f).unwrap();
    let rho: Vec<f64> = (0..v.len())
        .map(|i| {
            let j = i * 2 + a[i] as usize;
            fv[j] / (mu[j] + crate::discrete::RHO_EPS)
        })
        .collect();
    let q_a = crate::agent::to_f64(
        &q.gather(&actions.unsqueeze(1).unwrap(), 1)
            .unwrap()
            .squeeze(1)
            .unwrap(),
    )
    .unwrap();
    let v_last = crate::agent::to_f64(&agent.values(&rows.last_obs).unwrap()).unwrap();
    let v_final: Vec<(usize, f64)> = rows
        .finals
        .iter()
        .map(|(i, o)| {
            (
                *i,
                crate::agent::to_f64(&agent.values(o).unwrap()).unwrap()[0],
            )
        })
        .collect();
    let next_v = rows.next_values(&v, &v_last, &v_final);
    let traces = rl_math::returns::truncated_traces(&rho);
    let q_ret = rows.retrace(&q_a, &v, &next_v, &traces, 0.99).unwrap();
    let q_ret: Vec<f32> = q_ret.iter().map(|&x| x as f32).collect();
    let q_ret = Tensor::from_slice(&q_ret, q_ret.len(), &Device::Cpu).unwrap();
    let (_, q) = net.forward_with_grad(&rows.obs).unwrap();
    let q_a = q
        .gather(&actions.unsqueeze(1).unwrap(), 1)
        .unwrap()
        .squeeze(1)
        .unwrap();
    let loss = ((q_a - q_ret).unwrap().sqr().unwrap().mean_all().unwrap() * 0.25).unwrap();
    let grads = loss.backward().unwrap();
    // The Q network's own parameters (`q.*`: the head, or the whole second network) are reached
    // by the critic only.
    let params = agent.params.params();
    let q_own: Vec<usize> = (0..params.len())
        .filter(|&i| params[i].0.starts_with("q."))
        .collect();
    assert!(q_own.len() >= 2);
    let autograd: Vec<Tensor> = q_own
        .iter()
        .map(|&i| grads.get(params[i].1.as_tensor()).unwrap().clone())
        .collect();
    let ours: Vec<Option<Tensor>> = q_own.iter().map(|&i| ours[i].clone()).collect();
    close(&ours, &autograd, "critic gradient");
}

/// The whole discrete policy gradient off-policy, by autograd and the paper's equations written
/// independently of `discrete.rs`: data stored by one policy and learned by another, `c = 1`
/// (so many `ρ > c` and the bias correction is live), `δ = 0.05` (so the trust region projects
/// most rows). Per row, `ĝ` is autograd's gradient with respect to the probabilities `φ` of
///
/// `min(c, ρ_a) log φ_a (Q_ret − V) + Σ_b sg([1 − c/ρ_b]₊ φ_b) log φ_b (Q_b − V) + β H(φ)`,
///
/// `k` autograd's gradient of `KL(f_avg ‖ φ)`, `z* = ĝ − max(0, (kᵀĝ − δ)/‖k‖²) k` (eq. 13), and
/// the parameters' gradient is autograd's of `−mean_i sg(z*_i)ᵀ f(·|s_i; θ)`: the projection
/// pushed through the softmax and the network.
#[test]
fn off_policy_gradient_with_live_bias_correction_and_trust_region_matches_autograd() {
    off_policy_gradient_with_live_bias_correction_and_trust_region_matches_autograd_with(true);
    off_policy_gradient_with_live_bias_correction_and_trust_region_matches_autograd_with(false);
}

fn off_policy_gradient_with_live_bias_correction_and_trust_region_matches_autograd_with(
    shared_body: bool,
) {
    let (c, delta, beta) = (1.0, 0.05, 0.01);
    let config = AcerConfig {
        shared_body,
        correction_term: c,
        delta,
        ent_coef: beta,
        q_coef: 0.0,
        net_arch: vec![16, 16],
        ..AcerConfig::default()
    };
    let n = 3;
    let mut behaviour = Acer::new(
        config.clone(),
        3,
        ActionSpec::Discrete { n },
        &Device::Cpu,
        7,
    )
    .unwrap();
    let batch = on_policy_batch(&mut behaviour, 3, 5);
    let agent = Acer::new(config, 3, ActionSpec::Discrete { n }, &Device::Cpu, 8).unwrap();
    let (ours, metrics) = agent.discrete_gradients(&batch).unwrap();
    assert!(metrics.trust_region_scale > 0.0);

    let Nets::Discrete(net) = &agent.nets else {
        panic!()
    };
    let Nets::Discrete(avg_net) = &agent.avg_nets else {
        panic!()
    };
    let to_f64 = |t: &Tensor| crate::agent::to_f64(t).unwrap();
    let rows = Rows::of(&batch).unwrap();
    let n_rows = rows.b * rows.t;
    let (logits, q) = net.forward(&rows.obs).unwrap();
    let f = to_f64(&candle_nn::ops::softmax_last_dim(&logits).unwrap());
    let f_avg =
        to_f64(&candle_nn::ops::softmax_last_dim(&avg_net.forward(&rows.obs).unwrap().0).unwrap());
    let q = to_f64(&q);
    let mu = to_f64(&batch.behaviour);
    let a: Vec<usize> = batch
        .actions
        .flatten_all()
        .unwrap()
        .to_vec1::<u32>()
        .unwrap()
        .iter()
        .map(|&a| a as usize)
        .collect();
    let rho: Vec<f64> = f
        .iter()
        .zip(&mu)
        .map(|(f, m)| f / (m + crate::discrete::RHO_EPS))
        .collect();
    let v: Vec<f64> = (0..n_rows)
        .map(|i| (0..n).map(|b| f[i * n + b] * q[i * n + b]).sum())
        .collect();
    let q_a: Vec<f64> = (0..n_rows).map(|i| q[i * n + a[i]]).collect();
    let rho_a: Vec<f64> = (0..n_rows).map(|i| rho[i * n + a[i]]).collect();
    assert!(
        rho.iter().filter(|&&r| r > c).count() > n_rows / 4,
        "ρ > c must be common"
    );
    let v_last = to_f64(&agent.values(&rows.last_obs).unwrap());
    let v_final: Vec<(usize, f64)> = rows
        .finals
        .iter()
        .map(|(i, o)| (*i, to_f64(&agent.values(o).unwrap())[0]))
        .collect();
    let next_v = rows.next_values(&v, &v_last, &v_final);
    let q_ret = rows
        .retrace(
            &q_a,
            &v,
            &next_v,
            &rl_math::returns::truncated_traces(&rho_a),
            0.99,
        )
        .unwrap();

    // ĝ and k per row by autograd in f64, with φ a leaf.
    let dev = Device::Cpu;
    let phi = Var::from_tensor(&Tensor::from_slice(&f, (n_rows, n), &dev).unwrap()).unwrap();
    let col = |x: &[f64]| Tensor::from_slice(x, (n_rows, 1), &dev).unwrap();
    let onehot: Vec<f64> = (0..n_rows * n)
        .map(|j| f64::from(u8::from(j % n == a[j / n])))
        .collect();
    let onehot = Tensor::from_slice(&onehot, (n_rows, n), &dev).unwrap();
    let log_phi = phi.as_tensor().log().unwrap();
    let truncated_w: Vec<f64> = (0..n_rows)
        .map(|i| rho_a[i].min(c) * (q_ret[i] - v[i]))
        .collect();
    let truncated_term =
        (log_phi.mul(&onehot).unwrap().sum_keepdim(1).unwrap() * col(&truncated_w)).unwrap();
    let correction_w: Vec<f64> = (0..n_rows * n)
        .map(|j| (1.0 - c / rho[j]).max(0.0) * f[j] * (q[j] - v[j / n]))
        .collect();
    let correction = Tensor::from_slice(&correction_w, (n_rows, n), &dev).unwrap();
    let correction_term = log_phi.mul(&correction).unwrap().sum_keepdim(1).unwrap();
    let entropy = (phi.as_tensor() * &log_phi)
        .unwrap()
        .sum_keepdim(1)
        .unwrap()
        .neg()
        .unwrap();
    let objective =
        ((truncated_term + correction_term).unwrap() + (entropy * beta).unwrap()).unwrap();
    let g = to_f64(
        &objective
            .sum_all()
            .unwrap()
            .backward()
            .unwrap()
            .get(phi.as_tensor())
            .unwrap()
            .clone(),
    );
    let f_avg_t = Tensor::from_slice(&f_avg, (n_rows, n), &dev).unwrap();
    let kl = (&f_avg_t * (f_avg_t.log().unwrap() - &log_phi).unwrap())
        .unwrap()
        .sum_all()
        .unwrap();
    let k = to_f64(&kl.backward().unwrap().get(phi.as_tensor()).unwrap().clone());
    let mut z = vec![0.0; n_rows * n];
    let mut projected = 0;
    for i in 0..n_rows {
        let r = i * n..(i + 1) * n;
        let kg: f64 = r.clone().map(|j| k[j] * g[j]).sum();
        let kk: f64 = r.clone().map(|j| k[j] * k[j]).sum();
        let scale = ((kg - delta) / kk).max(0.0);
        projected += usize::from(scale > 0.0);
        for j in r {
            z[j] = g[j] - scale * k[j];
        }
    }
    assert!(
        projected > n_rows / 2,
        "{projected} of {n_rows} rows projected"
    );

    // Push sg(z*) through softmax and network by autograd.
    let z: Vec<f32> = z.iter().map(|&x| x as f32).collect();
    let z = Tensor::from_slice(&z, (n_rows, n), &dev).unwrap();
    let (logits, _) = net.forward_with_grad(&rows.obs).unwrap();
    // (candle's fused softmax_last_dim has no backward pass; the composed softmax does.)
    let probs = candle_nn::ops::softmax(&logits, D::Minus1).unwrap();
    let loss = ((probs * z).unwrap().sum_all().unwrap() / -(n_rows as f64)).unwrap();
    let grads = loss.backward().unwrap();
    let autograd = per_parameter(&agent, &grads);
    close(&ours, &autograd, "off-policy ACER gradient");
}

/// Per-row terms for a random batch of `rows` steps over `n` actions, with every `ρ ≤ c_max`.
#[allow(clippy::type_complexity, reason = "a test fixture")]
fn random_terms(
    rows: usize,
    n: usize,
    c_max: f64,
) -> (
    Vec<f64>,
    Vec<f64>,
    Vec<f64>,
    Vec<f64>,
    Vec<f64>,
    Vec<usize>,
    Vec<f64>,
) {
    let mut rng = SeededRng::new(4);
    let mut u = || f64::from(rng.normal_vec(1)[0]);
    let softmax = |x: Vec<f64>| crate::discrete::softmax_rows(&x, n);
    let f = softmax((0..rows * n).map(|_| u()).collect());
    let f_avg = softmax((0..rows * n).map(|_| u()).collect());
    let q: Vec<f64> = (0..rows * n).map(|_| u()).collect();
    let v: Vec<f64> = (0..rows)
        .map(|i| (0..n).map(|b| f[i * n + b] * q[i * n + b]).sum())
        .collect();
    let rho: Vec<f64> = (0..rows * n)
        .map(|_| c_max * (0.5 + 0.5 * u().tanh()))
        .collect();
    let actions: Vec<usize> = (0..rows).map(|i| i % n).collect();
    let q_ret: Vec<f64> = (0..rows).map(|_| u()).collect();
    (f, f_avg, q, v, rho, actions, q_ret)
}

#[test]
fn the_bias_correction_vanishes_when_every_rho_is_at_most_c() {
    for trust_region in [false, true] {
        let (f, f_avg, q, v, rho, actions, q_ret) = random_terms(50, 3, 10.0);
        let agent = |bias_correction| {
            let config = AcerConfig {
                bias_correction,
                trust_region,
                ..AcerConfig::default()
            };
            Acer::new(config, 2, ActionSpec::Discrete { n: 3 }, &Device::Cpu, 0).unwrap()
        };
        let with = agent(true).discrete_terms(&f, &f_avg, &q, &v, &rho, &actions, &q_ret);
        let without = agent(false).discrete_terms(&f, &f_avg, &q, &v, &rho, &actions, &q_ret);
        assert_eq!(with.g, without.g);
        assert_eq!(with.z, without.z);
        // And it does not vanish once some ρ exceeds c.
        let (f, f_avg, q, v, rho, actions, q_ret) = random_terms(50, 3, 30.0);
        let with = agent(true).discrete_terms(&f, &f_avg, &q, &v, &rho, &actions, &q_ret);
        let without = agent(false).discrete_terms(&f, &f_avg, &q, &v, &rho, &actions, &q_ret);
        assert_ne!(with.g, without.g);
    }
}

#[test]
fn every_projected_row_meets_the_trust_region() {
    let (f, f_avg, q, v, rho, actions, q_ret) = random_terms(200, 4, 20.0);
    let config = AcerConfig {
        delta: 0.1,
        ..AcerConfig::default()
    };
    let agent = Acer::new(config, 2, ActionSpec::Discrete { n: 4 }, &Device::Cpu, 0).unwrap();
    let terms = agent.discrete_terms(&f, &f_avg, &q, &v, &rho, &actions, &q_ret);
    let mut active = 0;
    for i in 0..200 {
        let r = i * 4..(i + 1) * 4;
        let k: Vec<f64> = r.clone().map(|j| -f_avg[j] / f[j]).collect();
        let kz: f64 = k.iter().zip(&terms.z[r.clone()]).map(|(k, z)| k * z).sum();
        assert!(kz <= 0.1 + 1e-9, "row {i}: kᵀz = {kz}");
        if terms.scale[i] > 0.0 {
            active += 1;
        } else {
            assert_eq!(terms.z[r.clone()], terms.g[r]);
        }
    }
    assert!(active > 0 && active < 200, "{active} of 200 rows projected");
}

/// The Gaussian's score and KL gradients written out in `continuous.rs` against autograd of
/// `rl_math::distributions::DiagGaussian`.
#[test]
fn gaussian_score_and_kl_gradients_match_autograd() {
    let dev = Device::Cpu;
    let (mean, log_std, x) = ([0.3f64, -1.2], [-0.5f64, 0.4], [1.0f64, -0.7]);
    let (avg_mean, avg_log_std) = ([0.1f64, -1.0], [-0.3f64, 0.2]);
    let m = Var::new(&mean, &dev).unwrap();
    let l = Var::new(&log_std, &dev).unwrap();
    let pi = DiagGaussian::new(
        &m.as_tensor().unsqueeze(0).unwrap(),
        &l.as_tensor().unsqueeze(0).unwrap(),
    )
    .unwrap();
    let std: Vec<f64> = log_std.iter().map(|l: &f64| l.exp()).collect();

    // ∇ log f(x).
    let lp = pi
        .log_prob(&Tensor::new(&[x], &dev).unwrap())
        .unwrap()
        .sum_all()
        .unwrap();
    let grads = lp.backward().unwrap();
    let mut g = vec![0.0; 4];
    crate::continuous::add_score(&mut g, 1.0, &x, &mean, &std);
    let gm: Vec<f64> = grads.get(m.as_tensor()).unwrap().to_vec1().unwrap();
    let gl: Vec<f64> = grads.get(l.as_tensor()).unwrap().to_vec1().unwrap();
    for j in 0..2 {
        assert!((g[j] - gm[j]).abs() < 1e-12 && (g[2 + j] - gl[j]).abs() < 1e-12);
    }
    assert!(
        (crate::continuous::log_density(&x, &mean, &std) - lp.to_scalar::<f64>().unwrap()).abs()
            < 1e-12
    );

    // ∇ KL(f_avg ‖ f) with respect to f's (μ, log σ).
    let avg = DiagGaussian::new(
        &Tensor::new(&[avg_mean], &dev).unwrap(),
        &Tensor::new(&[avg_log_std], &dev).unwrap(),
    )
    .unwrap();
    let kl = avg.kl(&pi).unwrap().sum_all().unwrap();
    let grads = kl.backward().unwrap();
    let avg_std: Vec<f64> = avg_log_std.iter().map(|l: &f64| l.exp()).collect();
    let k = crate::continuous::kl_gradient(&mean, &std, &avg_mean, &avg_std);
    let gm: Vec<f64> = grads.get(m.as_tensor()).unwrap().to_vec1().unwrap();
    let gl: Vec<f64> = grads.get(l.as_tensor()).unwrap().to_vec1().unwrap();
    for j in 0..2 {
        assert!(
            (k[j] - gm[j]).abs() < 1e-12,
            "∂KL/∂μ: {} vs {}",
            k[j],
            gm[j]
        );
        assert!(
            (k[2 + j] - gl[j]).abs() < 1e-12,
            "∂KL/∂log σ: {} vs {}",
            k[2 + j],
            gl[j]
        );
    }
}

/// Retrace over the rows of two segments, by hand: segment 0 terminates at its second step,
/// segment 1 is truncated at its first step (bootstrapping from its final observation's value).
#[test]
fn retrace_over_segments_by_hand() {
    let dev = Device::Cpu;
    let (b, t, d) = (2, 3, 1);
    let replay = SegmentReplay::new(b * t, t, d, ActionSpec::Discrete { n: 2 }, 2).unwrap();
    let obs = [0.0f32; 4];
    let seg =
        |terminated: &'static [bool], truncated: &'static [bool], final_obs: &'static [f32]| {
            Segment {
                obs: &obs,
                actions: &[0.0, 1.0, 0.0],
                rewards: &[1.0, 2.0, 3.0],
                behaviour: &[0.5; 6],
                terminated,
                truncated,
                final_obs,
            }
        };
    let batch = replay
        .stack(
            &[
                seg(&[false, true, false], &[false; 3], &[0.0; 3]),
                seg(&[false; 3], &[true, false, false], &[9.0, 0.0, 0.0]),
            ],
            &dev,
        )
        .unwrap();
    let rows = Rows::of(&batch).unwrap();
    assert_eq!(rows.finals.len(), 1);
    assert_eq!(rows.finals[0].0, 3);
    let v = [0.5, 0.6, 0.7, 1.5, 1.6, 1.7];
    let q = [0.4, 0.8, 0.9, 1.0, 2.0, 1.0];
    let c = [1.0, 0.5, 0.25, 1.0, 0.5, 0.25];
    let next_v = rows.next_values(&v, &[10.0, 20.0], &[(3, 30.0)]);
    assert_eq!(next_v, [0.6, 0.7, 10.0, 30.0, 1.7, 20.0]);
    let q_ret = rows.retrace(&q, &v, &next_v, &c, 0.5).unwrap();
    // Segment 0: step 2 bootstraps from V(s_3) = 10: 3 + 0.5·10 = 8. Step 1 terminated: 2.
    // Step 0: 1 + 0.5 · [c_1 (Q_ret_1 − Q_1) + V_1] = 1 + 0.5 · (0.5 (2 − 0.8) + 0.6) = 1.6.
    // Segment 1: step 2: 3 + 0.5·20 = 13; step 1: 2 + 0.5 (0.25 (13 − 1) + 1.7) = 4.35;
    // step 0 truncated: 1 + 0.5 · 30 = 16.
    let want = [1.6, 2.0, 8.0, 16.0, 4.35, 13.0];
    for (got, want) in q_ret.iter().zip(want) {
        assert!((got - want).abs() < 1e-12, "{q_ret:?} vs {want:?}");
    }
}
