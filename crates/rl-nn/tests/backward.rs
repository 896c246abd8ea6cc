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

/// `backward_split` forks each large layer's weight and input gradients onto two workers and
/// gets the sequential pass's numbers bit for bit (and with no workers, too).
#[test]
fn split_backward_on_workers_is_bit_identical_to_the_sequential_pass() {
    let mut rng = SeededRng::new(9);
    let mut store = ParamStore::new(&Device::Cpu, DType::F32);
    let init = (Init::PytorchDefault, Init::PytorchDefault);
    let mlp = Mlp::new(
        &mut store,
        "net",
        &[3, 64, 64, 2],
        Activation::Relu,
        false,
        init,
        &mut rng,
    )
    .unwrap();
    let x = rng.normal(&[32, 3], DType::F32, &Device::Cpu).unwrap();
    let g = rng.normal(&[32, 2], DType::F32, &Device::Cpu).unwrap();
    let (_, trace) = mlp.forward_traced(&x).unwrap();
    let bits = |t: &Tensor| -> Vec<u32> {
        t.flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap()
            .iter()
            .map(|v| v.to_bits())
            .collect()
    };
    for input in [false, true] {
        let reference = mlp.backward(&trace, &g, true, input).unwrap();
        for workers in [
            rl_nn::Workers::new(2).unwrap(),
            rl_nn::Workers::sequential(),
        ] {
            // Outside and inside the pool; min_size 0 splits every layer.
            for inside in [false, true] {
                let run = || mlp.backward_split(&trace, &g, true, input, 0, &workers);
                let split = if inside { workers.run(run) } else { run() }.unwrap();
                for (a, b) in split.params.iter().zip(&reference.params) {
                    assert_eq!(bits(a.as_ref().unwrap()), bits(b.as_ref().unwrap()));
                }
                assert_eq!(
                    split.input.as_ref().map(bits),
                    reference.input.as_ref().map(bits)
                );
            }
        }
    }
}

/// `backward_with_features` adds a loss term that reads the last hidden layer directly (gSDE's
/// noise `z θ`): the gradients are autograd's of `sum(w ⊙ mlp(x)) + sum(v ⊙ z(x))`.
#[test]
fn backward_with_features_matches_autograd_of_a_loss_on_the_last_hidden_layer() {
    let dtype = DType::F64;
    for sizes in [&[5, 16, 8, 3][..], &[5, 3]] {
        let mut rng = SeededRng::new(11);
        let mut store = ParamStore::new(&Device::Cpu, dtype);
        let init = (Init::PytorchDefault, Init::PytorchDefault);
        let mlp = Mlp::new(
            &mut store,
            "net",
            sizes,
            Activation::Relu,
            false,
            init,
            &mut rng,
        )
        .unwrap();
        let x = candle_core::Var::from_tensor(&rng.normal(&[7, 5], dtype, &Device::Cpu).unwrap())
            .unwrap();
        let features = sizes[sizes.len() - 2];
        let w = rng.normal(&[7, 3], dtype, &Device::Cpu).unwrap();
        let v = rng.normal(&[7, features], dtype, &Device::Cpu).unwrap();

        // Autograd through the whole graph: z is the last hidden layer (or x itself).
        let (y, trace) = mlp.forward_traced(x.as_tensor()).unwrap();
        let z_leaf = candle_core::Var::from_tensor(trace.last_features().unwrap()).unwrap();
        let mut h = x.as_tensor().clone();
        let n = sizes.len() - 1;
        let params = store.params();
        let mut z = h.clone();
        for i in 0..n {
            if i + 1 == n {
                z = h.clone();
            }
            let (wt, b) = (params[2 * i].1.as_tensor(), params[2 * i + 1].1.as_tensor());
            h = h
                .matmul(&wt.t().unwrap())
                .unwrap()
                .broadcast_add(b)
                .unwrap();
            if i + 1 < n {
                h = h.relu().unwrap();
            }
        }
        close(&h, &y, 1e-12, "output");
        close(&z, z_leaf.as_tensor(), 1e-12, "features");
        let loss = ((&h * &w).unwrap().sum_all().unwrap() + (&z * &v).unwrap().sum_all().unwrap())
            .unwrap();
        let auto = loss.backward().unwrap();

        let manual = mlp
            .backward_with_features(
                &trace,
                &w,
                &v,
                true,
                true,
                usize::MAX,
                &rl_nn::Workers::sequential(),
            )
            .unwrap();
        close(
            manual.input.as_ref().unwrap(),
            auto.get(&x).unwrap(),
            1e-12,
            "d/dx",
        );
        for ((name, var), g) in params.iter().zip(&manual.params) {
            close(g.as_ref().unwrap(), auto.get(var).unwrap(), 1e-12, name);
        }
    }
}
