//! [`Workers`]: fork-join for the independent halves of an update (two critics, a layer's weight
//! and input gradients) on a small pool of threads that lives as long as the agent.
//!
//! Spawning an OS thread for each fork costs ≈ 55 µs on the 2-core machine this project is
//! measured on, and a SAC update forks seven times; a rayon pool hands work to an already running
//! thread instead, and when no thread is free the forking thread runs both halves itself. The
//! halves are independent computations, so the results are bit-identical however they are
//! scheduled.
//!
//! ```
//! let workers = rl_nn::Workers::new(2)?;
//! let (a, b) = workers.run(|| workers.join(|| 1 + 1, || 2 + 2));
//! assert_eq!((a, b), (2, 4));
//! assert_eq!(rl_nn::Workers::sequential().join(|| 1, || 2), (1, 2));
//! # Ok::<(), rl_nn::NnError>(())
//! ```

use std::sync::Arc;

use crate::{NnError, Result};

/// A pool of threads for fork-join work, or none (everything on the calling thread).
///
/// Cloning shares the pool.
#[derive(Clone, Default)]
pub struct Workers {
    pool: Option<Arc<rayon::ThreadPool>>,
}

impl std::fmt::Debug for Workers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workers")
            .field("threads", &self.threads())
            .finish()
    }
}

impl Workers {
    /// A pool of `threads` threads; `0` or `1` means [`Workers::sequential`].
    pub fn new(threads: usize) -> Result<Self> {
        if threads <= 1 {
            return Ok(Self::sequential());
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("rl-nn-worker-{i}"))
            .build()
            .map_err(|e| NnError::Invalid(format!("cannot start {threads} worker threads: {e}")))?;
        Ok(Self {
            pool: Some(Arc::new(pool)),
        })
    }

    /// One thread per core (`std::thread::available_parallelism`), or sequential on one core.
    /// The forks use two; the matrix products themselves are single-threaded
    /// ([`rl_math::matmul`]).
    pub fn per_core() -> Result<Self> {
        Self::new(std::thread::available_parallelism().map_or(1, |n| n.get()))
    }

    /// No threads: [`Workers::join`] runs `a` then `b` on the calling thread.
    pub fn sequential() -> Self {
        Self { pool: None }
    }

    /// The number of threads (1 when sequential).
    pub fn threads(&self) -> usize {
        self.pool.as_ref().map_or(1, |p| p.current_num_threads())
    }

    /// Runs `f` on one of the pool's threads (on the calling thread when sequential), so the
    /// [`Workers::join`]s inside it fork without a cross-thread hand-off to start them. Wrap a
    /// whole update in one `run`.
    pub fn run<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        match &self.pool {
            Some(pool) if pool.current_thread_index().is_none() => pool.install(f),
            _ => f(),
        }
    }

    /// `(a(), b())`, the two possibly at the same time on two threads.
    pub fn join<A: Send, B: Send>(
        &self,
        a: impl FnOnce() -> A + Send,
        b: impl FnOnce() -> B + Send,
    ) -> (A, B) {
        match &self.pool {
            None => (a(), b()),
            Some(pool) if pool.current_thread_index().is_some() => rayon::join(a, b),
            Some(pool) => pool.join(a, b),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]

    use super::Workers;

    #[test]
    fn one_thread_or_none_is_sequential() {
        assert_eq!(Workers::new(0).unwrap().threads(), 1);
        assert_eq!(Workers::new(1).unwrap().threads(), 1);
        assert_eq!(Workers::new(2).unwrap().threads(), 2);
        let order = std::sync::Mutex::new(Vec::new());
        Workers::sequential().join(
            || order.lock().unwrap().push('a'),
            || order.lock().unwrap().push('b'),
        );
        assert_eq!(*order.lock().unwrap(), ['a', 'b']);
    }

    #[test]
    fn joins_return_both_results_inside_and_outside_run_and_nested() {
        let workers = Workers::new(2).unwrap();
        let clone = workers.clone();
        assert_eq!(workers.join(|| 1, || "two"), (1, "two"));
        let nested = workers.run(|| {
            workers.join(
                || clone.join(|| 1, || 2),
                || workers.run(|| clone.join(|| 3, || 4)),
            )
        });
        assert_eq!(nested, ((1, 2), (3, 4)));
        // Both halves run at once: each signals, then waits (with a time limit, so a sequential
        // join fails the test instead of hanging it) for the other's signal.
        let (to_b, from_a) = std::sync::mpsc::channel();
        let (to_a, from_b) = std::sync::mpsc::channel();
        let limit = std::time::Duration::from_secs(10);
        let (a, b) = workers.run(|| {
            workers.join(
                move || to_b.send(()).is_ok() && from_b.recv_timeout(limit).is_ok(),
                move || to_a.send(()).is_ok() && from_a.recv_timeout(limit).is_ok(),
            )
        });
        assert!(a && b, "the two halves did not overlap");
    }
}
