//! ACER's update for discrete actions (Wang et al. 2017, section 3 and algorithm 2).
//!
//! The policy's statistics `φ` are the probabilities `f(·|s_t)` (as in the paper and OpenAI
//! Baselines). Every quantity below is per row `i` (one step of one segment); `N = B·T` rows.
//! The gradients with respect to `f`, the trust-region projection and the push through the
//! softmax are written out, so nothing relies on gradients of intermediate tensors (which candle
//! drops).

use candle_core::Tensor;

use crate::agent::{Acer, AcerMetrics, Nets, Rows, to_f64};
use crate::{AcerError, Result};
use rl_buffer::SegmentBatch;
use rl_nn::AgentError;

/// Added to `μ(a|s)` in `ρ = f(a|s) / μ(a|s)` (OpenAI Baselines' 1e-6): a behaviour probability
/// stored as an `f32` that underflowed to 0 gives a large finite weight, not infinity.
pub(crate) const RHO_EPS: f64 = 1e-6;

/// Per-row quantities of one discrete update, in `f64`.
pub(crate) struct DiscreteTerms {
    /// `ĝ_i = ∂(policy objective)/∂f(·|s_i)` before the projection, `N × n`.
    #[cfg_attr(not(test), allow(dead_code, reason = "the tests compare it with z"))]
    pub g: Vec<f64>,
    /// `z*_i` after the projection (and the entropy, if added after it), `N × n`.
    pub z: Vec<f64>,
    /// The projection's scale `max(0, (kᵀĝ − δ)/‖k‖²)` per row (0 without the trust region).
    pub scale: Vec<f64>,
}

/// Softmax of each `n`-wide row, in `f64`.
pub(crate) fn softmax_rows(logits: &[f64], n: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity(logits.len());
    for row in logits.chunks(n) {
        let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let e: Vec<f64> = row.iter().map(|&l| (l - max).exp()).collect();
        let sum: f64 = e.iter().sum();
        out.extend(e.iter().map(|x| x / sum));
    }
    out
}

impl Acer {
    /// Parameter gradients (store order) and metrics of one discrete update on `batch`.
    pub(crate) fn discrete_gradients(
        &self,
        batch: &SegmentBatch,
    ) -> Result<(Vec<Option<Tensor>>, AcerMetrics)> {
        let (Nets::Discrete(net), Nets::Discrete(avg_net)) = (&self.nets, &self.avg_nets) else {
            return Err(AcerError::from(AgentError::UnsupportedEnv(
                "a continuous agent given discrete actions".into(),
            )));
        };
        let cfg = &self.config;
        let dtype = self.params.dtype();
        let rows = Rows::of(batch)?.cast(dtype)?;
        let n_rows = rows.b * rows.t;
        let n = self.behaviour_width();
        let nf = n_rows as f64;

        // 1. The networks at every s_t; the average policy; ρ against the behaviour policy.
        let (logits, q, trace) = net.forward_traced(&rows.obs)?;
        let f = softmax_rows(&to_f64(&logits)?, n);
        let f_avg = softmax_rows(&to_f64(&avg_net.forward(&rows.obs)?.0)?, n);
        let q = to_f64(&q)?;
        let mu = to_f64(&batch.behaviour)?;
        let actions: Vec<usize> = batch
            .actions
            .flatten_all()?
            .to_vec1::<u32>()?
            .iter()
            .map(|&a| a as usize)
            .collect();
        if mu.len() != n_rows * n || actions.len() != n_rows {
            return Err(AcerError::Config(format!(
                "a batch of {n_rows} steps with {} behaviour values and {} actions, expected {} and {n_rows}",
                mu.len(),
                actions.len(),
                n_rows * n
            )));
        }
        let rho: Vec<f64> = f.iter().zip(&mu).map(|(f, m)| f / (m + RHO_EPS)).collect();
        let v: Vec<f64> = (0..n_rows)
            .map(|i| (0..n).map(|b| f[i * n + b] * q[i * n + b]).sum())
            .collect();
        let q_a: Vec<f64> = (0..n_rows).map(|i| q[i * n + actions[i]]).collect();
        let rho_a: Vec<f64> = (0..n_rows).map(|i| rho[i * n + actions[i]]).collect();

        // 2. Retrace (eq. 5), traces c_t = min(1, ρ_t), from V of the state after the segment.
        let v_last = to_f64(&self.values(&rows.last_obs)?)?;
        let v_final = rows
            .finals
            .iter()
            .map(|(i, o)| Ok((*i, to_f64(&self.values(o)?)?[0])))
            .collect::<Result<Vec<_>>>()?;
        let next_v = rows.next_values(&v, &v_last, &v_final);
        let traces = rl_math::returns::truncated_traces(&rho_a);
        let q_ret = rows.retrace(&q_a, &v, &next_v, &traces, cfg.gamma)?;

        // 3–4. ĝ, k, the projection, per row; then ∂L/∂logits = −(1/N) f ⊙ (z − fᵀz).
        let terms = self.discrete_terms(&f, &f_avg, &q, &v, &rho, &actions, &q_ret);
        let mut grad_logits = vec![0f64; n_rows * n];
        let (mut objective, mut entropy, mut tr_scale) = (0.0, 0.0, 0.0);
        for i in 0..n_rows {
            let r = i * n..(i + 1) * n;
            let (fi, zi) = (&f[r.clone()], &terms.z[r.clone()]);
            let fz: f64 = fi.iter().zip(zi).map(|(f, z)| f * z).sum();
            for b in 0..n {
                grad_logits[i * n + b] = -fi[b] * (zi[b] - fz) / nf;
            }
            // What the gradient climbs, for logging: the truncated term, the bias correction and
            // the entropy bonus (their values, the coefficients held fixed).
            let h: f64 = -fi.iter().map(|&p| p * p.max(1e-300).ln()).sum::<f64>();
            let a = actions[i];
            let mut obj =
                rho_a[i].min(cfg.correction_term) * fi[a].max(1e-300).ln() * (q_ret[i] - v[i]);
            if cfg.bias_correction {
                for b in 0..n {
                    let w = (1.0 - cfg.correction_term / rho[i * n + b]).max(0.0);
                    obj += w * fi[b] * fi[b].max(1e-300).ln() * (q[i * n + b] - v[i]);
                }
            }
            objective += obj + cfg.ent_coef * h;
            entropy += h;
            tr_scale += terms.scale[i];
        }

        // 5. The critic: q_coef · ½ mean((sg(Q_ret) − Q(s, a))²), gradient on the taken action.
        let mut grad_q = vec![0f64; n_rows * n];
        let mut q_loss = 0.0;
        for i in 0..n_rows {
            let e = q_a[i] - q_ret[i];
            q_loss += 0.5 * e * e / nf;
            grad_q[i * n + actions[i]] = cfg.q_coef * e / nf;
        }
        let device = self.device.clone();
        // Built in f64 and cast to the parameters' dtype (for f32, the same rounding as `as f32`).
        let grad_logits = Tensor::from_vec(grad_logits, (n_rows, n), &device)?.to_dtype(dtype)?;
        let grad_q = Tensor::from_vec(grad_q, (n_rows, n), &device)?.to_dtype(dtype)?;
        let grads = net.backward(&trace, &grad_logits, &grad_q)?;
        let metrics = AcerMetrics {
            policy_loss: -objective / nf,
            q_loss,
            entropy: entropy / nf,
            rho: rho_a.iter().sum::<f64>() / nf,
            trust_region_scale: tr_scale / nf,
            grad_norm: 0.0,
            off_policy: false,
        };
        Ok((grads, metrics))
    }

