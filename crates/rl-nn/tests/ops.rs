//! The fast layer ops give candle's own values and gradients (f32 `tanh` to within its few ulp).

#![allow(clippy::unwrap_used, reason = "test code: a panic is a test failure")]

use candle_core::{DType, Device, Tensor, Var};
use rl_math::SeededRng;
use rl_nn::ops::{add_bias, relu, tanh};

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

#[test]
fn tanh_matches_candles_values_and_gradients() {
    for dtype in [DType::F32, DType::F64] {
        let mut rng = SeededRng::new(0);
        let x = Var::from_tensor(&rng.normal(&[17, 9], dtype, &Device::Cpu).unwrap()).unwrap();
        let w = rng.normal(&[17, 9], dtype, &Device::Cpu).unwrap();
        let ours = tanh(&x.as_tensor().affine(2.0, 0.0).unwrap()).unwrap();
        let theirs = x.as_tensor().affine(2.0, 0.0).unwrap().tanh().unwrap();
        // f32: a few ulp of the standard library's tanh; f64: its value.
        let tol = if dtype == DType::F32 { 1e-6 } else { 1e-15 };
        close(&ours, &theirs, tol);
        let g_ours = (ours * &w).unwrap().sum_all().unwrap().backward().unwrap();
        let g_theirs = (theirs * &w)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        let tol = if dtype == DType::F32 { 1e-5 } else { 1e-12 };
        close(g_ours.get(&x).unwrap(), g_theirs.get(&x).unwrap(), tol);
    }
}

#[test]
fn tanh_accepts_non_contiguous_input() {
    let x = Tensor::new(&[[0f32, 20.0], [-20.0, 0.0]], &Device::Cpu).unwrap();
    let y = tanh(&x.t().unwrap()).unwrap();
    assert_eq!(y.to_vec2::<f32>().unwrap(), [[0.0, -1.0], [1.0, 0.0]]);
}
