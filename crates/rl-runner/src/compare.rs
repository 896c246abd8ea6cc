//! Runs side by side: every run's training and evaluation curves on one picture (mean and spread
//! across seeds where several runs share an algorithm and environment), the final returns as a
//! table, and their episodes side by side in one GIF.

use std::path::{Path, PathBuf};

use candle_core::Device;
use plotters::prelude::*;

use crate::config::ConfigFile;
use crate::evaluate::load_run;
use crate::plot::{Curve, ensure_font};
use crate::run_dir::{read_curve, read_run_config};
use crate::video::{Recording, record_episodes, side_by_side, write_gif};
use crate::{Result, RunError};

/// One run folder's curves.
#[derive(Debug, Clone)]
pub struct RunCurves {
    /// The run folder.
    pub dir: PathBuf,
    /// Its algorithm.
    pub algo: String,
    /// Its environment.
    pub env: String,
    /// Its seed.
    pub seed: u64,
    /// The algorithm's `variant` where its config sets one other than the learner's default
    /// (SAC's `"v1"`; a resolved config also names the default, `"v2"`, which is left out), so
    /// that variants of one algorithm fall in separate groups.
    pub variant: Option<String>,
    /// Training episodes and evaluations from `metrics/`.
    pub curve: Curve,
}

impl RunCurves {
    /// Reads the run in `dir` (its `config.toml` and `metrics/`).
    pub fn read(dir: &Path) -> Result<Self> {
        let config = ConfigFile::parse(&read_run_config(dir)?)?;
        let run = config.run()?;
        let variant = Self::variant_of(&config, &run.algo)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            algo: run.algo,
            env: run.env,
            seed: run.seed,
            variant,
            curve: read_curve(dir)?,
        })
    }

    /// The `variant` that `config` sets for `algo`, where it is not the learner's default: what
    /// [`RunCurves::variant`] holds for a run trained with that configuration.
    pub fn variant_of(config: &ConfigFile, algo: &str) -> Result<Option<String>> {
        let default = crate::learners::learner(algo)
            .ok()
            .and_then(|l| l.default_variant);
        Ok(config
            .algo_table(algo)?
            .get("variant")
            .and_then(|v| v.as_str())
            .filter(|&v| Some(v) != default)
            .map(str::to_owned))
    }

    /// The last evaluation: `(step, mean, std)`, the std NaN where it was not recorded.
    pub fn final_eval(&self) -> Option<(u64, f64, f64)> {
        self.curve.evals.last().copied()
    }

    /// `"<ALGO> <env>"`, or `"<ALGO> <variant> <env>"` where the config names a variant (`"SAC v1
    /// Hopper-v5"`): runs with the same key are seeds of one group.
    pub fn group(&self) -> String {
        format!("{} {}", self.learner(), self.env)
    }

    /// `"<ALGO>"` or `"<ALGO> <variant>"` (`"SAC v1"`): what a group and a GIF label name.
    fn learner(&self) -> String {
        match &self.variant {
            Some(v) => format!("{} {v}", self.algo.to_uppercase()),
            None => self.algo.to_uppercase(),
        }
    }
}

/// The runs grouped by [`RunCurves::group`], in order of first appearance.
pub fn groups(runs: &[RunCurves]) -> Vec<(String, Vec<&RunCurves>)> {
    let mut out: Vec<(String, Vec<&RunCurves>)> = Vec::new();
    for r in runs {
        match out.iter_mut().find(|(g, _)| *g == r.group()) {
            Some((_, members)) => members.push(r),
            None => out.push((r.group(), vec![r])),
        }
    }
    out
}

/// `(step, mean, low, high)` of an evaluation curve.
type Spread = (f64, f64, f64, f64);

/// `(step, mean, min, max)` of the groups' evaluation means over the steps every run evaluated at.
fn eval_spread(members: &[&RunCurves]) -> Vec<Spread> {
    let Some(first) = members.first() else {
        return Vec::new();
    };
    first
        .curve
        .evals
        .iter()
        .filter_map(|&(step, _, _)| {
            let values: Vec<f64> = members
                .iter()
                .filter_map(|m| m.curve.evals.iter().find(|e| e.0 == step).map(|e| e.1))
                .collect();
            (values.len() == members.len()).then(|| {
                let mean = values.iter().sum::<f64>() / values.len() as f64;
                let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                (step as f64, mean, lo, hi)
            })
        })
        .collect()
}

/// Training returns smoothed over `window` episodes: `(step, mean of the last window)`.
fn smoothed(episodes: &[(u64, f64)], window: usize) -> Vec<(f64, f64)> {
    (0..episodes.len())
        .map(|i| {
            let from = (i + 1).saturating_sub(window);
            let slice = &episodes[from..=i];
            let mean = slice.iter().map(|e| e.1).sum::<f64>() / slice.len() as f64;
            (episodes[i].0 as f64, mean)
        })
        .collect()
}

