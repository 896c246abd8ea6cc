//! The learning-curve plot: training episode returns and evaluation mean ± std against steps.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

use crate::{Result, RunError};

/// One curve's data.
#[derive(Debug, Clone, Default)]
pub struct Curve {
    /// `(step, return)` of each training episode.
    pub episodes: Vec<(u64, f64)>,
    /// `(step, mean, std)` of each evaluation.
    pub evals: Vec<(u64, f64, f64)>,
}

static FONT: &[u8] = include_bytes!("../assets/DejaVuSans-subset.ttf");

fn ensure_font() {
    // Registering twice is harmless; the embedded font makes plots work without system fonts.
    let _ = register_font("sans-serif", FontStyle::Normal, FONT);
}

/// Draws `curve` to a PNG at `path` with `title`.
pub fn learning_curve(path: &Path, title: &str, curve: &Curve) -> Result<()> {
    ensure_font();
    let err = |e: &dyn std::fmt::Display| RunError::Plot(format!("{}: {e}", path.display()));
    let root = BitMapBackend::new(path, (1000, 600)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;

    let xs = curve
        .episodes
        .iter()
        .map(|p| p.0)
        .chain(curve.evals.iter().map(|p| p.0));
    let x_max = xs.max().unwrap_or(1).max(1) as f64;
    let ys: Vec<f64> = curve
        .episodes
        .iter()
        .map(|p| p.1)
        .chain(curve.evals.iter().flat_map(|p| [p.1 - p.2, p.1 + p.2]))
        .filter(|v| v.is_finite())
        .collect();
    let (mut y_min, mut y_max) = ys
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    if !(y_min.is_finite() && y_max.is_finite()) {
        (y_min, y_max) = (0.0, 1.0);
    }
    let pad = ((y_max - y_min) * 0.05).max(1e-6);

    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 24))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..x_max, (y_min - pad)..(y_max + pad))
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .x_desc("environment steps")
        .y_desc("episode return")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(|e| err(&e))?;

    let light = RGBColor(70, 120, 200);
    chart
        .draw_series(
            curve
                .episodes
                .iter()
                .map(|&(s, r)| Circle::new((s as f64, r), 3, light.mix(0.6).filled())),
        )
        .map_err(|e| err(&e))?
        .label("training episodes")
        .legend(move |(x, y)| Circle::new((x + 10, y), 3, light.filled()));

    if !curve.evals.is_empty() {
        let band: Vec<(f64, f64)> = curve
            .evals
            .iter()
            .map(|&(s, m, sd)| (s as f64, m + sd))
            .chain(
                curve
                    .evals
                    .iter()
                    .rev()
                    .map(|&(s, m, sd)| (s as f64, m - sd)),
            )
            .collect();
        chart
            .draw_series(std::iter::once(Polygon::new(band, RED.mix(0.15).filled())))
            .map_err(|e| err(&e))?;
        chart
            .draw_series(LineSeries::new(
                curve.evals.iter().map(|&(s, m, _)| (s as f64, m)),
                RED.stroke_width(2),
            ))
            .map_err(|e| err(&e))?
            .label("evaluation (deterministic): mean ± std")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE.mix(0.8))
        .label_font(("sans-serif", 14))
        .position(SeriesLabelPosition::LowerRight)
        .draw()
        .map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))?;
    Ok(())
}
