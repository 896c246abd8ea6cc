//! rl-math's behaviour beyond the PyTorch goldens: hand-checked returns, reproducible randomness,
//! initializations, Polyak averaging, resumable optimizers, and errors for bad input.

#![allow(clippy::unwrap_used, reason = "test code: a panic is a test failure")]

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::VarMap;
use rl_math::clip::clip_grad_norm;
use rl_math::distributions::{Categorical, LogStdBounds, TanhGaussian};
use rl_math::optim::{Adam, AdamConfig, Optimizer, RmsProp, RmsPropConfig};
use rl_math::polyak::{polyak_update, polyak_update_varmaps};
use rl_math::returns::{Trajectory, gae, n_step_returns, next_values, retrace, truncated_traces};
use rl_math::{MathError, SeededRng};

fn vec1(t: &Tensor) -> Vec<f64> {
    t.to_dtype(DType::F64)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap()
}

const F: bool = false;
const T: bool = true;

#[test]
fn n_step_returns_by_hand_with_a_termination_and_a_truncation() {
    // Steps 0-1: an episode that terminates at 1. Steps 2-3: one truncated at 3, V(final) = 10.
    // Step 4: a new episode cut by the end of the rollout, V(s_5) = 20.
    let traj = Trajectory {
        rewards: &[1.0, 2.0, 3.0, 4.0, 5.0],
        values: &[0.0; 5],
        next_values: &[0.0, 99.0, 0.0, 10.0, 20.0],
        terminated: &[F, T, F, F, F],
        truncated: &[F, F, F, T, F],
    };
    let g = 0.5;
    let r = n_step_returns(&traj, g).unwrap();
    assert_eq!(
        r,
        [
            1.0 + g * 2.0,
            2.0,
            3.0 + g * (4.0 + g * 10.0),
            4.0 + g * 10.0,
            5.0 + g * 20.0
        ]
    );
}

#[test]
fn retrace_by_hand_with_a_termination_inside() {
    // Three steps; the episode terminates at step 1, step 2 starts a new one whose bootstrap is 4.
    let (g, q, v) = (0.9, [1.0, 2.0, 3.0], [0.5, 1.5, 2.5]);
    let traj = Trajectory {
        rewards: &[1.0, 1.0, 1.0],
        values: &v,
        next_values: &[1.5, 123.0, 4.0],
        terminated: &[F, T, F],
        truncated: &[F, F, F],
    };
    let rho = [2.0, 0.5, 0.25];
    let c = truncated_traces(&rho);
    assert_eq!(c, [1.0, 0.5, 0.25]);
    let got = retrace(&traj, &q, &c, g).unwrap();
    let q2 = 1.0 + g * 4.0; // bootstrap from V(s_3)
    let q1 = 1.0; // terminated: reward only
    let carried = c[1] * (q1 - q[1]) + v[1]; // what step 0 sees from step 1
    let q0 = 1.0 + g * carried;
    assert_eq!(got, [q0, q1, q2]);
}

#[test]
fn gae_with_lambda_zero_is_the_one_step_td_error() {
    let traj = Trajectory {
        rewards: &[1.0, 0.0, 2.0],
        values: &[0.5, 0.25, 1.0],
        next_values: &next_values(&[0.5, 0.25, 1.0], 3.0, &[]),
        terminated: &[F, F, F],
        truncated: &[F, F, F],
    };
    let adv = gae(&traj, 0.9, 0.0).unwrap().advantages;
    assert_eq!(
        adv,
        [
            1.0 + 0.9 * 0.25 - 0.5,
            0.9 * 1.0 - 0.25,
            2.0 + 0.9 * 3.0 - 1.0
        ]
    );
}

#[test]
fn returns_reject_bad_input() {
    let traj = Trajectory {
        rewards: &[1.0, 2.0],
        values: &[0.0],
        next_values: &[0.0, 0.0],
        terminated: &[F, F],
        truncated: &[F, F],
    };
    assert!(matches!(gae(&traj, 0.9, 0.9), Err(MathError::Shape(_))));
    let ok = Trajectory {
        values: &[0.0, 0.0],
        ..traj
    };
    assert!(matches!(
        gae(&ok, 1.5, 0.9),
        Err(MathError::InvalidArgument(_))
    ));
    assert!(matches!(
        retrace(&ok, &[0.0], &[1.0, 1.0], 0.9),
        Err(MathError::Shape(_))
    ));
}

#[test]
fn the_same_seed_gives_the_same_tensors_and_state_round_trips() {
    let d = Device::Cpu;
    let mut a = SeededRng::new(7);
    let mut b = SeededRng::new(7);
    assert_eq!(
        vec1(&a.normal(&[3, 4], DType::F32, &d).unwrap()),
        vec1(&b.normal(&[3, 4], DType::F32, &d).unwrap())
    );
    let saved = a.state();
    let next = vec1(&a.uniform(&[5], -1.0, 1.0, DType::F64, &d).unwrap());
    let mut resumed = SeededRng::from_state(
        serde_json::from_str(&serde_json::to_string(&saved).unwrap()).unwrap(),
    );
    assert_eq!(
        vec1(&resumed.uniform(&[5], -1.0, 1.0, DType::F64, &d).unwrap()),
        next
    );
    assert_ne!(
        vec1(&SeededRng::new(8).normal(&[3, 4], DType::F32, &d).unwrap()),
        vec1(&SeededRng::new(7).normal(&[3, 4], DType::F32, &d).unwrap())
    );
}

