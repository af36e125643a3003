//! [`Signal`]: a one-shot shutdown signal that the hot path can check without a lock.

use std::{
    future::{Future, poll_fn},
    pin::pin,
    sync::atomic::{AtomicBool, Ordering},
    task::Poll,
};

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

    /// Runs `work` until it completes (`Some` of its output) or the signal fires (`None`),
    /// whichever comes first; `work` is polled first, as in a `biased` `select!`.
    ///
    /// The wait for the signal is built only once `work` came back pending: work that
    /// completes at its first poll (a handler with nothing to wait for, a publish into a
    /// queue with room) registers no waiter and takes no lock.
    pub(crate) async fn unless_fired<F: Future>(&self, work: F) -> Option<F::Output> {
        let mut work = pin!(work);
        let mut fired = pin!(None::<WaitForCancellationFuture<'_>>);
        poll_fn(|cx| {
            if let Poll::Ready(output) = work.as_mut().poll(cx) {
                return Poll::Ready(Some(output));
            }
            if fired.is_none() {
                fired.set(Some(self.token.cancelled()));
            }
            match fired.as_mut().as_pin_mut() {
                Some(wait) => wait.poll(cx).map(|()| None),
                None => Poll::Pending,
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests;
