//! `Mlp::backward` computes the gradients candle's autograd computes.

#![allow(clippy::unwrap_used, reason = "test code: a panic is a test failure")]

use candle_core::{DType, Device, Tensor};
use rl_math::SeededRng;
use rl_nn::{Activation, Init, Mlp, ParamStore};

fn values(t: &Tensor) -> Vec<f64> {
    t.to_dtype(DType::F64)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap()
}

fn close(a: &Tensor, b: &Tensor, tol: f64, what: &str) {
    let (a, b) = (values(a), values(b));
    assert_eq!(a.len(), b.len(), "{what}");
    for (x, y) in a.iter().zip(&b) {
        assert!((x - y).abs() <= tol * (1.0 + y.abs()), "{what}: {x} vs {y}");
    }
}

#[test]
fn manual_backward_matches_autograd() {
    for (dtype, tol) in [(DType::F64, 1e-12), (DType::F32, 1e-4)] {
        for (activation, activate_output) in [(Activation::Relu, false), (Activation::Tanh, true)] {
            let mut rng = SeededRng::new(4);
            let mut store = ParamStore::new(&Device::Cpu, dtype);
            let init = (Init::PytorchDefault, Init::Orthogonal { gain: 1.0 });
            let mlp = Mlp::new(
                &mut store,
                "net",
                &[5, 16, 8, 3],
                activation,
                activate_output,
                init,
                &mut rng,
            )
            .unwrap();
            let x =
                candle_core::Var::from_tensor(&rng.normal(&[7, 5], dtype, &Device::Cpu).unwrap())
                    .unwrap();
            let w = rng.normal(&[7, 3], dtype, &Device::Cpu).unwrap();

            // Autograd: L = sum(w ⊙ mlp(x)).
            let y = mlp.forward(x.as_tensor()).unwrap();
            let auto = (&y * &w).unwrap().sum_all().unwrap().backward().unwrap();

            let (y2, trace) = mlp.forward_traced(x.as_tensor()).unwrap();
            close(&y2, &y, tol, "output");
            let manual = mlp.backward(&trace, &w, true, true).unwrap();
            close(
                manual.input.as_ref().unwrap(),
                auto.get(&x).unwrap(),
                tol,
                "d/dx",
            );
            for ((name, var), g) in store.params().iter().zip(&manual.params) {
                close(g.as_ref().unwrap(), auto.get(var).unwrap(), tol, name);
            }
            let only_input = mlp.backward(&trace, &w, false, true).unwrap();
            assert!(only_input.params.iter().all(Option::is_none));
            close(
                only_input.input.as_ref().unwrap(),
                auto.get(&x).unwrap(),
                tol,
                "d/dx alone",
            );
        }
    }
}
