//! Shared helpers: a scanner made of a closure, a paused-clock wait, a fixed clock.

use std::{
    future::Future,
    sync::{Arc, Mutex},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use async_trait::async_trait;
use futures::future::BoxFuture;
use switchyard_core::Result;
use switchyard_scanners::{
    Clock, Config, ConfigBuilder, Partition, ScanContext, ScanReport, Scanner, Supervisor,
};
use tokio::time::Instant;

/// How much virtual time a wait may take before the test fails as hung.
pub(crate) const DEADLINE: Duration = Duration::from_secs(3_600);

/// Tokio's timer wheel fires on whole milliseconds, so a wake-up can come up to this late.
pub(crate) const TIMER_SLACK: Duration = Duration::from_millis(1);

/// The wall-clock start of every test: a fixed point, so that times are reproducible.
pub(crate) fn epoch() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

/// A clock reading [`epoch`] now.
pub(crate) fn clock() -> Clock {
    Clock::starting_at(epoch())
}

/// A config builder with one family, `default`, of `partitions` partitions.
pub(crate) fn config(partitions: u32) -> ConfigBuilder {
    Config::builder().family("default", partitions)
}

/// Waits, on the paused clock, until `done` holds; checks after every health change. Fails
/// the test if that takes more than [`DEADLINE`] of virtual time.
pub(crate) async fn wait_until(supervisor: &Supervisor, mut done: impl FnMut() -> bool) {
    let mut changes = supervisor.subscribe();
    let waited = tokio::time::timeout(DEADLINE, async {
        while !done() {
            changes.changed().await.expect("the supervisor is alive");
        }
    })
    .await;
    assert!(
        waited.is_ok(),
        "condition not reached within {DEADLINE:?} of virtual time"
    );
}

/// Awaits `future`, failing the test if it takes more than [`DEADLINE`] of virtual time.
pub(crate) async fn within<T>(future: impl Future<Output = T>) -> T {
    tokio::time::timeout(DEADLINE, future)
        .await
        .expect("hung past the deadline")
}

type ScanFn =
    dyn Fn(Partition, ScanContext) -> BoxFuture<'static, Result<ScanReport>> + Send + Sync;

/// A scanner whose scan is a closure, recording when each scan started.
pub(crate) struct FnScanner {
    name: String,
    interval: Duration,
    scan: Box<ScanFn>,
    starts: Arc<Mutex<Vec<(Instant, u32)>>>,
}

impl FnScanner {
    pub(crate) fn new<F, Fut>(name: &str, interval: Duration, scan: F) -> Self
    where
        F: Fn(Partition, ScanContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<ScanReport>> + Send + 'static,
    {
        Self {
            name: name.to_owned(),
            interval,
            scan: Box::new(move |partition, ctx| Box::pin(scan(partition, ctx))),
            starts: Arc::default(),
        }
    }

    /// A scanner that finds nothing to do.
    pub(crate) fn idle(name: &str, interval: Duration) -> Self {
        Self::new(name, interval, |_, _| async { Ok(ScanReport::new()) })
    }

    /// The start times of its scans, with the partition scanned.
    pub(crate) fn starts(&self) -> Arc<Mutex<Vec<(Instant, u32)>>> {
        self.starts.clone()
    }
}

#[async_trait]
impl Scanner for FnScanner {
    fn name(&self) -> &str {
        &self.name
    }

    fn interval(&self) -> Duration {
        self.interval
    }

    async fn scan(&self, partition: &Partition, ctx: &ScanContext) -> Result<ScanReport> {
        self.starts
            .lock()
            .unwrap()
            .push((Instant::now(), partition.index()));
        (self.scan)(partition.clone(), ctx.clone()).await
    }
}

/// The gaps between consecutive instants.
pub(crate) fn gaps(instants: &[Instant]) -> Vec<Duration> {
    instants.windows(2).map(|pair| pair[1] - pair[0]).collect()
}
