//! Episodes you can watch: episodes (deterministic, or with sampled actions) recorded frame by
//! frame through [`Env::render`](rl_envs::Env::render), labelled with the return so far, and
//! written as an animated GIF (one run, or several side by side).

use std::path::Path;

use plotters::prelude::*;
use rl_envs::Frame;

use crate::algorithm::Algorithm;
use crate::evaluate::{EvalActions, eval_seed, run_episode};
use crate::{Result, RunError};

/// One recorded episode.
#[derive(Debug, Clone)]
pub struct Recording {
    /// A frame after the reset and after every step, labelled with the return so far.
    pub frames: Vec<Frame>,
    /// The episode's return.
    pub episode_return: f64,
}

/// Frames per second of the GIFs (a frame every 3/100 s; GIF delays are whole hundredths).
pub const GIF_FPS: u16 = 33;

/// Runs `episodes` deterministic episodes of `algo` on a fresh evaluation env (episode `i` reset
/// with [`eval_seed`]`(seed, i)`, as in evaluations, so the returns are the evaluation's), drawing a
/// frame after the reset and after every step, each labelled `label` and the return so far.
pub fn record_episodes(
    algo: &mut dyn Algorithm,
    seed: u64,
    episodes: usize,
    label: &str,
) -> Result<Vec<Recording>> {
    record_episodes_with(algo, seed, episodes, label, EvalActions::Deterministic)
}

/// [`record_episodes`] with the actions chosen as `actions` says: with
/// [`EvalActions::Stochastic`] the actions are sampled with `algo`'s own generator, so the episodes
/// are those an evaluation of the same checkpoint with sampled actions runs.
pub fn record_episodes_with(
    algo: &mut dyn Algorithm,
    seed: u64,
    episodes: usize,
    label: &str,
    actions: EvalActions,
) -> Result<Vec<Recording>> {
    let mut env = algo.eval_env()?;
    (0..episodes)
        .map(|i| {
            let mut frames = Vec::new();
            let episode_return = run_episode(
                algo,
                env.as_mut(),
                eval_seed(seed, i),
                actions,
                |env, so_far| {
                    let mut frame = env.render()?;
                    annotate(&mut frame, &format!("{label}  return {so_far:.1}"))?;
                    frames.push(frame);
                    Ok(())
                },
            )?;
            Ok(Recording {
                frames,
                episode_return,
            })
        })
        .collect()
}

/// [`record_episodes`] of the latest checkpoint of the run in `dir`, labelled with its algorithm
/// and environment.
pub fn record_run(
    dir: &Path,
    episodes: usize,
    device: &candle_core::Device,
) -> Result<Vec<Recording>> {
    record_run_with(dir, episodes, device, EvalActions::Deterministic)
}

/// [`record_run`] with the actions chosen as `actions` says (the episodes of
/// [`evaluate_run_with`](crate::evaluate::evaluate_run_with) with the same arguments).
pub fn record_run_with(
    dir: &Path,
    episodes: usize,
    device: &candle_core::Device,
    actions: EvalActions,
) -> Result<Vec<Recording>> {
    let (run, mut algo) = crate::evaluate::load_run(dir, device)?;
    let label = format!("{} {}", run.algo.to_uppercase(), run.env);
    record_episodes_with(algo.as_mut(), run.seed, episodes.max(1), &label, actions)
}

/// Writes `text` in the top-left corner of `frame`, in black on its background.
pub fn annotate(frame: &mut Frame, text: &str) -> Result<()> {
    crate::plot::ensure_font();
    let err = |e: &dyn std::fmt::Display| RunError::Plot(format!("frame label: {e}"));
    let size = (frame.width, frame.height);
    let area = BitMapBackend::with_buffer(&mut frame.rgb, size).into_drawing_area();
    area.draw_text(text, &("sans-serif", 16).into_font().color(&BLACK), (8, 6))
        .map_err(|e| err(&e))?;
    area.present().map_err(|e| err(&e))?;
    Ok(())
}

