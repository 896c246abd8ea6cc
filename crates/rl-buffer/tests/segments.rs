//! ACER's segment replay: whole segments with their boundaries and behaviour distributions.

#![allow(clippy::unwrap_used, reason = "test code: a panic is a test failure")]

use candle_core::{DType, Device};
use rl_buffer::{ActionSpec, AsStored, BufferError, Normalizer, Segment, SegmentReplay};
use rl_math::SeededRng;

const T: usize = 3;

/// Segment `k`: rewards k, k+1, k+2; the episode terminates at step 1 when `k` is odd.
fn push(replay: &mut SegmentReplay, k: usize) {
    let x = k as f32;
    let obs: Vec<f32> = (0..=T).map(|t| x + t as f32).collect();
    let terminated = [false, k % 2 == 1, false];
    let mut final_obs = [0.0f32; T];
    if k % 2 == 1 {
        final_obs[1] = -x;
    }
    replay
        .push(Segment {
            obs: &obs,
            actions: &[0.0, 1.0, 0.0],
            rewards: &[x, x + 1.0, x + 2.0],
            behaviour: &[0.25, 0.75, 0.5, 0.5, 0.9, 0.1],
            terminated: &terminated,
            truncated: &[false; T],
            final_obs: &final_obs,
        })
        .unwrap();
}

#[test]
fn samples_are_whole_segments_with_their_boundaries() {
    let mut replay = SegmentReplay::new(12, T, 1, ActionSpec::Discrete { n: 2 }, 2).unwrap();
    assert_eq!(replay.max_segments(), 4);
    for k in 0..6 {
        push(&mut replay, k);
    }
    assert_eq!((replay.len(), replay.steps()), (4, 12));
    let batch = replay
        .sample(16, &mut SeededRng::new(0), &Device::Cpu)
        .unwrap();
    assert_eq!(batch.obs.dims(), [16, T + 1, 1]);
    assert_eq!(batch.behaviour.dims(), [16, T, 2]);
    assert_eq!(batch.actions.dims(), [16, T]);
    let rewards: Vec<Vec<f32>> = batch.rewards.to_vec2().unwrap();
    let term: Vec<Vec<f32>> = batch
        .terminated
        .to_dtype(DType::F32)
        .unwrap()
        .to_vec2()
        .unwrap();
    let final_obs: Vec<Vec<Vec<f32>>> = batch.final_obs.to_vec3().unwrap();
    for b in 0..16 {
        let k = rewards[b][0] as usize;
        assert!((2..6).contains(&k), "segment {k} was overwritten");
        assert_eq!(rewards[b], [k as f32, k as f32 + 1.0, k as f32 + 2.0]);
        assert_eq!(term[b][1] == 1.0, k % 2 == 1);
        assert_eq!(
            final_obs[b][1][0],
            if k % 2 == 1 { -(k as f32) } else { 0.0 }
        );
    }
}

#[test]
fn bad_segments_are_refused() {
    assert!(matches!(
        SegmentReplay::new(2, 3, 1, ActionSpec::Discrete { n: 2 }, 2),
        Err(BufferError::ZeroSize(_))
    ));
    let mut replay = SegmentReplay::new(30, T, 1, ActionSpec::Discrete { n: 2 }, 2).unwrap();
    let good = Segment {
        obs: &[0.0; T + 1],
        actions: &[0.0; T],
        rewards: &[0.0; T],
        behaviour: &[0.5; 2 * T],
        terminated: &[false; T],
        truncated: &[false; T],
        final_obs: &[0.0; T],
    };
    assert!(matches!(
        replay.push(Segment {
            obs: &[0.0; T],
            ..good
        }),
        Err(BufferError::Length { .. })
    ));
    assert!(matches!(
        replay.push(Segment {
            behaviour: &[1.5; 2 * T],
            ..good
        }),
        Err(BufferError::NonFinite { .. })
    ));
    assert!(matches!(
        replay.push(Segment {
            actions: &[5.0; T],
            ..good
        }),
        Err(BufferError::ActionOutOfRange { .. })
    ));
    assert!(replay.is_empty());
    assert!(matches!(
        replay.sample(1, &mut SeededRng::new(0), &Device::Cpu),
        Err(BufferError::NotEnough { .. })
    ));
    replay.push(good).unwrap();
    assert_eq!(replay.len(), 1);
}

/// Doubles observations and negates rewards, so each column's path is visible.
struct Marking;

impl Normalizer for Marking {
    fn observations(&self, obs: &mut [f32]) {
        obs.iter_mut().for_each(|o| *o *= 2.0);
    }
    fn rewards(&self, rewards: &mut [f32]) {
        rewards.iter_mut().for_each(|r| *r = -*r);
    }
}

/// A normalizer sees the stored observations, final observations and rewards of every batch,
/// sampled or stacked, when the batch is built; the memory itself keeps what was pushed.
#[test]
fn batches_are_normalized_when_built_and_the_memory_keeps_what_was_pushed() {
    let mut replay = SegmentReplay::new(12, T, 1, ActionSpec::Discrete { n: 2 }, 2).unwrap();
    push(&mut replay, 1);
    let sample = |replay: &SegmentReplay, normalizer: &dyn Normalizer| {
        replay
            .sample_normalized(1, &mut SeededRng::new(0), &Device::Cpu, normalizer)
            .unwrap()
    };
    let stored = sample(&replay, &AsStored);
    let marked = sample(&replay, &Marking);
    let plain = replay
        .sample(1, &mut SeededRng::new(0), &Device::Cpu)
        .unwrap();
    let flat = |t: &candle_core::Tensor| t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    assert_eq!(flat(&stored.obs), [1.0, 2.0, 3.0, 4.0]);
    assert_eq!(flat(&plain.obs), flat(&stored.obs));
    assert_eq!(flat(&marked.obs), [2.0, 4.0, 6.0, 8.0]);
    assert_eq!(flat(&marked.final_obs), [0.0, -2.0, 0.0]);
    assert_eq!(flat(&marked.rewards), [-1.0, -2.0, -3.0]);
    assert_eq!(flat(&marked.behaviour), flat(&stored.behaviour));
    // Sampled again as stored: the memory was not changed by the normalizer.
    assert_eq!(flat(&sample(&replay, &AsStored).obs), [1.0, 2.0, 3.0, 4.0]);

    let obs = [5.0f32, 6.0, 7.0, 8.0];
    let segment = Segment {
        obs: &obs,
        actions: &[0.0, 1.0, 0.0],
        rewards: &[1.0, 0.5, 0.0],
        behaviour: &[0.5; 6],
        terminated: &[false; T],
        truncated: &[false; T],
        final_obs: &[0.0; T],
    };
    let stacked = replay
        .stack_normalized(&[segment], &Device::Cpu, &Marking)
        .unwrap();
    assert_eq!(flat(&stacked.obs), [10.0, 12.0, 14.0, 16.0]);
    assert_eq!(flat(&stacked.rewards), [-1.0, -0.5, -0.0]);
}
