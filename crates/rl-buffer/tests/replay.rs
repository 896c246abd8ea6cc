//! The replay buffer: ring semantics (property tests), sampling, persistence and bad input.

#![allow(clippy::unwrap_used, reason = "test code: a panic is a test failure")]

use candle_core::{DType, Device, Tensor};
use proptest::prelude::*;
use rl_buffer::{ActionSpec, BufferError, ReplayBuffer, Transition};
use rl_math::{MathError, SeededRng};

fn f32s(t: &Tensor) -> Vec<f32> {
    t.to_dtype(DType::F32)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap()
}

/// Transition `i`: every field derived from `i`, so a sampled row can be checked whole.
fn push_numbered(buf: &mut ReplayBuffer, i: usize) {
    let x = i as f32;
    buf.push(Transition {
        obs: &[x, -x],
        action: &[x / 1000.0],
        reward: i as f64,
        next_obs: &[x + 1.0, -x - 1.0],
        terminated: i.is_multiple_of(3),
        truncated: i.is_multiple_of(5),
    })
    .unwrap();
}

fn continuous(capacity: usize) -> ReplayBuffer {
    ReplayBuffer::new(capacity, 2, ActionSpec::Continuous { dim: 1 }).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// After any number of pushes the buffer holds exactly the newest `min(n, capacity)`.
    #[test]
    fn wrap_around_keeps_the_newest(capacity in 1usize..40, pushes in 0usize..120) {
        let mut buf = continuous(capacity);
        for i in 0..pushes {
            push_numbered(&mut buf, i);
        }
        prop_assert_eq!(buf.len(), pushes.min(capacity));
        if pushes > 0 {
            let all: Vec<usize> = (0..buf.len()).collect();
            let batch = buf.gather(&all, &Device::Cpu).unwrap();
            let mut rewards: Vec<usize> = f32s(&batch.rewards).iter().map(|r| *r as usize).collect();
            rewards.sort_unstable();
            let newest: Vec<usize> = (pushes.saturating_sub(capacity)..pushes).collect();
            prop_assert_eq!(rewards, newest);
        }
    }

    /// Samples come only from written slots, and every field and flag of a sampled row belongs to
    /// the same transition.
    #[test]
    fn samples_are_whole_written_transitions(capacity in 1usize..50, pushes in 1usize..80, seed in any::<u64>()) {
        let mut buf = continuous(capacity);
        for i in 0..pushes {
            push_numbered(&mut buf, i);
        }
        let batch = buf.sample(64, &mut SeededRng::new(seed), &Device::Cpu).unwrap();
        let (obs, next, act) = (f32s(&batch.obs), f32s(&batch.next_obs), f32s(&batch.actions));
        let (term, trunc) = (f32s(&batch.terminated), f32s(&batch.truncated));
        for (row, r) in f32s(&batch.rewards).iter().enumerate() {
            let i = *r as usize;
            prop_assert!(i < pushes && i + capacity >= pushes, "slot {} never written or overwritten", i);
            let x = i as f32;
            prop_assert_eq!(&obs[2 * row..2 * row + 2], &[x, -x]);
            prop_assert_eq!(&next[2 * row..2 * row + 2], &[x + 1.0, -x - 1.0]);
            prop_assert_eq!(act[row], x / 1000.0);
            prop_assert_eq!(term[row] == 1.0, i.is_multiple_of(3));
            prop_assert_eq!(trunc[row] == 1.0, i.is_multiple_of(5));
        }
    }
}

#[test]
fn sampling_is_reproducible_per_seed() {
    let mut buf = continuous(100);
    for i in 0..100 {
        push_numbered(&mut buf, i);
    }
    let draw = |seed| {
        f32s(
            &buf.sample(32, &mut SeededRng::new(seed), &Device::Cpu)
                .unwrap()
                .rewards,
        )
    };
    assert_eq!(draw(4), draw(4));
    assert_ne!(draw(4), draw(5));
}

#[test]
fn discrete_actions_come_back_as_indices() {
    let mut buf = ReplayBuffer::new(10, 1, ActionSpec::Discrete { n: 3 }).unwrap();
    for a in 0..3 {
        buf.push(Transition {
            obs: &[0.0],
            action: &[a as f32],
            reward: 0.0,
            next_obs: &[0.0],
            terminated: false,
            truncated: false,
        })
        .unwrap();
    }
    let batch = buf.gather(&[0, 1, 2], &Device::Cpu).unwrap();
    assert_eq!(batch.actions.dtype(), DType::U32);
    assert_eq!(batch.actions.to_vec1::<u32>().unwrap(), [0, 1, 2]);
}

#[test]
fn a_million_pendulum_transitions_fit_in_50_mb() {
    let buf = ReplayBuffer::new(1_000_000, 3, ActionSpec::Continuous { dim: 1 }).unwrap();
    let mb = buf.footprint_bytes() as f64 / 1e6;
    assert!(mb <= 50.0, "{mb} MB");
}

