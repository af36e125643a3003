//! The scanner task: ticks, scans every partition in turn, catches failures, backs off.

use std::{future::Future, panic::AssertUnwindSafe, sync::Arc, time::Duration};

use futures::FutureExt;
use switchyard_core::{Error as CoreError, deadline::FAR_FUTURE, redact};
use tokio::{sync::watch, time::Instant};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::{
    Backoff, Clock, Jitter, Partition, ScanContext, ScanReport, Scanner, health::Slot,
    jitter::first_tick_offset,
};

/// Everything a supervised task needs from its supervisor.
#[derive(Debug, Clone)]
pub(crate) struct TaskEnv {
    pub(crate) slot: Arc<Slot>,
    pub(crate) cancel: CancellationToken,
    pub(crate) clock: Clock,
    pub(crate) changes: Arc<watch::Sender<u64>>,
    pub(crate) backoff: Backoff,
    pub(crate) jitter: Jitter,
    pub(crate) unhealthy_after: u32,
    pub(crate) scan_timeout: Duration,
}

impl TaskEnv {
    /// Tells watchers that this task's health changed.
    pub(crate) fn notify(&self) {
        self.changes
            .send_modify(|version| *version = version.wrapping_add(1));
    }

    /// Sleeps until `deadline`; returns `false` early if the supervisor shuts down.
    pub(crate) async fn sleep_until(&self, deadline: Instant) -> bool {
        tokio::select! {
            biased;
            () = self.cancel.cancelled() => false,
            () = tokio::time::sleep_until(deadline) => true,
        }
    }

    /// The jittered backoff before the restart that follows `consecutive` failures.
    pub(crate) fn backoff_after(&self, consecutive: u32, rng: &mut fastrand::Rng) -> Duration {
        self.jitter.apply(self.backoff.delay(consecutive), rng)
    }

    /// Records the health verdict of a run, logging once when the task turns unhealthy.
    pub(crate) fn verdict(&self, failed: bool, name: &str) {
        if self.slot.record_outcome(failed, self.unhealthy_after) {
            tracing::error!(
                task = %redact(name),
                failures_in_a_row = self.unhealthy_after,
                "task is unhealthy: it keeps failing",
            );
        }
    }
}

/// Wraps a task so that its slot is marked stopped however it ends: returning, or being
/// aborted.
pub(crate) fn owned(task: impl Future<Output = ()>, env: TaskEnv) -> impl Future<Output = ()> {
    struct Stopped(TaskEnv);
    impl Drop for Stopped {
        fn drop(&mut self) {
            self.0.slot.mark_stopped();
            self.0.notify();
        }
    }
    // The guard is made here, not inside the future: a task aborted before its first poll
    // (a shutdown with a zero timeout right after `spawn`) drops its future without ever
    // running it, and must still be marked stopped.
    let stopped = Stopped(env);
    async move {
        let _stopped = stopped;
        task.await;
    }
}

// `instant + delay`, saturating far in the future instead of overflowing.
pub(crate) use switchyard_core::deadline::deadline as later;

/// The next tick after one planned at `planned` that finished at `now`: one jittered
/// interval later; when that is already past, `now` if a whole interval has not yet passed
/// since `planned`, or else the first interval boundary at or after `now`.
/// Returns the deadline and how many ticks were skipped.
pub(crate) fn next_tick(
    planned: Instant,
    now: Instant,
    interval: Duration,
    jitter: Jitter,
    rng: &mut fastrand::Rng,
) -> (Instant, u64) {
    let next = later(planned, jitter.apply(interval, rng));
    if next >= now {
        return (next, 0);
    }
    // Jitter only shortens: a scan that ended past its jittered tick but within one
    // interval of the planned one has missed nothing. Skipping a whole interval here would
    // space two ticks nearly two intervals apart, breaking the promise that the interval
    // is an upper bound; run at once instead.
    if now <= later(planned, interval) {
        return (now, 0);
    }
    // Missed ticks are skipped: the scanner does not run them back to back to catch up.
    // The next tick is the first interval boundary at or after `now`.
    let interval_nanos = interval.as_nanos().max(1);
    let missed = (now - next).as_nanos().div_ceil(interval_nanos);
    let missed = u32::try_from(missed).unwrap_or(u32::MAX);
    let next = interval
        .checked_mul(missed)
        .map_or(now + FAR_FUTURE, |skip| later(next, skip));
    (next, u64::from(missed))
}