#[test]
fn orthogonal_init_has_orthonormal_rows_or_columns_times_gain() {
    let d = Device::Cpu;
    let mut rng = SeededRng::new(0);
    for (rows, cols, gain) in [(64, 16, 2f64.sqrt()), (16, 64, 0.01), (32, 32, 1.0)] {
        let w = rng.orthogonal(rows, cols, gain, DType::F64, &d).unwrap();
        let gram = if rows >= cols {
            w.t().unwrap().matmul(&w).unwrap()
        } else {
            w.matmul(&w.t().unwrap()).unwrap()
        };
        let n = rows.min(cols);
        let g = vec1(&gram);
        for i in 0..n {
            for j in 0..n {
                let want = if i == j { gain * gain } else { 0.0 };
                assert!(
                    (g[i * n + j] - want).abs() < 1e-12,
                    "({rows}x{cols}) gram[{i}][{j}] = {}",
                    g[i * n + j]
                );
            }
        }
    }
}

#[test]
fn pytorch_default_linear_init_is_within_its_bound() {
    let mut rng = SeededRng::new(1);
    let (w, b) = rng.linear_default(16, 8, DType::F32, &Device::Cpu).unwrap();
    assert_eq!((w.dims(), b.dims()), (&[8, 16][..], &[8][..]));
    assert!(vec1(&w).iter().chain(&vec1(&b)).all(|x| x.abs() <= 0.25));
}

#[test]
fn polyak_moves_the_target_by_tau() {
    let d = Device::Cpu;
    let src = Var::from_tensor(&Tensor::new(&[1.0f64, 2.0], &d).unwrap()).unwrap();
    let dst = Var::from_tensor(&Tensor::new(&[0.0f64, 0.0], &d).unwrap()).unwrap();
    polyak_update(std::slice::from_ref(&src), std::slice::from_ref(&dst), 0.25).unwrap();
    assert_eq!(vec1(dst.as_tensor()), [0.25, 0.5]);
    polyak_update(std::slice::from_ref(&src), std::slice::from_ref(&dst), 1.0).unwrap();
    assert_eq!(vec1(dst.as_tensor()), [1.0, 2.0]);
    assert!(polyak_update(std::slice::from_ref(&src), std::slice::from_ref(&dst), 1.5).is_err());
    let other = Var::from_tensor(&Tensor::new(&[0.0f64], &d).unwrap()).unwrap();
    assert!(matches!(
        polyak_update(&[src], &[other], 0.5),
        Err(MathError::Shape(_))
    ));

    let (a, b) = (VarMap::new(), VarMap::new());
    a.get((2,), "w", candle_nn::Init::Const(1.0), DType::F32, &d)
        .unwrap();
    b.get((2,), "w", candle_nn::Init::Const(0.0), DType::F32, &d)
        .unwrap();
    polyak_update_varmaps(&a, &b, 0.5).unwrap();
    assert_eq!(
        vec1(&b.data().lock().unwrap()["w"].as_tensor().clone()),
        [0.5, 0.5]
    );
    let c = VarMap::new();
    c.get((2,), "other", candle_nn::Init::Const(0.0), DType::F32, &d)
        .unwrap();
    assert!(matches!(
        polyak_update_varmaps(&a, &c, 0.5),
        Err(MathError::StateMismatch(_))
    ));
}

/// A small problem for the optimizers: fit `w` to `target` in squared error.
fn loss(w: &Var) -> Tensor {
    let target = Tensor::new(&[1.0f64, -2.0, 3.0], &Device::Cpu).unwrap();
    (w.as_tensor() - target)
        .unwrap()
        .sqr()
        .unwrap()
        .sum_all()
        .unwrap()
}

fn fresh() -> Var {
    Var::from_tensor(&Tensor::new(&[0.5f64, 0.5, 0.5], &Device::Cpu).unwrap()).unwrap()
}

#[test]
fn a_restored_optimizer_continues_exactly_where_it_stopped() {
    type Build = fn(Var) -> Box<dyn Optimizer>;
    let builds: [Build; 2] = [
        |w| {
            Box::new(
                Adam::new(
                    vec![("w".into(), w)],
                    AdamConfig {
                        lr: 0.1,
                        ..AdamConfig::default()
                    },
                )
                .unwrap(),
            )
        },
        |w| {
            Box::new(
                RmsProp::new(
                    vec![("w".into(), w)],
                    RmsPropConfig {
                        lr: 0.1,
                        ..RmsPropConfig::default()
                    },
                )
                .unwrap(),
            )
        },
    ];
    for build in builds {
        let w = fresh();
        let mut straight = build(w.clone());
        for _ in 0..6 {
            straight.backward_step(&loss(&w)).unwrap();
        }

        let w2 = fresh();
        let mut first = build(w2.clone());
        for _ in 0..3 {
            first.backward_step(&loss(&w2)).unwrap();
        }
        let state = first.state().unwrap();
        let w3 = Var::from_tensor(&w2.as_tensor().copy().unwrap()).unwrap();
        let mut second = build(w3.clone());
        second.load_state(&state).unwrap();
        for _ in 0..3 {
            second.backward_step(&loss(&w3)).unwrap();
        }
        assert_eq!(vec1(w3.as_tensor()), vec1(w.as_tensor()));
    }
}

