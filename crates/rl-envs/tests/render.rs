//! The classic-control frames against Gymnasium's own `render()` (pygame), recorded by
//! `fixtures/record_frames.py` for a few states of each env: the same size, and the same pixels
//! but along the edges of shapes, where tiny-skia's anti-aliasing differs from pygame's `gfxdraw`.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::print_stderr,
    reason = "test code: a panic is a test failure; the pixel statistics are printed"
)]

use rl_envs::classic::Pendulum;
use rl_envs::{Env, EnvError, Frame, make};

/// The largest share of pixels whose colour may differ by more than 64 from Gymnasium's: the
/// frames measured 0.03–0.19 % (edges of shapes and of the pendulum's arrow).
const FAR: f64 = 0.003;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/frames");

/// `(share of pixels whose largest channel difference exceeds 64, mean absolute difference per
/// channel)`.
fn difference(ours: &Frame, theirs: &tiny_skia::Pixmap) -> (f64, f64) {
    assert_eq!((ours.width, ours.height), (theirs.width(), theirs.height()));
    let mut far = 0_usize;
    let mut total = 0_u64;
    for (i, p) in theirs.pixels().iter().enumerate() {
        let c = p.demultiply();
        let want = [c.red(), c.green(), c.blue()];
        let got = &ours.rgb[i * 3..i * 3 + 3];
        let d: Vec<u8> = (0..3).map(|k| got[k].abs_diff(want[k])).collect();
        total += d.iter().map(|&v| u64::from(v)).sum::<u64>();
        if d.iter().any(|&v| v > 64) {
            far += 1;
        }
    }
    let n = theirs.pixels().len() as f64;
    (far as f64 / n, total as f64 / (3.0 * n))
}

fn render_state(id: &str, state: &[serde_json::Value]) -> Frame {
    let values: Vec<f64> = state.iter().filter_map(serde_json::Value::as_f64).collect();
    if id == "Pendulum-v1" {
        let mut env = Pendulum::new();
        env.reset(Some(0)).unwrap();
        env.set_state(&values[..2]).unwrap();
        env.set_last_torque(state[2].as_f64().map(|u| u as f32));
        env.render().unwrap()
    } else {
        let mut env = make(id).unwrap();
        env.reset(Some(0)).unwrap();
        env.set_state(&values).unwrap();
        env.render().unwrap()
    }
}

#[test]
fn frames_match_gymnasiums_but_for_anti_aliasing() {
    let listed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{FIXTURES}/frames.json")).unwrap())
            .unwrap();
    let mut count = 0;
    for (id, frames) in listed["frames"].as_object().unwrap() {
        for f in frames.as_array().unwrap() {
            let theirs =
                tiny_skia::Pixmap::load_png(format!("{FIXTURES}/{}", f["file"].as_str().unwrap()))
                    .unwrap();
            let ours = render_state(id, f["state"].as_array().unwrap());
            let (far, mean) = difference(&ours, &theirs);
            eprintln!(
                "{}: {:.3}% of pixels far off, mean difference {mean:.3}",
                f["file"],
                100.0 * far
            );
            assert!(
                far < FAR && mean < 0.5,
                "{}: {far} far off, mean {mean}",
                f["file"]
            );
            count += 1;
        }
    }
    assert_eq!(count, 15);
}

#[test]
fn a_wrong_state_is_far_from_gymnasiums_frame() {
    // The comparison can fail: the pole tilted the other way, or the cart elsewhere.
    let theirs = tiny_skia::Pixmap::load_png(format!("{FIXTURES}/CartPole-v1-1.png")).unwrap();
    for state in [[1.3, 0.0, -0.15, 0.0], [1.5, 0.0, 0.15, 0.0]] {
        let mut env = make("CartPole-v1").unwrap();
        env.reset(Some(0)).unwrap();
        env.set_state(&state).unwrap();
        let (far, _) = difference(&env.render().unwrap(), &theirs);
        eprintln!("{state:?}: {:.3}% far off", 100.0 * far);
        assert!(far > 2.0 * FAR, "{state:?}: {far}");
    }
}

#[test]
fn rendering_before_reset_or_without_support_is_an_error() {
    assert_eq!(
        make("CartPole-v1").unwrap().render().unwrap_err(),
        EnvError::ResetNeeded
    );
    let mut probe = make("ProbeConstantReward-v0").unwrap();
    probe.reset(Some(0)).unwrap();
    assert!(matches!(
        probe.render().unwrap_err(),
        EnvError::RenderUnsupported { .. }
    ));
    let mut env = make("Acrobot-v1").unwrap(); // through the TimeLimit wrapper
    env.reset(Some(0)).unwrap();
    let frame = env.render().unwrap();
    assert_eq!(
        (frame.width, frame.height, frame.rgb.len()),
        (500, 500, 500 * 500 * 3)
    );
}
