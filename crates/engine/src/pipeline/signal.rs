//! [`Signal`]: a one-shot shutdown signal that the hot path can check without a lock.

use std::sync::atomic::{AtomicBool, Ordering};

use tokio_util::sync::{CancellationToken, WaitForCancellationFuture};

/// A [`CancellationToken`] with a lock-free flag beside it.
///
/// `CancellationToken::is_cancelled` takes a mutex, and polling `cancelled()` registers a
/// waiter under one; the tasks check [`is_fired`](Self::is_fired) once per message and poll
/// [`fired`](Self::fired) only after their work came back pending, so that a busy pipeline
/// takes no lock per message for its shutdown checks.
#[derive(Debug, Default)]
pub(crate) struct Signal {
    flag: AtomicBool,
    token: CancellationToken,
}

impl Signal {
    /// Fires the signal. Idempotent.
    pub(crate) fn fire(&self) {
        self.flag.store(true, Ordering::Release);
        self.token.cancel();
    }

    /// Whether the signal has fired.
    pub(crate) fn is_fired(&self) -> bool {
        self.flag.load(Ordering::Acquire)
    }

    /// Completes once the signal has fired.
    pub(crate) fn fired(&self) -> WaitForCancellationFuture<'_> {
        self.token.cancelled()
    }
}