#[test]
fn mismatched_optimizer_state_is_refused() {
    let adam = Adam::new(vec![("w".into(), fresh())], AdamConfig::default()).unwrap();
    let mut rms = RmsProp::new(vec![("w".into(), fresh())], RmsPropConfig::default()).unwrap();
    let err = rms.load_state(&adam.state().unwrap()).unwrap_err();
    assert!(err.to_string().contains("adam"), "{err}");

    let renamed = Adam::new(vec![("v".into(), fresh())], AdamConfig::default()).unwrap();
    let mut adam = adam;
    assert!(matches!(
        adam.load_state(&renamed.state().unwrap()),
        Err(MathError::StateMismatch(_))
    ));

    let wider = Var::from_tensor(&Tensor::zeros(4, DType::F64, &Device::Cpu).unwrap()).unwrap();
    let wide = Adam::new(vec![("w".into(), wider)], AdamConfig::default()).unwrap();
    let err = adam.load_state(&wide.state().unwrap()).unwrap_err();
    assert!(err.to_string().contains("shape"), "{err}");
    assert!(
        Adam::new(
            vec![("w".into(), fresh()), ("w".into(), fresh())],
            AdamConfig::default()
        )
        .is_err()
    );
    assert!(
        Adam::new(
            vec![],
            AdamConfig {
                lr: -1.0,
                ..AdamConfig::default()
            }
        )
        .is_err()
    );
}

#[test]
fn a_nan_loss_is_an_error_and_changes_nothing() {
    let w = fresh();
    let mut adam = Adam::new(vec![("w".into(), w.clone())], AdamConfig::default()).unwrap();
    let nan_loss = (loss(&w) * f64::NAN).unwrap();
    let err = adam.backward_step(&nan_loss).unwrap_err();
    assert!(matches!(err, MathError::NonFinite { .. }), "{err}");
    assert!(err.to_string().contains("loss"));
    assert_eq!(vec1(w.as_tensor()), [0.5, 0.5, 0.5]);

    let mut grads = nan_loss.backward().unwrap();
    assert!(matches!(
        clip_grad_norm(&mut grads, &[w], 1.0),
        Err(MathError::NonFinite { .. })
    ));
}

#[test]
fn distributions_reject_mismatched_shapes() {
    let d = Device::Cpu;
    let mean = Tensor::zeros((2, 3), DType::F32, &d).unwrap();
    assert!(matches!(
        TanhGaussian::new(
            &mean,
            &Tensor::zeros((2, 2), DType::F32, &d).unwrap(),
            LogStdBounds::default()
        ),
        Err(MathError::Shape(_))
    ));
    let pi = TanhGaussian::new(&mean, &mean, LogStdBounds::default()).unwrap();
    assert!(matches!(
        pi.rsample(&Tensor::zeros((3, 3), DType::F32, &d).unwrap()),
        Err(MathError::Shape(_))
    ));
    let cat = Categorical::from_logits(&mean).unwrap();
    assert!(matches!(
        cat.log_prob(&Tensor::new(&[0u32], &d).unwrap()),
        Err(MathError::Shape(_))
    ));
    assert!(Categorical::from_logits(&Tensor::zeros(3, DType::F32, &d).unwrap()).is_err());
}

#[test]
fn categorical_samples_follow_the_probabilities() {
    let logits = Tensor::new(&[[0.0f32, 1.0, 2.0]], &Device::Cpu)
        .unwrap()
        .repeat((4000, 1))
        .unwrap();
    let cat = Categorical::from_logits(&logits).unwrap();
    let mut rng = SeededRng::new(3);
    let draws = cat.sample(&mut rng).unwrap();
    let p = vec1(&cat.probs().unwrap().get(0).unwrap());
    for (a, p) in p.iter().enumerate() {
        let freq = draws.iter().filter(|&&x| x == a as u32).count() as f64 / 4000.0;
        assert!((freq - p).abs() < 0.03, "action {a}: {freq} vs {p}");
    }
    assert_eq!(cat.mode().unwrap()[0], 2);
    assert_eq!(
        draws,
        Categorical::from_logits(&logits)
            .unwrap()
            .sample(&mut SeededRng::new(3))
            .unwrap()
    );
}

#[test]
fn tanh_rescaled_log_std_stays_in_its_bounds() {
    let raw = Tensor::new(&[-100.0f64, 0.0, 100.0], &Device::Cpu).unwrap();
    let b = LogStdBounds::TanhRescale {
        min: -5.0,
        max: 2.0,
    };
    assert_eq!(vec1(&b.apply(&raw).unwrap()), [-5.0, -1.5, 2.0]);
}
