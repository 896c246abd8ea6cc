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
    /// `(step, mean, std)` of each evaluation; the std is NaN where it was not recorded (the
    /// seeds a regress report keeps, which `cargo xtask compare` reads, have means only).
    pub evals: Vec<(u64, f64, f64)>,
}

static FONT: &[u8] = include_bytes!("../assets/DejaVuSans-subset.ttf");

pub(crate) fn ensure_font() {
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

/// One line of a [`Panel`].
#[derive(Debug, Clone, Default)]
pub struct Series {
    /// Legend text.
    pub label: String,
    /// `(step, value)` points.
    pub points: Vec<(f64, f64)>,
}

/// One chart of a [`curve_grid`].
#[derive(Debug, Clone, Default)]
pub struct Panel {
    /// The chart's caption.
    pub title: String,
    /// Its lines (one per seed, say).
    pub series: Vec<Series>,
    /// A horizontal dashed line (a pass threshold), if any.
    pub threshold: Option<f64>,
}

/// Draws every panel in a grid of up to three columns to a PNG at `path` (the regression
/// report's `curves.png`).
pub fn curve_grid(path: &Path, panels: &[Panel]) -> Result<()> {
    ensure_font();
    let err = |e: &dyn std::fmt::Display| RunError::Plot(format!("{}: {e}", path.display()));
    let cols = panels.len().clamp(1, 3);
    let rows = panels.len().div_ceil(cols).max(1);
    let (w, h) = (520u32, 340u32);
    let root = BitMapBackend::new(path, (w * cols as u32, h * rows as u32)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let palette = [
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
        RGBColor(148, 103, 189),
    ];
    for (area, panel) in root.split_evenly((rows, cols)).iter().zip(panels) {
        let pts = panel.series.iter().flat_map(|s| s.points.iter());
        let x_max = pts.clone().map(|p| p.0).fold(1.0, f64::max);
        let ys: Vec<f64> = pts
            .map(|p| p.1)
            .chain(panel.threshold)
            .filter(|v| v.is_finite())
            .collect();
        let (mut lo, mut hi) = ys
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            });
        if !(lo.is_finite() && hi.is_finite()) {
            (lo, hi) = (0.0, 1.0);
        }
        let pad = ((hi - lo) * 0.05).max(1e-6);
        let mut chart = ChartBuilder::on(area)
            .caption(&panel.title, ("sans-serif", 15))
            .margin(8)
            .x_label_area_size(30)
            .y_label_area_size(50)
            .build_cartesian_2d(0.0..x_max, (lo - pad)..(hi + pad))
            .map_err(|e| err(&e))?;
        chart
            .configure_mesh()
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_label_formatter(&|y| format!("{y:.0}"))
            .label_style(("sans-serif", 11))
            .draw()
            .map_err(|e| err(&e))?;
        if let Some(t) = panel.threshold {
            chart
                .draw_series(DashedLineSeries::new(
                    [(0.0, t), (x_max, t)],
                    6,
                    4,
                    BLACK.stroke_width(1),
                ))
                .map_err(|e| err(&e))?
                .label(format!("threshold {t}"))
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], BLACK));
        }
        for (i, s) in panel.series.iter().enumerate() {
            let color = palette[i % palette.len()];
            chart
                .draw_series(LineSeries::new(
                    s.points.iter().copied(),
                    color.stroke_width(2),
                ))
                .map_err(|e| err(&e))?
                .label(s.label.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color));
        }
        chart
            .configure_series_labels()
            .border_style(BLACK)
            .background_style(WHITE.mix(0.8))
            .label_font(("sans-serif", 11))
            .position(SeriesLabelPosition::LowerRight)
            .draw()
            .map_err(|e| err(&e))?;
    }
    root.present().map_err(|e| err(&e))?;
    Ok(())
}
