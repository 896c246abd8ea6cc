//! Spaces: construction checks, `contains`, and seeded sampling that stays inside.

#![allow(clippy::unwrap_used, reason = "test code: a panic is a test failure")]

use proptest::prelude::*;
use rand::SeedableRng;
use rl_envs::{Action, BoxSpace, Discrete, EnvRng, Space};

#[test]
fn impossible_spaces_are_errors() {
    assert!(Discrete::new(0).is_err());
    assert!(BoxSpace::new(vec![0.0], vec![1.0, 2.0], vec![1]).is_err());
    assert!(BoxSpace::new(vec![1.0], vec![0.0], vec![1]).is_err());
    assert!(BoxSpace::new(vec![f32::NAN], vec![0.0], vec![1]).is_err());
    assert!(BoxSpace::new(vec![0.0; 6], vec![1.0; 6], vec![2, 3]).is_ok());
}

#[test]
fn contains_checks_kind_length_and_bounds() {
    let b = Space::Box(BoxSpace::uniform(-1.0, 1.0, 2).unwrap());
    assert!(b.contains(Action::Continuous(&[0.5, -1.0])));
    assert!(!b.contains(Action::Continuous(&[0.5])));
    assert!(!b.contains(Action::Continuous(&[0.5, 1.5])));
    assert!(!b.contains(Action::Continuous(&[f32::NAN, 0.0])));
    assert!(!b.contains(Action::Discrete(0)));
    let d = Space::Discrete(Discrete::new(3).unwrap());
    assert!(d.contains(Action::Discrete(2)));
    assert!(!d.contains(Action::Discrete(3)));
}

#[test]
fn sampling_is_reproducible_per_seed() {
    let b = BoxSpace::uniform(-2.0, 2.0, 3).unwrap();
    let draw = |seed| b.sample(&mut EnvRng::seed_from_u64(seed));
    assert_eq!(draw(1), draw(1));
    assert_ne!(draw(1), draw(2));
}

proptest! {
    #[test]
    fn samples_lie_in_the_space(
        bounds in proptest::collection::vec((-1e3f32..1e3, 0f32..1e3), 1..6),
        unbounded in proptest::collection::vec(0u8..4, 6),
        seed in any::<u64>(),
    ) {
        let low: Vec<f32> = bounds.iter().enumerate().map(|(i, (l, _))| if unbounded[i] & 1 == 1 { f32::NEG_INFINITY } else { *l }).collect();
        let high: Vec<f32> = bounds.iter().enumerate().map(|(i, (l, w))| if unbounded[i] & 2 == 2 { f32::INFINITY } else { l + w }).collect();
        let n = low.len();
        let space = BoxSpace::new(low, high, vec![n]).unwrap();
        let mut rng = EnvRng::seed_from_u64(seed);
        for _ in 0..20 {
            let x = space.sample(&mut rng);
            prop_assert!(space.contains(&x), "{:?} not in {:?}", x, space);
        }
        let d = Discrete::new(n).unwrap();
        prop_assert!(d.contains(d.sample(&mut rng)));
    }
}
