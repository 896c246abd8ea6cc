//! ACER's update for continuous actions (Wang et al. 2017, section 4 and algorithm 3).
//!
//! The policy is `f = N(μ_θ(s), diag σ²)` with a state-independent learned `log σ`; its
//! statistics per row are `φ = (μ, log σ)`. The critic is the stochastic dueling network (SDN):
//! `Q̃(s, a) = V(s) + A(s, a) − (1/n) Σ_j A(s, u_j)`, `u_j ~ f(·|s)`. Per row `i` (`N = B·T`):
//!
//! ```text
//! ρ_i = f(a_i|s_i) / μ(a_i|s_i)
//! Q_ret: Retrace with traces c_i = min(1, ρ_i^{1/d})        Q_opc: the same with c_i = 1
//! V_target_i = min(1, ρ_i) (Q_ret_i − Q̃(s_i, a_i)) + V(s_i)
//! critic  q_coef · mean(½ (sg(Q_ret) − Q̃(s, a))² + ½ (sg(V_target) − V(s))²)
//! ĝ_i = min(c, ρ_i) (Q_opc_i − V_i) ∇_φ log f(a_i|φ)                          (eq. 14)
//!     + [1 − c/ρ_i(a')]₊ (Q̃(s_i, a') − V_i) ∇_φ log f(a'|φ),   a' ~ f(·|s_i)
//!     + ent_coef ∇_φ H(f)                                    (inside the region if configured)
//! k_i = ∇_φ KL(f(·|φ_avg) ‖ f(·|φ)),  z*_i = ĝ_i − max(0, (kᵀĝ − δ)/‖k‖²) k  (eq. 13)
//! ```
//!
//! with, per action component, `∇_μ log f(x) = (x − μ)/σ²`, `∇_{log σ} log f(x) = (x − μ)²/σ² − 1`,
//! `∇_{log σ} H = 1`, `∇_μ KL = (μ − μ_a)/σ²`, `∇_{log σ} KL = 1 − (σ_a² + (μ_a − μ)²)/σ²`.
//! The network is stepped along `−(1/N) Σ_i z*_i` pushed through `μ_θ` (and summed over rows for
//! the shared `log σ`).

use candle_core::Tensor;
use rl_buffer::SegmentBatch;

use crate::agent::{Acer, AcerMetrics, Nets, Rows, to_f64};
use crate::networks::state_action;
use crate::{AcerError, Result};
use rl_nn::AgentError;

/// `log N(x; μ, σ²)` summed over `d` components.
pub(crate) fn log_density(x: &[f64], mean: &[f64], std: &[f64]) -> f64 {
    const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;
    x.iter()
        .zip(mean)
        .zip(std)
        .map(|((x, m), s)| {
            let u = (x - m) / s;
            -0.5 * u * u - s.ln() - HALF_LN_2PI
        })
        .sum()
}

/// Adds `w · ∇_φ log f(x|φ)` for `φ = (μ, log σ)` to `g` (`2d` values: means, then log stds).
pub(crate) fn add_score(g: &mut [f64], w: f64, x: &[f64], mean: &[f64], std: &[f64]) {
    let d = mean.len();
    for j in 0..d {
        let u = (x[j] - mean[j]) / std[j];
        g[j] += w * u / std[j];
        g[d + j] += w * (u * u - 1.0);
    }
}

/// `k = ∇_φ KL(f(·|φ_avg) ‖ f(·|φ))` for `φ = (μ, log σ)` (`2d` values).
pub(crate) fn kl_gradient(
    mean: &[f64],
    std: &[f64],
    avg_mean: &[f64],
    avg_std: &[f64],
) -> Vec<f64> {
    let d = mean.len();
    let mut k = vec![0.0; 2 * d];
    for j in 0..d {
        let var = std[j] * std[j];
        k[j] = (mean[j] - avg_mean[j]) / var;
        k[d + j] = 1.0 - (avg_std[j] * avg_std[j] + (avg_mean[j] - mean[j]).powi(2)) / var;
    }
    k
}

