//! The fast layer ops give candle's own values and gradients.

#![allow(clippy::unwrap_used, reason = "test code: a panic is a test failure")]

use candle_core::{DType, Device, Tensor, Var};
use rl_math::SeededRng;
use rl_nn::ops::{add_bias, relu};

fn close(a: &Tensor, b: &Tensor, tol: f64) {
    let a: Vec<f64> = a
        .to_dtype(DType::F64)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap();
    let b: Vec<f64> = b
        .to_dtype(DType::F64)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap();
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert!((x - y).abs() <= tol * (1.0 + y.abs()), "{x} vs {y}");
    }
}

#[test]
fn relu_and_bias_match_candles_values_and_gradients() {
    for dtype in [DType::F32, DType::F64] {
        let mut rng = SeededRng::new(0);
        let x = Var::from_tensor(&rng.normal(&[17, 9], dtype, &Device::Cpu).unwrap()).unwrap();
        let b = Var::from_tensor(&rng.normal(&[9], dtype, &Device::Cpu).unwrap()).unwrap();
        let w = rng.normal(&[17, 9], dtype, &Device::Cpu).unwrap();

        let ours = relu(&add_bias(x.as_tensor(), b.as_tensor()).unwrap()).unwrap();
        let theirs = x
            .as_tensor()
            .broadcast_add(b.as_tensor())
            .unwrap()
            .relu()
            .unwrap();
        close(&ours, &theirs, 1e-12);

        let g_ours = (ours * &w).unwrap().sum_all().unwrap().backward().unwrap();
        let g_theirs = (theirs * &w)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        let tol = if dtype == DType::F32 { 1e-5 } else { 1e-12 };
        close(g_ours.get(&x).unwrap(), g_theirs.get(&x).unwrap(), tol);
        close(g_ours.get(&b).unwrap(), g_theirs.get(&b).unwrap(), tol);
    }
}

#[test]
fn relu_accepts_non_contiguous_input() {
    let x = Tensor::new(&[[1f32, -2.0], [-3.0, 4.0]], &Device::Cpu).unwrap();
    let y = relu(&x.t().unwrap()).unwrap();
    assert_eq!(y.to_vec2::<f32>().unwrap(), [[1.0, 0.0], [0.0, 4.0]]);
}

/// The forward pass's fused bias + activation gives candle's `broadcast_add` then `relu` /
/// `tanh` bit for bit, in place on the CPU and through the fallback on a non-contiguous input.
#[test]
fn bias_activation_is_candles_broadcast_add_then_activation_bit_for_bit() {
    use rl_nn::Activation;
    use rl_nn::ops::bias_activation;
    for dtype in [DType::F32, DType::F64] {
        let mut rng = SeededRng::new(1);
        let z = rng.normal(&[33, 17], dtype, &Device::Cpu).unwrap();
        let b = rng.normal(&[17], dtype, &Device::Cpu).unwrap();
        for act in [None, Some(Activation::Relu), Some(Activation::Tanh)] {
            let sum = z.broadcast_add(&b).unwrap();
            let theirs = match act {
                None => sum,
                Some(Activation::Relu) => sum.relu().unwrap(),
                Some(Activation::Tanh) => sum.tanh().unwrap(),
            };
            // A fresh copy: the CPU path overwrites its argument.
            let ours = bias_activation(z.copy().unwrap(), &b, act).unwrap();
            let bits = |t: &Tensor| -> Vec<u64> {
                t.to_dtype(DType::F64)
                    .unwrap()
                    .flatten_all()
                    .unwrap()
                    .to_vec1::<f64>()
                    .unwrap()
                    .iter()
                    .map(|x| x.to_bits())
                    .collect()
            };
            assert_eq!(bits(&ours), bits(&theirs), "{dtype:?} {act:?}");
            // Transposed twice: the same values through a non-contiguous layout (fallback).
            let strided = z.t().unwrap().contiguous().unwrap().t().unwrap();
            assert!(!strided.is_contiguous());
            let fallback = bias_activation(strided, &b, act).unwrap();
            assert_eq!(bits(&fallback), bits(&theirs), "{dtype:?} {act:?} strided");
        }
    }
}
