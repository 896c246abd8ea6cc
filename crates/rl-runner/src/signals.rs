//! [`stop_on_signals`]: the stop flag a training program hands to [`train`](crate::train).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};

use signal_hook::consts::signal::{SIGINT, SIGTERM};
use signal_hook::flag;

use crate::{Result, RunError};

/// The signals that stop training with a checkpoint: Ctrl-C (SIGINT), and SIGTERM and SIGHUP,
/// which `docker stop`, Slurm, `timeout` and a closed terminal send.
#[cfg(unix)]
const STOP_SIGNALS: [i32; 3] = [SIGINT, SIGTERM, signal_hook::consts::signal::SIGHUP];
#[cfg(not(unix))]
const STOP_SIGNALS: [i32; 2] = [SIGINT, SIGTERM];

/// The last stop signal received (0: none).
static LAST: LazyLock<Arc<AtomicUsize>> = LazyLock::new(|| Arc::new(AtomicUsize::new(0)));

/// Installs handlers for SIGINT, SIGTERM and SIGHUP and returns the flag they set, for
/// [`TrainOptions::stop`](crate::TrainOptions::stop): the first signal lets training stop before
/// its next step, write a checkpoint and return a summary marked `interrupted` (then
/// [`stop_signal`] says which signal it was); a second one exits at once with status 128 + the
/// signal's number.
pub fn stop_on_signals() -> Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    for signal in STOP_SIGNALS {
        let fail =
            |e: std::io::Error| RunError::Config(format!("cannot handle signal {signal}: {e}"));
        // Registered first, so that it sees the flag before this signal sets it.
        flag::register_conditional_shutdown(signal, 128 + signal, stop.clone()).map_err(fail)?;
        flag::register(signal, stop.clone()).map_err(fail)?;
        flag::register_usize(signal, LAST.clone(), signal as usize).map_err(fail)?;
    }
    Ok(stop)
}

/// The signal that stopped training through [`stop_on_signals`]' flag, if one did.
pub fn stop_signal() -> Option<i32> {
    match LAST.load(Ordering::SeqCst) {
        0 => None,
        s => i32::try_from(s).ok(),
    }
}

/// `SIGINT`, `SIGTERM`, `SIGHUP` or the number, for messages.
pub(crate) fn signal_name(signal: Option<i32>) -> String {
    match signal {
        Some(SIGINT) => "Ctrl-C (SIGINT)".into(),
        Some(SIGTERM) => "SIGTERM".into(),
        #[cfg(unix)]
        Some(signal_hook::consts::signal::SIGHUP) => "SIGHUP".into(),
        Some(s) => format!("signal {s}"),
        None => "a stop request".into(),
    }
}