pub(crate) use switchyard_core::panic_text;

/// Runs `future` to completion, catching a panic and a timeout; failures come back as
/// redacted text.
pub(crate) async fn guarded<T>(
    future: impl Future<Output = switchyard_core::Result<T>>,
    timeout: Duration,
    operation: &'static str,
) -> Result<T, String> {
    match tokio::time::timeout(timeout, AssertUnwindSafe(future).catch_unwind()).await {
        Ok(Ok(Ok(value))) => Ok(value),
        Ok(Ok(Err(error))) => Err(error.report()),
        Ok(Err(payload)) => Err(panic_text(&*payload)),
        Err(_) => Err(CoreError::Timeout {
            operation,
            after: timeout,
        }
        .report()),
    }
}

/// The scanner task: tick, scan every partition, record, and wait for the next tick or the
/// end of the backoff, until cancelled.
pub(crate) async fn run_scanner(
    scanner: Arc<dyn Scanner>,
    partitions: Vec<Partition>,
    env: TaskEnv,
) {
    let name = scanner.name().to_owned();
    let interval = scanner.interval();
    let mut rng = fastrand::Rng::new();
    let mut planned = later(Instant::now(), first_tick_offset(interval, &mut rng));
    let mut consecutive_failures = 0u32;
    let mut tick = 0u64;
    loop {
        if !env.sleep_until(planned).await {
            break;
        }
        if consecutive_failures > 0 {
            env.slot.record_restart();
            tracing::info!(scanner = %redact(&name), attempt = consecutive_failures, "restarting scanner");
        }
        tick += 1;
        let started = Instant::now();
        let started_wall = env.clock.now();
        let ctx = ScanContext::new(env.clock, tick, env.cancel.clone());
        let mut report = ScanReport::new();
        let mut failures = 0u64;
        let mut first_error = None;
        for partition in &partitions {
            if env.cancel.is_cancelled() {
                break;
            }
            // One span per scan, with low-cardinality fields only.
            let span = tracing::debug_span!("scan", scanner = %redact(&name), %partition);
            let scan = scanner.scan(partition, &ctx).instrument(span);
            match guarded(scan, env.scan_timeout, "scan").await {
                Ok(scanned) => report.merge(scanned),
                Err(error) => {
                    failures += 1;
                    tracing::warn!(scanner = %redact(&name), %partition, %error, "scan failed");
                    first_error.get_or_insert(error);
                }
            }
        }
        let finished = Instant::now();
        env.slot.record_run(
            started_wall,
            finished - started,
            &report,
            failures,
            first_error,
        );
        env.verdict(failures > 0, &name);
        if failures > 0 {
            consecutive_failures = consecutive_failures.saturating_add(1);
            let delay = env.backoff_after(consecutive_failures, &mut rng);
            tracing::debug!(scanner = %redact(&name), ?delay, "scanner backing off");
            planned = later(finished, delay);
        } else {
            if consecutive_failures > 0 {
                tracing::info!(scanner = %redact(&name), "scanner recovered");
            }
            consecutive_failures = 0;
            let (next, skipped) = next_tick(planned, finished, interval, env.jitter, &mut rng);
            if skipped > 0 {
                env.slot.record_skipped(skipped);
                tracing::debug!(scanner = %redact(&name), skipped, "tick ran long; skipping missed ticks");
            }
            planned = next;
        }
        env.notify();
    }
}
