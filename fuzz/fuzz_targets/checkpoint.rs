//! Checkpoint loaders given damaged files: a valid checkpoint of each algorithm is written once;
//! each input then replaces one of its files (chosen by the first byte) with the remaining bytes,
//! or with a valid file mutated at a few positions, and loading (and acting, if it loads) must
//! return an error or succeed, never panic. Also the replay memories' and tensor files' loaders on raw bytes.
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
    // Odd selectors: mutate the valid file at positions/values taken from the input; even: use
    // the input as the file.
    let damaged = if selector % 2 == 1 && !original.is_empty() {
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
    if std::fs::write(file, &damaged).is_ok() {
        if let Ok((_, mut algo)) = rl_runner::load_run(run_dir, &Device::Cpu) {
            // A checkpoint that loads must also act.
            let obs = vec![0.0f32; if run_dir.ends_with("sac") { 3 } else { 4 }];
            let _ = algo.act_deterministic(&obs);
        }
    }
    let _ = std::fs::write(file, &original);
});
