//! Networks build the same from the same seed, copy and load exactly, and checkpoints are atomic.

#![allow(clippy::unwrap_used, reason = "test code: a panic is a test failure")]

use candle_core::{DType, Device, Tensor};
use rl_math::SeededRng;
use rl_nn::checkpoint::{CheckpointDir, read_tensors, write_tensors};
use rl_nn::{Activation, Init, Mlp, NnError, ParamStore};

fn net(seed: u64, width: usize) -> (ParamStore, Mlp) {
    let mut store = ParamStore::new(&Device::Cpu, DType::F32);
    let mlp = Mlp::new(
        &mut store,
        "pi",
        &[3, width, 2],
        Activation::Tanh,
        false,
        (
            Init::Orthogonal { gain: 2f64.sqrt() },
            Init::Orthogonal { gain: 0.01 },
        ),
        &mut SeededRng::new(seed),
    )
    .unwrap();
    (store, mlp)
}

fn values(t: &Tensor) -> Vec<f32> {
    t.flatten_all().unwrap().to_vec1().unwrap()
}

#[test]
fn the_same_seed_builds_the_same_network() {
    let x = Tensor::new(&[[0.1f32, -0.2, 0.3]], &Device::Cpu).unwrap();
    let (_, a) = net(1, 16);
    let (_, b) = net(1, 16);
    let (_, c) = net(2, 16);
    assert_eq!(
        values(&a.forward(&x).unwrap()),
        values(&b.forward(&x).unwrap())
    );
    assert_ne!(
        values(&a.forward(&x).unwrap()),
        values(&c.forward(&x).unwrap())
    );
}

#[test]
fn a_deep_copy_is_independent_and_loading_checks_names_and_shapes() {
    let (store, _) = net(1, 16);
    let copy = store.deep_copy().unwrap();
    let w = store.get("pi.0.weight").unwrap();
    w.set(&w.as_tensor().zeros_like().unwrap()).unwrap();
    assert!(
        values(copy.get("pi.0.weight").unwrap().as_tensor())
            .iter()
            .any(|v| *v != 0.0)
    );

    let saved: std::collections::HashMap<_, _> =
        copy.named_tensors("actor/").unwrap().into_iter().collect();
    store.load_named("actor/", &saved).unwrap();
    assert_eq!(
        values(w.as_tensor()),
        values(copy.get("pi.0.weight").unwrap().as_tensor())
    );

    let (wider, _) = net(1, 32);
    let err = wider.load_named("actor/", &saved).unwrap_err();
    assert!(
        matches!(err, NnError::Mismatch(_)) && err.to_string().contains("shape"),
        "{err}"
    );
    let err = store.load_named("critic/", &saved).unwrap_err();
    assert!(
        err.to_string().contains("no tensor \"critic/pi.0.weight\""),
        "{err}"
    );

    let mut dup = ParamStore::new(&Device::Cpu, DType::F32);
    dup.insert("a", &Tensor::zeros(1, DType::F32, &Device::Cpu).unwrap())
        .unwrap();
    assert!(
        dup.insert("a", &Tensor::zeros(1, DType::F32, &Device::Cpu).unwrap())
            .is_err()
    );
}

#[test]
fn checkpoints_are_written_whole_and_latest_points_at_a_complete_one() {
    let dir = tempfile::tempdir().unwrap();
    let ckpt = CheckpointDir::new(dir.path().join("checkpoints"));
    assert!(ckpt.latest().unwrap().is_none());
    let (store, _) = net(1, 8);
    for step in [100, 200, 300] {
        ckpt.save(&format!("step-{step:09}"), 2, |tmp| {
            write_tensors(
                &tmp.join("model.safetensors"),
                &store.named_tensors("").unwrap(),
            )
        })
        .unwrap();
    }
    let latest = ckpt.latest().unwrap().unwrap();
    assert!(latest.ends_with("step-000000300"));
    let kept: Vec<_> = std::fs::read_dir(ckpt.root())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(kept.len(), 3, "two checkpoints and LATEST: {kept:?}");

    // A save that fails half way leaves the previous checkpoint as LATEST and no debris.
    let err = ckpt
        .save("step-000000400", 2, |tmp| {
            std::fs::write(tmp.join("half"), b"x").unwrap();
            Err(NnError::Invalid("disk full".into()))
        })
        .unwrap_err();
    assert!(err.to_string().contains("disk full"));
    assert!(ckpt.latest().unwrap().unwrap().ends_with("step-000000300"));
    assert!(!ckpt.root().join("step-000000400").exists());

    let tensors = read_tensors(&latest.join("model.safetensors"), &Device::Cpu).unwrap();
    store.load_named("", &tensors).unwrap();
}

#[test]
fn corrupt_tensor_files_are_named_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = net(1, 8);
    let path = dir.path().join("model.safetensors");
    write_tensors(&path, &store.named_tensors("").unwrap()).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let err = read_tensors(&path, &Device::Cpu).unwrap_err();
    assert!(matches!(err, NnError::Checkpoint { .. }), "{err}");
    assert!(err.to_string().contains("model.safetensors"), "{err}");

    std::fs::write(dir.path().join("LATEST"), "step-9\n").unwrap();
    let err = CheckpointDir::new(dir.path()).latest().unwrap_err();
    assert!(err.to_string().contains("missing"), "{err}");
    std::fs::write(dir.path().join("LATEST"), "../elsewhere\n").unwrap();
    let err = CheckpointDir::new(dir.path()).latest().unwrap_err();
    assert!(
        err.to_string()
            .contains("does not name a checkpoint folder"),
        "{err}"
    );
    assert!(
        !err.to_string().contains("elsewhere"),
        "the error repeats LATEST: {err}"
    );
    // A pointer to a folder removed by an interrupted re-save falls back to the newest complete
    // checkpoint.
    for name in ["step-1", "step-2", ".tmp-step-3-1"] {
        std::fs::create_dir(dir.path().join(name)).unwrap();
    }
    std::fs::write(dir.path().join("LATEST"), "step-3\n").unwrap();
    let found = CheckpointDir::new(dir.path()).latest().unwrap().unwrap();
    assert!(found.ends_with("step-2"), "{}", found.display());
}
