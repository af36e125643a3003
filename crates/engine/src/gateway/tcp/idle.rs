//! [`IdleConnections`]: closes a connection that does nothing for the channel's idle
//! timeout, so that clients that connect and then send nothing cannot hold the channel's
//! connection slots for good.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use switchyard_core::deadline::deadline;
use tokio::{sync::watch, time::Instant};

/// The idle rule of one channel, shared by the channel and its connections.
#[derive(Debug)]
pub(super) struct IdleConnections {
    channel: Arc<str>,
    timeout: Duration,
    /// Connections closed because they were idle.
    closed: AtomicU64,
}

impl IdleConnections {
    pub(super) fn new(channel: Arc<str>, timeout: Duration) -> Self {
        Self {
            channel,
            timeout,
            closed: AtomicU64::new(0),
        }
    }

    /// How many connections were closed because they were idle.
    pub(super) fn closed(&self) -> u64 {
        self.closed.load(Ordering::Relaxed)
    }

    /// Resolves once a connection has been idle for a whole timeout: no request of it in
    /// flight (`pending`, its count of unanswered requests, at zero throughout), and
    /// nothing read from its client and no reply byte taken by its socket (`active`).
    /// Never resolves with a timeout of `Duration::MAX`.
    ///
    /// A request in flight keeps the connection open however long it takes, and the
    /// timeout starts again once it is answered. A reply going out counts as activity, so
    /// that a client that reads a long reply slowly is not closed; one that does not read
    /// it at all (its writer waits on the socket for good) is.
    pub(super) async fn idle(&self, mut pending: watch::Receiver<usize>, active: &LastActive) {
        'answered: loop {
            if pending.wait_for(|pending| *pending == 0).await.is_err() {
                // The connection's count is gone, and the connection with it.
                return std::future::pending().await;
            }
            let answered_at = Instant::now();
            loop {
                // Saturating: a timeout of `Duration::MAX` means never.
                let idle_at = deadline(answered_at.max(active.last()), self.timeout);
                if Instant::now() >= idle_at {
                    return;
                }
                tokio::select! {
                    biased;
                    // A request came in (or was answered meanwhile): look again.
                    _ = pending.changed() => continue 'answered,
                    () = tokio::time::sleep_until(idle_at) => {}
                }
            }
        }
    }

    /// Counts and logs a connection closed as idle.
    pub(super) fn count_closed(&self) {
        self.closed.fetch_add(1, Ordering::Relaxed);
        metrics::counter!(
            "switchyard_gateway_tcp_idle_closed_total",
            "channel" => self.channel.to_string()
        )
        .increment(1);
        tracing::debug!(
            channel = %self.channel,
            idle_timeout = ?self.timeout,
            "tcp connection closed: idle"
        );
    }
}

/// When a connection last read a byte from its client or got a reply byte out to it.
#[derive(Debug)]
pub(super) struct LastActive {
    since: Instant,
    /// Nanoseconds from `since` to the last activity.
    nanos: AtomicU64,
}

impl LastActive {
    /// Activity now, when the connection opens.
    pub(super) fn new() -> Self {
        Self {
            since: Instant::now(),
            nanos: AtomicU64::new(0),
        }
    }

    /// Records activity now.
    pub(super) fn touch(&self) {
        let nanos = u64::try_from(self.since.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.nanos.fetch_max(nanos, Ordering::Relaxed);
    }

    /// When the last activity was.
    fn last(&self) -> Instant {
        deadline(
            self.since,
            Duration::from_nanos(self.nanos.load(Ordering::Relaxed)),
        )
    }
}