const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

/// Draws every run on one PNG: training returns (smoothed over 20 episodes, one line per run) on
/// the left, evaluations on the right (a group of several seeds as its mean with the min–max
/// spread shaded; a single run as its mean ± std), one colour per group.
pub fn compare_plot(path: &Path, runs: &[RunCurves]) -> Result<()> {
    ensure_font();
    let err = |e: &dyn std::fmt::Display| RunError::Plot(format!("{}: {e}", path.display()));
    let groups = groups(runs);
    let root = BitMapBackend::new(path, (1400, 600)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let (left, right) = root.split_horizontally(700);

    // Budgets that differ tenfold or more (SAC's 20k steps beside A2C's 1M) share a log-scaled
    // step axis; otherwise it is linear.
    let last_steps: Vec<u64> = runs
        .iter()
        .filter_map(|r| {
            r.curve
                .episodes
                .iter()
                .map(|e| e.0)
                .chain(r.curve.evals.iter().map(|e| e.0))
                .max()
        })
        .collect();
    let longest = last_steps.iter().copied().max().unwrap_or(1).max(1) as f64;
    let shortest = last_steps.iter().copied().min().unwrap_or(1).max(1) as f64;
    let log = longest / shortest >= 10.0;
    let xmap = move |step: f64| if log { step.max(1.0).log10() } else { step };
    let (x_min, x_max) = if log {
        (xmap(shortest / 100.0), xmap(longest))
    } else {
        (0.0, longest)
    };
    let x_label = move |x: &f64| {
        if log {
            format!("{:.0}", 10f64.powf(*x))
        } else {
            format!("{x:.0}")
        }
    };
    let x_desc = if log {
        "environment steps (log scale)"
    } else {
        "environment steps"
    };
    let range = |values: &mut dyn Iterator<Item = f64>| {
        let (lo, hi) = values
            .filter(|v| v.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(v), hi.max(v))
            });
        if lo.is_finite() && hi.is_finite() {
            let pad = ((hi - lo) * 0.05).max(1e-6);
            (lo - pad, hi + pad)
        } else {
            (0.0, 1.0)
        }
    };

    // Training.
    let train: Vec<(usize, Vec<(f64, f64)>)> = groups
        .iter()
        .enumerate()
        .flat_map(|(g, (_, members))| {
            members.iter().map(move |m| {
                let pts = smoothed(&m.curve.episodes, 20);
                (g, pts.into_iter().map(|(x, y)| (xmap(x), y)).collect())
            })
        })
        .collect();
    let (lo, hi) = range(&mut train.iter().flat_map(|(_, pts)| pts.iter().map(|p| p.1)));
    let mut chart = ChartBuilder::on(&left)
        .caption(
            "training episodes (mean of the last 20)",
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(x_min..x_max, lo..hi)
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc("episode return")
        .x_label_formatter(&x_label)
        .y_label_formatter(&|y| format!("{y:.0}"))
        .label_style(("sans-serif", 13))
        .draw()
        .map_err(|e| err(&e))?;
    for (g, pts) in &train {
        let color = PALETTE[g % PALETTE.len()];
        chart
            .draw_series(LineSeries::new(
                pts.iter().copied(),
                color.mix(0.8).stroke_width(1),
            ))
            .map_err(|e| err(&e))?;
    }

    // Evaluation.
    let mut lines: Vec<(String, RGBColor, Vec<Spread>)> = Vec::new();
    for (g, (name, members)) in groups.iter().enumerate() {
        let color = PALETTE[g % PALETTE.len()];
        let (label, pts) = if members.len() > 1 {
            (
                format!("{name} ({} seeds: mean, min–max)", members.len()),
                eval_spread(members),
            )
        } else {
            let r = members[0];
            // A regress report's seed has its evaluation means only (std NaN): no band.
            let known = r.curve.evals.iter().all(|e| e.2.is_finite());
            let shown = if known { "mean ± std" } else { "mean" };
            (
                format!("{name} (seed {}: {shown})", r.seed),
                r.curve
                    .evals
                    .iter()
                    .map(|&(s, m, sd)| {
                        let sd = if sd.is_finite() { sd } else { 0.0 };
                        (s as f64, m, m - sd, m + sd)
                    })
                    .collect(),
            )
        };
        let pts = pts
            .into_iter()
            .map(|(x, m, lo, hi)| (xmap(x), m, lo, hi))
            .collect();
        lines.push((label, color, pts));
    }
    let (lo, hi) = range(
        &mut lines
            .iter()
            .flat_map(|(_, _, pts)| pts.iter().flat_map(|p| [p.2, p.3])),
    );
    let mut chart = ChartBuilder::on(&right)
        .caption("deterministic evaluations", ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(x_min..x_max, lo..hi)
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc("mean return")
        .x_label_formatter(&x_label)
        .y_label_formatter(&|y| format!("{y:.0}"))
        .label_style(("sans-serif", 13))
        .draw()
        .map_err(|e| err(&e))?;
    for (label, color, pts) in &lines {
        let band: Vec<(f64, f64)> = pts
            .iter()
            .map(|p| (p.0, p.3))
            .chain(pts.iter().rev().map(|p| (p.0, p.2)))
            .collect();
        chart
            .draw_series(std::iter::once(Polygon::new(
                band,
                color.mix(0.15).filled(),
            )))
            .map_err(|e| err(&e))?;
        let color = *color;
        chart
            .draw_series(LineSeries::new(
                pts.iter().map(|p| (p.0, p.1)),
                color.stroke_width(2),
            ))
            .map_err(|e| err(&e))?
            .label(label.as_str())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE.mix(0.8))
        .label_font(("sans-serif", 13))
        .position(SeriesLabelPosition::LowerRight)
        .draw()
        .map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))?;
    Ok(())
}