#[test]
fn bad_input_is_refused_and_nothing_is_stored() {
    assert!(matches!(
        ReplayBuffer::new(0, 2, ActionSpec::Continuous { dim: 1 }),
        Err(BufferError::ZeroSize(_))
    ));
    let mut buf = continuous(10);
    let ok = Transition {
        obs: &[0.0, 0.0],
        action: &[0.0],
        reward: 0.0,
        next_obs: &[0.0, 0.0],
        terminated: false,
        truncated: false,
    };
    let err = buf.push(Transition { obs: &[0.0], ..ok }).unwrap_err();
    assert!(
        err.to_string()
            .contains("observation has 1 values, expected 2"),
        "{err}"
    );
    let err = buf
        .push(Transition {
            next_obs: &[0.0, f32::NAN],
            ..ok
        })
        .unwrap_err();
    assert!(
        err.to_string().contains("next observation[1] is NaN"),
        "{err}"
    );
    assert!(matches!(
        buf.push(Transition {
            reward: f64::INFINITY,
            ..ok
        }),
        Err(BufferError::NonFinite { .. })
    ));
    assert!(matches!(
        buf.push(Transition {
            action: &[0.0, 1.0],
            ..ok
        }),
        Err(BufferError::Length { .. })
    ));
    assert!(buf.is_empty());
    let err = buf
        .sample(8, &mut SeededRng::new(0), &Device::Cpu)
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("cannot sample 8 from a buffer holding 0"),
        "{err}"
    );

    let mut discrete = ReplayBuffer::new(10, 2, ActionSpec::Discrete { n: 2 }).unwrap();
    for bad in [2.0, -1.0, 0.5] {
        assert!(matches!(
            discrete.push(Transition {
                action: &[bad],
                ..ok
            }),
            Err(BufferError::ActionOutOfRange { .. })
        ));
    }
}

#[test]
fn save_and_load_round_trip_exactly_and_keep_the_ring_position() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("replay.safetensors");
    let mut buf = continuous(7);
    for i in 0..11 {
        push_numbered(&mut buf, i);
    }
    buf.save(&path).unwrap();
    let mut loaded = ReplayBuffer::load(&path).unwrap();
    assert_eq!(loaded, buf);
    // Both continue identically: the next push overwrites the same slot.
    push_numbered(&mut buf, 11);
    push_numbered(&mut loaded, 11);
    assert_eq!(loaded, buf);
    let s = |b: &ReplayBuffer| {
        f32s(
            &b.sample(16, &mut SeededRng::new(1), &Device::Cpu)
                .unwrap()
                .rewards,
        )
    };
    assert_eq!(s(&loaded), s(&buf));
}

#[test]
fn truncated_corrupted_or_foreign_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("replay.safetensors");
    let mut buf = continuous(5);
    for i in 0..5 {
        push_numbered(&mut buf, i);
    }
    buf.save(&path).unwrap();
    let bytes = std::fs::read(&path).unwrap();

    let cut = dir.path().join("cut.safetensors");
    std::fs::write(&cut, &bytes[..bytes.len() - 7]).unwrap();
    let err = ReplayBuffer::load(&cut).unwrap_err();
    assert!(
        matches!(err, BufferError::Math(MathError::Corrupt { .. })),
        "{err}"
    );

    let garbage = dir.path().join("garbage.safetensors");
    std::fs::write(&garbage, b"not a buffer at all").unwrap();
    assert!(matches!(
        ReplayBuffer::load(&garbage),
        Err(BufferError::Math(MathError::Corrupt { .. }))
    ));

    // A flipped flag byte (flags are 0 or 1) is caught.
    let mut flipped = bytes.clone();
    let last = flipped.len() - 1;
    flipped[last] = 7;
    let bad = dir.path().join("flipped.safetensors");
    std::fs::write(&bad, &flipped).unwrap();
    let err = ReplayBuffer::load(&bad).unwrap_err();
    assert!(err.to_string().contains("flag value 7"), "{err}");

    let missing = ReplayBuffer::load(&dir.path().join("nope.safetensors")).unwrap_err();
    assert!(
        matches!(missing, BufferError::Math(MathError::Io { .. })),
        "{missing}"
    );
    let _ = Tensor::zeros(1, DType::F32, &Device::Cpu);
}

#[test]
fn saving_over_an_existing_file_replaces_it_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("replay.safetensors");
    let mut buf = continuous(5);
    push_numbered(&mut buf, 0);
    buf.save(&path).unwrap();
    push_numbered(&mut buf, 1);
    buf.save(&path).unwrap();
    assert_eq!(ReplayBuffer::load(&path).unwrap().len(), 2);
    // No temporary files are left behind.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}
