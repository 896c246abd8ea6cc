//! Checkpoint loaders given damaged files: a valid checkpoint of each algorithm is written once;
//! each input then replaces one of its files (chosen by the first byte) with the remaining bytes,
//! with a valid file mutated at a few positions, or (JSON files) with the valid JSON whose values
//! at input-chosen places become hostile ones (0, −5, 2^63, 1e308, [], {}, "x", null, ...), and
//! loading (and acting, if it loads) must return an error or succeed, never panic. Half the inputs
//! re-sign the manifest after the damage, as a forger would, so the values reach the loaders
//! through a valid checksum; the others leave the checkpoint unsigned. Also the replay memories'
//! and tensor files' loaders on raw bytes.
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use candle_core::Device;
use libfuzzer_sys::fuzz_target;
use rl_buffer::{ReplayBuffer, SegmentReplay};

struct Fixture {
    dir: tempfile::TempDir,
    /// (algo, checkpoint folder, its files)
    checkpoints: Vec<(&'static str, PathBuf, Vec<PathBuf>)>,
}

fn write_checkpoints() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut checkpoints = Vec::new();
    for algo in ["sac", "a2c", "acer"] {
        let out = dir.path().join(algo);
        let options = rl_runner::TrainOptions {
            algo: algo.into(),
            steps: Some(if algo == "sac" { 150 } else { 400 }),
            out: Some(out.clone()),
            save_buffer: true,
            sets: vec!["run.eval_episodes=1".into()],
            ..Default::default()
        };
        rl_runner::train(&options, &Device::Cpu).expect("training the fixture");
        let ckpt = rl_nn::checkpoint::CheckpointDir::new(out.join("checkpoints"))
            .latest()
            .expect("latest")
            .expect("a checkpoint");
        // Without the manifest, damaged files reach the loaders themselves (with it, the
        // checksum check refuses them first; that path is tested in bad_input.rs).
        std::fs::remove_file(ckpt.join(rl_nn::checkpoint::MANIFEST)).expect("manifest");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&ckpt)
            .expect("read_dir")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        files.sort();
        checkpoints.push((algo, out, files));
    }
    Fixture { dir, checkpoints }
}

fn fixture() -> &'static std::sync::Mutex<Fixture> {
    static F: OnceLock<std::sync::Mutex<Fixture>> = OnceLock::new();
    F.get_or_init(|| std::sync::Mutex::new(write_checkpoints()))
}

fn load_raw(path: &Path, bytes: &[u8]) {
    if std::fs::write(path, bytes).is_ok() {
        let _ = ReplayBuffer::load(path);
        let _ = SegmentReplay::load(path);
        let _ = rl_nn::checkpoint::read_tensors(path, &Device::Cpu);
        let _ = rl_nn::checkpoint::read_json(path);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let guard = fixture().lock().expect("fixture lock");
    let scratch = guard.dir.path().join("raw.bin");
    load_raw(&scratch, rest);
    let (_algo, run_dir, files) = &guard.checkpoints[usize::from(selector) % guard.checkpoints.len()];
    let file = &files[usize::from(selector / 3) % files.len()];
    let Ok(original) = std::fs::read(file) else {
        return;
    };
    // Selector bit 6 with a JSON file: hostile values put into the valid JSON. Odd selectors:
    // mutate the valid file at positions/values taken from the input; even: use the input as the
    // file.
    let is_json = file.extension().is_some_and(|e| e == "json");
    let damaged = if selector & 0x40 != 0 && is_json {
        hostile_json(&original, rest)
    } else if selector % 2 == 1 && !original.is_empty() {
        let mut bytes = original.clone();
        for pair in rest.chunks(3) {
            if let [a, b, v] = pair {
                let at = (usize::from(*a) << 8 | usize::from(*b)) % bytes.len();
                bytes[at] = *v;
            } else if let [n] = pair {
                bytes.truncate(usize::from(*n) * bytes.len() / 256);
            }
        }
        bytes
    } else {
        rest.to_vec()
    };
    let ckpt = file.parent().expect("checkpoint folder").to_path_buf();
    if std::fs::write(file, &damaged).is_ok() {
        if selector & 0x80 != 0 {
            let _ = rl_nn::checkpoint::sign(&ckpt);
        }
        if let Ok((_, mut algo)) = rl_runner::load_run(run_dir, &Device::Cpu) {
            // A checkpoint that loads must also act.
            let obs = vec![0.0f32; if run_dir.ends_with("sac") { 3 } else { 4 }];
            let _ = algo.act_deterministic(&obs);
        }
    }
    let _ = std::fs::write(file, &original);
    let _ = std::fs::remove_file(ckpt.join(rl_nn::checkpoint::MANIFEST));
});

/// The JSON `original` with values replaced: each input pair picks a value (in document order)
/// and a replacement from a list of hostile ones.
fn hostile_json(original: &[u8], input: &[u8]) -> Vec<u8> {
    let Ok(mut json) = serde_json::from_slice::<serde_json::Value>(original) else {
        return original.to_vec();
    };
    let hostile = [
        serde_json::json!(0),
        serde_json::json!(-5.0),
        serde_json::json!(-1),
        serde_json::json!(u64::MAX),
        serde_json::json!(9_223_372_036_854_775_807_i64),
        serde_json::json!(1e308),
        serde_json::json!([]),
        serde_json::json!({}),
        serde_json::json!("x"),
        serde_json::Value::Null,
        serde_json::json!(true),
        serde_json::json!([1e308, -1e308]),
    ];
    for pair in input.chunks(2) {
        if let [at, what] = pair {
            let mut n = 0usize;
            replace_nth(&mut json, usize::from(*at), &mut n, &hostile[usize::from(*what) % hostile.len()]);
        }
    }
    serde_json::to_vec(&json).unwrap_or_else(|_| original.to_vec())
}

fn replace_nth(v: &mut serde_json::Value, target: usize, n: &mut usize, with: &serde_json::Value) -> bool {
    if *n == target {
        *v = with.clone();
        return true;
    }
    *n += 1;
    match v {
        serde_json::Value::Array(items) => items.iter_mut().any(|x| replace_nth(x, target, n, with)),
        serde_json::Value::Object(map) => map.values_mut().any(|x| replace_nth(x, target, n, with)),
        _ => false,
    }
}
