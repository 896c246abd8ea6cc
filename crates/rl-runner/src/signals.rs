//! [`stop_on_ctrl_c`]: the stop flag a training program hands to [`train`](crate::train).

#![allow(
    clippy::print_stderr,
    reason = "the handler tells the user at the console what Ctrl-C does"
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::{Result, RunError};

/// Installs a Ctrl-C handler for the process and returns the flag it sets, for
/// [`TrainOptions::stop`](crate::TrainOptions::stop): the first Ctrl-C lets training stop before
/// its next step, write a checkpoint and return a summary marked `interrupted`; a second one
/// exits at once with status 130. A process can install one handler only; a second call is an
/// error.
pub fn stop_on_ctrl_c() -> Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            eprintln!("second Ctrl-C: exiting without a final checkpoint");
            std::process::exit(130);
        }
        eprintln!(
            "Ctrl-C: stopping after this step and writing a checkpoint (Ctrl-C again to quit at once)"
        );
    })
    .map_err(|e| RunError::Config(format!("cannot install the Ctrl-C handler: {e}")))?;
    Ok(stop)
}