    /// `ĝ` and `z*` for every row (section 3.2–3.3; Baselines' `acer` for the entropy's place):
    ///
    /// ```text
    /// ĝ_b = min(c, ρ_a) (Q_ret − V) / f_a · [b = a]                 truncated importance weight
    ///     + [1 − c/ρ_b]₊ (Q_b − V)                                  bias correction (eq. 9):
    ///                                                                 ∇_f of sg([·]₊ f_b) log f_b
    ///     − ent_coef (log f_b + 1)                                  ∇_f H(f), if inside the region
    /// k_b = −f_avg,b / f_b                                          ∇_f KL(f_avg ‖ f)
    /// z*  = ĝ − max(0, (kᵀĝ − δ) / ‖k‖²) k                          eq. 13
    /// ```
    #[allow(
        clippy::too_many_arguments,
        reason = "the per-row quantities of one update"
    )]
    pub(crate) fn discrete_terms(
        &self,
        f: &[f64],
        f_avg: &[f64],
        q: &[f64],
        v: &[f64],
        rho: &[f64],
        actions: &[usize],
        q_ret: &[f64],
    ) -> DiscreteTerms {
        let cfg = &self.config;
        let n = self.behaviour_width();
        let c = cfg.correction_term;
        let mut g = vec![0.0; f.len()];
        let mut z = vec![0.0; f.len()];
        let mut scale = vec![0.0; v.len()];
        for i in 0..v.len() {
            let r = i * n..(i + 1) * n;
            let a = actions[i];
            let fi = &f[r.clone()];
            let gi = &mut g[r.clone()];
            gi[a] += rho[i * n + a].min(c) * (q_ret[i] - v[i]) / fi[a].max(1e-300);
            if cfg.bias_correction {
                for b in 0..n {
                    gi[b] += (1.0 - c / rho[i * n + b]).max(0.0) * (q[i * n + b] - v[i]);
                }
            }
            let d_entropy: Vec<f64> = fi.iter().map(|&p| -(p.max(1e-300).ln() + 1.0)).collect();
            if cfg.entropy_in_trust_region {
                for b in 0..n {
                    gi[b] += cfg.ent_coef * d_entropy[b];
                }
            }
            let zi = &mut z[r.clone()];
            zi.copy_from_slice(gi);
            if cfg.trust_region {
                let k: Vec<f64> = (0..n)
                    .map(|b| -f_avg[i * n + b] / fi[b].max(1e-300))
                    .collect();
                scale[i] = crate::trust_region::project(zi, &k, cfg.delta);
            }
            if !cfg.entropy_in_trust_region {
                for b in 0..n {
                    zi[b] += cfg.ent_coef * d_entropy[b];
                }
            }
        }
        DiscreteTerms { g, z, scale }
    }
}