/// Places `frames` side by side on a white frame as tall as the tallest (for comparing runs).
pub fn side_by_side(frames: &[&Frame]) -> Frame {
    let width: u32 = frames.iter().map(|f| f.width).sum();
    let height = frames.iter().map(|f| f.height).max().unwrap_or(1);
    let mut out = Frame::filled(width.max(1), height, [255, 255, 255]);
    let mut x0 = 0_usize;
    for f in frames {
        for y in 0..f.height as usize {
            let src = &f.rgb[y * f.width as usize * 3..(y + 1) * f.width as usize * 3];
            let start = (y * width as usize + x0) * 3;
            out.rgb[start..start + src.len()].copy_from_slice(src);
        }
        x0 += f.width as usize;
    }
    out
}

/// The smallest rectangle `(x0, y0, x1, y1)` (inclusive) outside which `b` equals `a`, if they differ.
fn changed(a: &Frame, b: &Frame) -> Option<(u32, u32, u32, u32)> {
    let w = a.width as usize;
    let mut rect: Option<(u32, u32, u32, u32)> = None;
    for (i, (pa, pb)) in a.rgb.chunks_exact(3).zip(b.rgb.chunks_exact(3)).enumerate() {
        if pa != pb {
            let (x, y) = ((i % w) as u32, (i / w) as u32);
            rect = Some(match rect {
                None => (x, y, x, y),
                Some((x0, y0, x1, y1)) => (x0.min(x), y0.min(y), x1.max(x), y1.max(y)),
            });
        }
    }
    rect
}

/// Writes `frames` (all the size of the first) as an animated GIF at [`GIF_FPS`] that loops,
/// each frame quantized to its own 256-colour palette.
pub fn write_gif(path: &Path, frames: &[Frame]) -> Result<()> {
    let first = frames
        .first()
        .ok_or_else(|| RunError::Plot(format!("{}: no frames to write", path.display())))?;
    let (w, h) = (first.width, first.height);
    let too_big = |v: u32| {
        u16::try_from(v).map_err(|_| {
            RunError::Plot(format!(
                "{}: frames of {w}×{h} are too large for a GIF",
                path.display()
            ))
        })
    };
    let (gw, gh) = (too_big(w)?, too_big(h)?);
    let gif_err = |e: gif::EncodingError| RunError::Plot(format!("{}: {e}", path.display()));
    let mut bytes = Vec::new();
    {
        let mut encoder = gif::Encoder::new(&mut bytes, gw, gh, &[]).map_err(gif_err)?;
        encoder.set_repeat(gif::Repeat::Infinite).map_err(gif_err)?;
        let mut previous: Option<&Frame> = None;
        for f in frames {
            if (f.width, f.height) != (w, h) {
                return Err(RunError::Plot(format!(
                    "{}: frames of different sizes ({}×{} after {w}×{h})",
                    path.display(),
                    f.width,
                    f.height
                )));
            }
            // Only the rectangle that changed since the previous frame is stored (the rest is
            // kept): a fixed background costs nothing after the first frame.
            let (x0, y0, x1, y1) = match previous {
                Some(p) => changed(p, f).unwrap_or((0, 0, 0, 0)),
                None => (0, 0, w - 1, h - 1),
            };
            let rect: Vec<u8> = (y0..=y1)
                .flat_map(|y| {
                    let row = (y * w) as usize * 3;
                    f.rgb[row + x0 as usize * 3..row + (x1 as usize + 1) * 3]
                        .iter()
                        .copied()
                })
                .collect();
            // The rectangle fits in the frame, whose sides fit in u16 (checked above).
            let side = |a: u32, b: u32| (b - a + 1) as u16;
            let mut frame = gif::Frame::from_rgb_speed(side(x0, x1), side(y0, y1), &rect, 30);
            frame.left = x0 as u16;
            frame.top = y0 as u16;
            frame.dispose = gif::DisposalMethod::Keep;
            frame.delay = 100 / GIF_FPS;
            encoder.write_frame(&frame).map_err(gif_err)?;
            previous = Some(f);
        }
    }
    rl_math::persist::write_atomically(path, &bytes).map_err(|e| RunError::Plot(e.to_string()))
}
