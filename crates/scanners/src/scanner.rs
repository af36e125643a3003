//! The `Scanner` trait: periodic work over every partition of a family, and the context a
//! scan runs in.

use std::{
    sync::Arc,
    time::{Duration, SystemTime},
};

use async_trait::async_trait;
use switchyard_core::Result;
use tokio_util::sync::CancellationToken;

use crate::{Clock, DEFAULT_FAMILY, Partition, ScanReport};

/// Periodic background work over partitions: expiring leases, promoting delayed messages,
/// trimming streams, reconciling what an event-driven path missed.
///
/// A [`Supervisor`](crate::Supervisor) runs each scanner in its own task. Every tick (one
/// [`interval`](Self::interval), jittered) it calls [`scan`](Self::scan) once for each
/// partition of the scanner's [`family`](Self::family), one after the other: scans of one
/// scanner never overlap. A scan that returns `Err` or panics is caught, logged and counted,
/// and the scanner is restarted after a backoff.
///
/// Scans must be idempotent and safe to race with another process running the same
/// scanner: every transport runs one per process.
///
/// Object-safe, so that scanners can be stored as `Arc<dyn Scanner>`.
///
/// ```
/// use std::time::Duration;
/// use async_trait::async_trait;
/// use switchyard_scanners::{Partition, ScanContext, ScanReport, Scanner};
///
/// struct Heartbeat;
///
/// #[async_trait]
/// impl Scanner for Heartbeat {
///     fn name(&self) -> &str {
///         "heartbeat"
///     }
///
///     fn interval(&self) -> Duration {
///         Duration::from_secs(5)
///     }
///
///     async fn scan(&self, _partition: &Partition, _ctx: &ScanContext) -> switchyard_core::Result<ScanReport> {
///         Ok(ScanReport::with_counts(1, 0))
///     }
/// }
/// ```
#[async_trait]
pub trait Scanner: Send + Sync + 'static {
    /// The scanner's name, unique within a supervisor; used in logs and health reports.
    fn name(&self) -> &str;

    /// The time between two ticks, before jitter. Must not be zero.
    fn interval(&self) -> Duration;

    /// The partition family whose partitions this scanner covers; [`DEFAULT_FAMILY`]
    /// unless overridden.
    fn family(&self) -> &str {
        DEFAULT_FAMILY
    }

    /// Scans one partition.
    ///
    /// Long scans should check [`ScanContext::is_cancelled`] between batches and return
    /// early once the supervisor is shutting down.
    async fn scan(&self, partition: &Partition, ctx: &ScanContext) -> Result<ScanReport>;
}

#[async_trait]
impl<S: Scanner + ?Sized> Scanner for Arc<S> {
    fn name(&self) -> &str {
        (**self).name()
    }

    fn interval(&self) -> Duration {
        (**self).interval()
    }

    fn family(&self) -> &str {
        (**self).family()
    }

    async fn scan(&self, partition: &Partition, ctx: &ScanContext) -> Result<ScanReport> {
        (**self).scan(partition, ctx).await
    }
}

/// What a scan gets besides its partition: the time, the tick, and the shutdown signal.
#[derive(Debug, Clone)]
pub struct ScanContext {
    clock: Clock,
    tick: u64,
    cancel: CancellationToken,
}

impl ScanContext {
    /// A context reading `clock`, for tick `tick`, that is cancelled with `cancel`.
    ///
    /// The supervisor makes these; build one directly to call a scanner by hand, in a test
    /// or a one-off command.
    pub fn new(clock: Clock, tick: u64, cancel: CancellationToken) -> Self {
        Self {
            clock,
            tick,
            cancel,
        }
    }

    /// The current wall-clock time, from the supervisor's [`Clock`].
    pub fn now(&self) -> SystemTime {
        self.clock.now()
    }

    /// The supervisor's clock.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The number of this tick of this scanner, from 1.
    pub fn tick(&self) -> u64 {
        self.tick
    }

    /// Whether the supervisor is shutting down: stop at the next safe point.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// Completes when the supervisor starts shutting down.
    pub async fn cancelled(&self) {
        self.cancel.cancelled().await;
    }
}
