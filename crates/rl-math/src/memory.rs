//! Memory a configuration would need, checked against the machine before anything is allocated:
//! a `batch_size` or `buffer_size` off by a few digits is an error naming it, not an
//! out-of-memory kill an hour into a run.

/// The machine's physical memory in bytes (`MemTotal` of `/proc/meminfo`), if it can be read.
pub fn total_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// `Ok` if `bytes` (`None`: so many they overflow) fit in this machine's memory; otherwise the
/// reason, naming `what` and both sizes. Where the machine's memory cannot be read, only an
/// overflow is refused.
///
/// ```
/// assert!(rl_math::memory::check_fits("a small buffer", Some(1 << 20)).is_ok());
/// let err = rl_math::memory::check_fits("the replay buffer (buffer_size = 10^15)", None).unwrap_err();
/// assert!(err.contains("buffer_size"));
/// ```
pub fn check_fits(what: &str, bytes: Option<u64>) -> Result<(), String> {
    let gib = |b: u64| b as f64 / f64::from(1u32 << 30);
    match (bytes, total_bytes()) {
        (None, _) => Err(format!(
            "{what} would need more memory than can be counted: lower it"
        )),
        (Some(b), Some(total)) if b > total => Err(format!(
            "{what} would need about {:.1} GiB, more than this machine's {:.1} GiB: lower it",
            gib(b),
            gib(total)
        )),
        _ => Ok(()),
    }
}

/// `a × b × c` bytes, `None` on overflow.
pub fn product(factors: &[u64]) -> Option<u64> {
    factors.iter().try_fold(1u64, |acc, &f| acc.checked_mul(f))
}
