//! Aggregate statistics over seeds, as rliable recommends (Agarwal et al. 2021, "Deep
//! Reinforcement Learning at the Edge of the Statistical Precipice"): the median, the
//! interquartile mean (IQM, the mean of the middle half of the runs) and a 95% stratified
//! bootstrap confidence interval for the IQM.
//!
//! ```
//! use rl_runner::stats::{iqm, iqm_interval, median};
//!
//! let returns = [500.0, 500.0, 128.0, 500.0, 497.0, 500.0, 500.0, 483.0, 500.0, 500.0];
//! assert_eq!(median(&returns), 500.0);
//! // Two runs are trimmed from each end of ten (128 and 483; 500 and 500): the IQM is the mean
//! // of 497 and five 500s, and the 128 does not pull it down.
//! assert_eq!(iqm(&returns), 499.5);
//! let (low, high) = iqm_interval(&[returns.to_vec()], 0.95, 10_000, 0);
//! assert!(low <= iqm(&returns) && iqm(&returns) <= high);
//! ```

use rl_math::SeededRng;

/// The median (`NaN` for no values).
pub fn median(values: &[f64]) -> f64 {
    let v = sorted(values);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => 0.5 * (v[n / 2 - 1] + v[n / 2]),
    }
}

/// The interquartile mean: the mean after removing `⌊n/4⌋` values from each end of the sorted
/// values (scipy's `trim_mean(x, 0.25)`, which rliable's IQM calls). With fewer than four values
/// nothing is removed. `NaN` for no values.
pub fn iqm(values: &[f64]) -> f64 {
    let v = sorted(values);
    let cut = v.len() / 4;
    let middle = &v[cut..v.len() - cut];
    if middle.is_empty() {
        return f64::NAN;
    }
    middle.iter().sum::<f64>() / middle.len() as f64
}

/// A `confidence` (e.g. 0.95) percentile-bootstrap interval for the IQM of all runs of all
/// `tasks` pooled, resampling each task's runs with replacement within the task (the stratified
/// bootstrap of rliable's `get_interval_estimates`). `reps` resamples drawn from a generator
/// seeded with `seed`, so the interval is the same on every machine. Tasks with no runs are
/// skipped; with no runs at all the interval is `(NaN, NaN)`.
pub fn iqm_interval(tasks: &[Vec<f64>], confidence: f64, reps: usize, seed: u64) -> (f64, f64) {
    let total: usize = tasks.iter().map(Vec::len).sum();
    if total == 0 || reps == 0 {
        return (f64::NAN, f64::NAN);
    }
    let mut rng = SeededRng::new(seed);
    let mut sample = Vec::with_capacity(total);
    let mut estimates = Vec::with_capacity(reps);
    for _ in 0..reps {
        sample.clear();
        for task in tasks.iter().filter(|t| !t.is_empty()) {
            // A task is non-empty here, so drawing its indices cannot fail.
            let draws = rng.indices(task.len(), task.len()).unwrap_or_default();
            sample.extend(draws.into_iter().map(|i| task[i]));
        }
        estimates.push(iqm(&sample));
    }
    estimates.sort_by(f64::total_cmp);
    let tail = (1.0 - confidence.clamp(0.0, 1.0)) / 2.0;
    (
        percentile(&estimates, tail),
        percentile(&estimates, 1.0 - tail),
    )
}

/// The `q`-quantile (0..=1) of sorted values, interpolating linearly between neighbours (NumPy's
/// default `percentile`).
fn percentile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

fn sorted(values: &[f64]) -> Vec<f64> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values from scipy 1.17.1: `scipy.stats.trim_mean(x, 0.25)`.
    #[test]
    fn iqm_is_scipys_trim_mean() {
        // trim_mean([1..10], 0.25) = mean(3..8) = 5.5; outliers at both ends do not count.
        let x: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(iqm(&x), 5.5);
        assert_eq!(
            iqm(&[-1e9, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 1e9, 1.0, 2.0]),
            4.5
        );
        // n = 7: ⌊7/4⌋ = 1 from each end.
        assert_eq!(iqm(&[7.0, 1.0, 2.0, 3.0, 4.0, 5.0, 100.0]), 4.2);
        // Fewer than four values: the plain mean.
        assert_eq!(iqm(&[1.0, 2.0, 6.0]), 3.0);
        assert!(iqm(&[]).is_nan());
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn interval_brackets_the_estimate_and_is_reproducible() {
        let runs = vec![vec![
            -150.0, -180.0, -140.0, -900.0, -160.0, -155.0, -170.0, -145.0,
        ]];
        let (lo, hi) = iqm_interval(&runs, 0.95, 20_000, 3);
        let point = iqm(&runs[0]);
        assert!(lo < point && point < hi, "{lo} {point} {hi}");
        assert_eq!((lo, hi), iqm_interval(&runs, 0.95, 20_000, 3));
        // Every resample lies between the smallest and largest run.
        assert!(lo >= -900.0 && hi <= -140.0);
        // All runs equal: no spread.
        assert_eq!(iqm_interval(&[vec![2.0; 10]], 0.95, 1_000, 0), (2.0, 2.0));
        assert!(iqm_interval(&[], 0.95, 10, 0).0.is_nan());
    }

    #[test]
    fn resampling_is_stratified_by_task() {
        // Two tasks of two runs each, far apart: a plain bootstrap over the four pooled runs could
        // draw all four from one task (IQM 0 or 100); stratified, each resample has two runs of
        // each task, so the IQM (the middle two of four) is always 50.
        let tasks = vec![vec![0.0, 0.0], vec![100.0, 100.0]];
        let (lo, hi) = iqm_interval(&tasks, 1.0, 5_000, 1);
        assert_eq!((lo, hi), (50.0, 50.0));
    }
}