impl Acer {
    /// Parameter gradients (store order) and metrics of one continuous update on `batch`.
    pub(crate) fn continuous_gradients(
        &mut self,
        batch: &SegmentBatch,
    ) -> Result<(Vec<Option<Tensor>>, AcerMetrics)> {
        let (Nets::Continuous(net), Nets::Continuous(avg_net)) = (&self.nets, &self.avg_nets)
        else {
            return Err(AcerError::from(AgentError::UnsupportedEnv(
                "a discrete agent given continuous actions".into(),
            )));
        };
        let cfg = self.config.clone();
        let dtype = self.params.dtype();
        let rows = Rows::of(batch)?.cast(dtype)?;
        let n_rows = rows.b * rows.t;
        let nf = n_rows as f64;
        let d = self.action.size();
        let n_samples = cfg.n_samples;
        let device = self.device.clone();

        // 1. The policy, the average policy and V at every s_t; ρ against the behaviour policy.
        let (mean_t, mean_trace) = net.mean.forward_traced(&rows.obs)?;
        let mean = to_f64(&mean_t)?;
        let log_std = to_f64(&self.log_std_tensor()?)?;
        let std: Vec<f64> = log_std.iter().map(|l| l.exp()).collect();
        let avg_mean = to_f64(&avg_net.mean.forward_detached(&rows.obs)?)?;
        let avg_std: Vec<f64> = match &self.avg_log_std {
            Some(v) => to_f64(v.as_tensor())?.iter().map(|l| l.exp()).collect(),
            None => {
                return Err(AcerError::from(AgentError::UnsupportedEnv(
                    "no average log_std".into(),
                )));
            }
        };
        let (v_t, v_trace) = net.value.forward_traced(&rows.obs)?;
        let v = to_f64(&v_t)?;
        let behaviour = to_f64(&batch.behaviour)?;
        let actions = to_f64(&batch.actions)?;
        if behaviour.len() != n_rows * 2 * d || actions.len() != n_rows * d {
            return Err(AcerError::Config(format!(
                "a batch of {n_rows} steps with {} behaviour values and {} action values, expected {} and {}",
                behaviour.len(),
                actions.len(),
                n_rows * 2 * d,
                n_rows * d
            )));
        }
        let row = |x: &[f64], i: usize| x[i * d..(i + 1) * d].to_vec();
        let mu_mean = |i: usize| behaviour[i * 2 * d..i * 2 * d + d].to_vec();
        let mu_std = |i: usize| behaviour[i * 2 * d + d..(i + 1) * 2 * d].to_vec();
        let rho: Vec<f64> = (0..n_rows)
            .map(|i| {
                let a = row(&actions, i);
                (log_density(&a, &row(&mean, i), &std) - log_density(&a, &mu_mean(i), &mu_std(i)))
                    .exp()
            })
            .collect();

        // 2. The SDN: A at [s, a_t], at n samples [s, u_j] and at one [s, a'] for the bias
        //    correction, all in one pass (rows: taken, then u_1 … u_n, then a').
        let draws = (n_samples + 1) * n_rows * d;
        let eps = match self.noise.take() {
            Some(eps) if eps.len() == draws => eps,
            Some(eps) => {
                return Err(AcerError::Config(format!(
                    "set_update_noise gave {} draws, this update takes {draws}",
                    eps.len()
                )));
            }
            None => self.rng.normal_vec(draws),
        };
        let sampled: Vec<f64> = (0..draws)
            .map(|k| {
                let (i, j) = ((k / d) % n_rows, k % d);
                mean[i * d + j] + std[j] * f64::from(eps[k])
            })
            .collect();
        let obs_rep = rows.obs.repeat((n_samples + 2, 1))?;
        let all_actions: Vec<f64> = actions.iter().chain(&sampled).copied().collect();
        let all_actions = Tensor::from_vec(all_actions, ((n_samples + 2) * n_rows, d), &device)?
            .to_dtype(dtype)?;
        let (adv_t, adv_trace) = net
            .advantage
            .forward_traced(&state_action(&obs_rep, &all_actions)?)?;
        let adv = to_f64(&adv_t)?;
        let mean_adv_u: Vec<f64> = (0..n_rows)
            .map(|i| (1..=n_samples).map(|j| adv[j * n_rows + i]).sum::<f64>() / n_samples as f64)
            .collect();
        let q_tilde: Vec<f64> = (0..n_rows).map(|i| v[i] + adv[i] - mean_adv_u[i]).collect();
        let q_tilde_prime: Vec<f64> = (0..n_rows)
            .map(|i| v[i] + adv[(n_samples + 1) * n_rows + i] - mean_adv_u[i])
            .collect();

        // 3. Retrace with c = min(1, ρ^{1/d}) and Q_opc with c = 1, bootstrapping from V.
        let v_last = to_f64(&self.values(&rows.last_obs)?)?;
        let v_final = rows
            .finals
            .iter()
            .map(|(i, o)| Ok((*i, to_f64(&self.values(o)?)?[0])))
            .collect::<Result<Vec<_>>>()?;
        let next_v = rows.next_values(&v, &v_last, &v_final);
        let traces = rl_math::returns::truncated_traces_pow(&rho, d);
        let q_ret = rows.retrace(&q_tilde, &v, &next_v, &traces, cfg.gamma)?;
        let q_opc = rows.retrace(&q_tilde, &v, &next_v, &vec![1.0; n_rows], cfg.gamma)?;

        // 4. ĝ, k and z* per row; the policy's gradients −(1/N) z*.
        let c = cfg.correction_term;
        let mut grad_mean = vec![0f64; n_rows * d];
        let mut grad_log_std = vec![0f64; d];
        let (mut objective, mut tr_scale) = (0.0, 0.0);
        let entropy_per_row: f64 = log_std
            .iter()
            .map(|l| l + 0.5 + 0.918_938_533_204_672_8)
            .sum();
        for i in 0..n_rows {
            let (m, a) = (row(&mean, i), row(&actions, i));
            let a_prime =
                sampled[(n_samples * n_rows + i) * d..(n_samples * n_rows + i + 1) * d].to_vec();
            let mut g = vec![0.0; 2 * d];
            let w = rho[i].min(c) * (q_opc[i] - v[i]);
            add_score(&mut g, w, &a, &m, &std);
            objective += w * log_density(&a, &m, &std);
            if cfg.bias_correction {
                let rho_prime = (log_density(&a_prime, &m, &std)
                    - log_density(&a_prime, &mu_mean(i), &mu_std(i)))
                .exp();
                let w = (1.0 - c / rho_prime).max(0.0) * (q_tilde_prime[i] - v[i]);
                add_score(&mut g, w, &a_prime, &m, &std);
                objective += w * log_density(&a_prime, &m, &std);
            }
            if cfg.entropy_in_trust_region {
                for gj in &mut g[d..] {
                    *gj += cfg.ent_coef;
                }
            }
            if !cfg.learn_log_std {
                g[d..].fill(0.0);
            }
            if cfg.trust_region {
                let mut k = kl_gradient(&m, &std, &row(&avg_mean, i), &avg_std);
                if !cfg.learn_log_std {
                    k[d..].fill(0.0);
                }
                tr_scale += crate::trust_region::project(&mut g, &k, cfg.delta);
            }
            if !cfg.entropy_in_trust_region && cfg.learn_log_std {
                for gj in &mut g[d..] {
                    *gj += cfg.ent_coef;
                }
            }
            for j in 0..d {
                grad_mean[i * d + j] = -g[j] / nf;
                grad_log_std[j] -= g[d + j] / nf;
            }
        }
        objective += cfg.ent_coef * entropy_per_row * nf;

        // 5. The critic: ½ (Q_ret − Q̃)² + ½ (V_target − V)², scaled by q_coef. ∂/∂V gets both
        //    terms (Q̃ contains V); ∂/∂A(s, a_t) = e_q, ∂/∂A(s, u_j) = −e_q / n.
        let mut grad_v = vec![0f64; n_rows];
        let mut grad_adv = vec![0f64; (n_samples + 2) * n_rows];
        let mut q_loss = 0.0;
        for i in 0..n_rows {
            let v_target = rho[i].min(1.0) * (q_ret[i] - q_tilde[i]) + v[i];
            let (e_q, e_v) = (q_tilde[i] - q_ret[i], v[i] - v_target);
            q_loss += 0.5 * (e_q * e_q + e_v * e_v) / nf;
            let s = cfg.q_coef / nf;
            grad_v[i] = s * (e_q + e_v);
            grad_adv[i] = s * e_q;
            for j in 1..=n_samples {
                grad_adv[j * n_rows + i] = -s * e_q / n_samples as f64;
            }
        }

        // Built in f64 and cast to the parameters' dtype (for f32, the same rounding as `as f32`).
        let grad_mean = Tensor::from_vec(grad_mean, (n_rows, d), &device)?.to_dtype(dtype)?;
        let grad_v = Tensor::from_vec(grad_v, (n_rows, 1), &device)?.to_dtype(dtype)?;
        let grad_adv =
            Tensor::from_vec(grad_adv, ((n_samples + 2) * n_rows, 1), &device)?.to_dtype(dtype)?;
        let mut grads = net
            .mean
            .backward(&mean_trace, &grad_mean, true, false)?
            .params;
        grads.extend(net.value.backward(&v_trace, &grad_v, true, false)?.params);
        grads.extend(
            net.advantage
                .backward(&adv_trace, &grad_adv, true, false)?
                .params,
        );
        grads.push(Some(
            Tensor::from_vec(grad_log_std, d, &device)?.to_dtype(dtype)?,
        ));
        let metrics = AcerMetrics {
            policy_loss: -objective / nf,
            q_loss,
            entropy: entropy_per_row,
            rho: rho.iter().sum::<f64>() / nf,
            trust_region_scale: tr_scale / nf,
            grad_norm: 0.0,
            off_policy: false,
        };
        Ok((grads, metrics))
    }
}