/// One deterministic episode of each run's latest checkpoint (its first evaluation episode), side
/// by side in one GIF; a run whose episode ends first keeps showing its last frame.
pub fn compare_gif(path: &Path, runs: &[RunCurves], device: &Device) -> Result<Vec<f64>> {
    let mut recordings: Vec<Recording> = Vec::new();
    for r in runs {
        let (run, mut algo) = load_run(&r.dir, device)?;
        let label = format!("{} seed {}", r.learner(), run.seed);
        let mut rec = record_episodes(algo.as_mut(), run.seed, 1, &label)?;
        recordings.append(&mut rec);
    }
    let len = recordings.iter().map(|r| r.frames.len()).max().unwrap_or(0);
    let frames: Vec<_> = (0..len)
        .map(|t| {
            let row: Vec<_> = recordings
                .iter()
                .filter_map(|r| r.frames.get(t.min(r.frames.len().saturating_sub(1))))
                .collect();
            side_by_side(&row)
        })
        .collect();
    write_gif(path, &frames)?;
    Ok(recordings.iter().map(|r| r.episode_return).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(algo: &str, env: &str, seed: u64, variant: Option<&str>) -> RunCurves {
        RunCurves {
            dir: PathBuf::from(format!("{algo}-{env}-{seed}")),
            algo: algo.into(),
            env: env.into(),
            seed,
            variant: variant.map(str::to_owned),
            curve: Curve::default(),
        }
    }

    /// A run folder as `train` leaves it, with the resolved `[sac]` table naming `variant`.
    fn sac_folder(root: &Path, name: &str, variant: &str) -> PathBuf {
        let dir = root.join(name);
        std::fs::create_dir_all(dir.join("metrics")).unwrap();
        let config = format!(
            "[run]\nalgo = \"sac\"\nenv = \"Hopper-v5\"\nseed = 0\n\n[sac]\nvariant = \"{variant}\"\n"
        );
        std::fs::write(dir.join("config.toml"), config).unwrap();
        let episodes = format!("{}\n", crate::logs::EPISODES_HEADER);
        std::fs::write(dir.join("metrics/episodes.csv"), episodes).unwrap();
        let evals = format!("{}\n", crate::logs::EVAL_HEADER);
        std::fs::write(dir.join("metrics/eval.csv"), evals).unwrap();
        dir
    }

    #[test]
    fn a_resolved_config_names_the_default_variant_and_its_group_leaves_it_out() {
        let root = tempfile::tempdir().unwrap();
        let v2 = RunCurves::read(&sac_folder(root.path(), "v2", "v2")).unwrap();
        let v1 = RunCurves::read(&sac_folder(root.path(), "v1", "v1")).unwrap();
        assert_eq!(v2.variant, None);
        assert_eq!(v2.group(), "SAC Hopper-v5");
        assert_eq!(v1.group(), "SAC v1 Hopper-v5");
    }

    #[test]
    fn seeds_group_by_algorithm_variant_and_env_in_order_of_first_appearance() {
        let runs = [
            run("sac", "Hopper-v5", 0, None),
            run("sac", "Hopper-v5", 0, Some("v1")),
            run("sac", "Hopper-v5", 1, None),
            run("sac", "Hopper-v5", 1, Some("v1")),
            run("a2c", "Hopper-v5", 0, None),
        ];
        let grouped: Vec<(String, Vec<u64>)> = groups(&runs)
            .into_iter()
            .map(|(g, m)| (g, m.iter().map(|r| r.seed).collect()))
            .collect();
        assert_eq!(
            grouped,
            [
                ("SAC Hopper-v5".to_string(), vec![0, 1]),
                ("SAC v1 Hopper-v5".to_string(), vec![0, 1]),
                ("A2C Hopper-v5".to_string(), vec![0]),
            ]
        );
    }
}
