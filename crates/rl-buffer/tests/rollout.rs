//! The rollout buffer: returns and advantages per env, truncation bootstrapping, batch layout.

#![allow(clippy::unwrap_used, reason = "test code: a panic is a test failure")]

use candle_core::{DType, Device};
use rl_buffer::{ActionSpec, BufferError, RolloutBuffer, RolloutStep};

/// Two envs, three steps. Env 0: truncated at step 1 (V(final) = 10), env 1: terminated at step 0.
fn filled() -> RolloutBuffer {
    let mut buf = RolloutBuffer::new(3, 2, 1, ActionSpec::Discrete { n: 2 }).unwrap();
    let steps: [([f64; 2], [bool; 2], [bool; 2]); 3] = [
        ([1.0, 2.0], [false, true], [false, false]),
        ([1.0, 2.0], [false, false], [true, false]),
        ([1.0, 2.0], [false, false], [false, false]),
    ];
    for (t, (rewards, terminated, truncated)) in steps.iter().enumerate() {
        buf.push(RolloutStep {
            obs: &[t as f32, 10.0 + t as f32],
            actions: &[0.0, 1.0],
            rewards,
            values: &[0.5, 0.25],
            log_probs: &[-0.7, -0.7],
            terminated,
            truncated,
            final_values: &[10.0, 0.0],
        })
        .unwrap();
    }
    buf
}

#[test]
fn n_step_returns_bootstrap_truncation_from_the_final_value_and_stop_at_termination() {
    let mut buf = filled();
    let g = 0.9;
    buf.compute_returns_and_advantages(&[3.0, 4.0], g, 1.0)
        .unwrap();
    let r = buf.returns(); // time-major: [t0e0, t0e1, t1e0, t1e1, t2e0, t2e1]
    let env0 = [1.0 + g * (1.0 + g * 10.0), 1.0 + g * 10.0, 1.0 + g * 3.0];
    let env1 = [2.0, 2.0 + g * (2.0 + g * 4.0), 2.0 + g * 4.0];
    let want = [env0[0], env1[0], env0[1], env1[1], env0[2], env1[2]];
    for (got, want) in r.iter().zip(want) {
        assert!((got - want).abs() < 1e-12, "{r:?} vs {want}");
    }
    let adv = buf.advantages();
    assert!((adv[0] - (want[0] - 0.5)).abs() < 1e-12);
}

#[test]
fn the_batch_is_time_major_with_matching_targets() {
    let mut buf = filled();
    buf.compute_returns_and_advantages(&[3.0, 4.0], 0.9, 0.95)
        .unwrap();
    let batch = buf.batch(&Device::Cpu).unwrap();
    assert_eq!(batch.obs.dims(), [6, 1]);
    assert_eq!(
        batch.obs.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
        [0.0, 10.0, 1.0, 11.0, 2.0, 12.0]
    );
    assert_eq!(batch.actions.to_vec1::<u32>().unwrap(), [0, 1, 0, 1, 0, 1]);
    let returns: Vec<f32> = batch
        .returns
        .to_dtype(DType::F32)
        .unwrap()
        .to_vec1()
        .unwrap();
    for (a, b) in returns.iter().zip(buf.returns()) {
        assert!((f64::from(*a) - b).abs() < 1e-5);
    }
}

#[test]
fn out_of_order_use_and_bad_input_are_errors() {
    let mut buf = RolloutBuffer::new(2, 1, 1, ActionSpec::Continuous { dim: 1 }).unwrap();
    assert!(matches!(
        buf.compute_returns_and_advantages(&[0.0], 0.9, 1.0),
        Err(BufferError::Order(_))
    ));
    assert!(matches!(
        buf.batch(&Device::Cpu),
        Err(BufferError::Order(_))
    ));
    let step = RolloutStep {
        obs: &[0.0],
        actions: &[0.0],
        rewards: &[1.0],
        values: &[0.0],
        log_probs: &[0.0],
        terminated: &[false],
        truncated: &[true],
        final_values: &[f64::NAN],
    };
    let err = buf.push(step).unwrap_err();
    assert!(err.to_string().contains("final_values"), "{err}");
    assert!(matches!(
        buf.push(RolloutStep {
            obs: &[0.0, 1.0],
            ..step
        }),
        Err(BufferError::Length { .. })
    ));
    let ok = RolloutStep {
        final_values: &[0.0],
        ..step
    };
    buf.push(ok).unwrap();
    buf.push(ok).unwrap();
    assert!(matches!(buf.push(ok), Err(BufferError::Order(_))));
    buf.reset();
    assert_eq!(buf.steps(), 0);
}
