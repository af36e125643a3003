//! The gateway's shutdown: drain what was received within a deadline, stop every channel,
//! and report in a [`ShutdownReport`] what was drained and what did not stop.

use std::{sync::atomic::Ordering, time::Duration};

use switchyard_core::deadline::deadline;
use tokio::time::Instant;

use super::{ChannelStop, Inner};

/// What a [`Gateway::shutdown`](super::Gateway::shutdown) did.
///
/// ```
/// use std::time::Duration;
///
/// use switchyard_core::handler_fn;
/// use switchyard_engine::gateway::Gateway;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let gateway = Gateway::builder().handler(handler_fn(|_| async { Ok(vec![]) })).build()?;
/// let report = gateway.shutdown(Duration::from_secs(1)).await;
/// assert!(report.is_clean());
/// assert_eq!(report.abandoned(), 0);
/// assert_eq!(report.not_stopped().count(), 0);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShutdownReport {
    drained: u64,
    abandoned: u64,
    unresponsive_tasks: usize,
    channels: Vec<(String, ChannelStop)>,
    elapsed: Duration,
    /// Whether the shutdown ran to its end; only a bug or a runtime shutting down under it
    /// stops it part-way.
    completed: bool,
}

impl ShutdownReport {
    /// How long, at least, channels and abandoned tasks are given to stop once cancelled,
    /// even when draining used the whole timeout: cancelling takes effect only when a task
    /// next runs. A shutdown can therefore overrun its timeout by up to twice this.
    pub const GRACE: Duration = Duration::from_millis(100);

    /// Messages answered while the gateway was shutting down: those that were in flight
    /// or waiting in the inbox when it began.
    pub fn drained(&self) -> u64 {
        self.drained
    }

    /// Messages that were not answered by the deadline: dropped, and nacked.
    pub fn abandoned(&self) -> u64 {
        self.abandoned
    }

    /// Message tasks that were still running after being abandoned and given
    /// [`GRACE`](Self::GRACE) to notice: a handler that blocks its thread. They end when
    /// the handler next yields.
    pub fn unresponsive_tasks(&self) -> usize {
        self.unresponsive_tasks
    }

    /// How each channel stopped, sorted by name. A channel whose start was still in
    /// progress at the deadline, and was abandoned, is there as [`ChannelStop::TimedOut`].
    pub fn channels(&self) -> &[(String, ChannelStop)] {
        &self.channels
    }

    /// The channels that did not stop by themselves in time (aborted) or panicked.
    pub fn not_stopped(&self) -> impl Iterator<Item = &str> + '_ {
        self.channels
            .iter()
            .filter(|(_, stop)| *stop != ChannelStop::Stopped)
            .map(|(name, _)| name.as_str())
    }

    /// How long the shutdown took.
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }

    /// Whether everything stopped in time: nothing abandoned, every channel stopped.
    pub fn is_clean(&self) -> bool {
        self.completed
            && self.abandoned == 0
            && self.unresponsive_tasks == 0
            && self.not_stopped().next().is_none()
    }
}

/// The report of a shutdown whose task did not complete (it panicked, or its runtime shut
/// down): what the counters say, every channel still registered as not stopped, and the
/// message tasks still running as unresponsive. Never clean.
pub(super) fn interrupted(inner: &Inner, started: Instant) -> ShutdownReport {
    let shared = &inner.shared;
    let channels = shared
        .registry
        .names()
        .into_iter()
        .map(|name| (name, ChannelStop::TimedOut))
        .collect();
    ShutdownReport {
        drained: 0,
        abandoned: shared.counters.abandoned.load(Ordering::Relaxed),
        unresponsive_tasks: shared.tasks.len(),
        channels,
        elapsed: started.elapsed(),
        completed: false,
    }
}

/// A shutdown that has begun: when, and how many messages were completed before it.
pub(super) struct Begun {
    started: Instant,
    timeout: Duration,
    completed_before: u64,
}

/// Begins the shutdown at once, in the caller: no registration succeeds from now on, the
/// channels still starting are told to stop, and the inbox takes nothing more. The rest is
/// [`run`].
pub(super) fn begin(inner: &Inner, timeout: Duration) -> Begun {
    let started = Instant::now();
    let shared = &inner.shared;
    // Their registrations are waited for in step 3, not here: a start must not hold up the
    // shutdown past its deadline.
    shared.registry.close();
    inner.starting.close();
    let completed_before = shared.counters.completed.load(Ordering::Relaxed);
    tracing::info!(
        ?timeout,
        in_flight = shared.in_flight(),
        "gateway shutting down"
    );
    // 1: close the inbox.
    inner.intake.cancel();
    Begun {
        started,
        timeout,
        completed_before,
    }
}

/// Runs the shutdown that [`begin`] began; see
/// [`Gateway::shutdown`](super::Gateway::shutdown).
pub(super) async fn run(inner: &Inner, begun: Begun) -> ShutdownReport {
    let Begun {
        started,
        timeout,
        completed_before,
    } = begun;
    // Saturating: `Duration::MAX` means no limit, not a panic.
    let drain_by = deadline(started, timeout);
    let shared = &inner.shared;

    // 2: wait for the dispatcher to drain the inbox and for every message task to finish.
    let mut dispatcher = inner.take_dispatcher();
    let drain = async {
        if let Some(handle) = dispatcher.as_mut() {
            // The dispatcher does not panic; a join error changes nothing here.
            let _ = handle.await;
            // Joined: forgotten, so that the settling below does not poll it again, which
            // tokio refuses with a panic, when only message tasks miss the deadline.
            dispatcher = None;
        }
        // Closed only once the dispatcher is done, so that no task is spawned after.
        shared.tasks.close();
        shared.tasks.wait().await;
    };
    let drained_in_time = tokio::time::timeout_at(drain_by, drain).await.is_ok();
    if !drained_in_time {
        shared.abort.cancel();
        let settle = async {
            if let Some(dispatcher) = dispatcher.as_mut() {
                let _ = dispatcher.await;
            }
            shared.tasks.close();
            shared.tasks.wait().await;
        };
        if tokio::time::timeout(ShutdownReport::GRACE, settle)
            .await
            .is_err()
            && let Some(dispatcher) = dispatcher.as_ref()
        {
            dispatcher.abort();
        }
    }
    let unresponsive_tasks = shared.tasks.len();

    // 3: stop every channel, all at once, and wait for the registrations still starting,
    // within what is left of the deadline.
    let stop_by = drain_by.max(deadline(Instant::now(), ShutdownReport::GRACE));
    let stops = shared
        .registry
        .drain()
        .into_iter()
        .map(|(name, entry)| async move { (name.to_string(), entry.stop(stop_by).await) });
    let starts = async {
        if tokio::time::timeout_at(stop_by, inner.starting.wait())
            .await
            .is_ok()
        {
            return Vec::new();
        }
        // Read before they are abandoned: each frees its name once its registration ends.
        let unfinished = shared.registry.starting_names();
        tracing::warn!(
            channels = ?unfinished,
            "channel starts did not end in time: abandoned"
        );
        inner.abandon_starts.cancel();
        unfinished
            .into_iter()
            .map(|name| (name, ChannelStop::TimedOut))
            .collect()
    };
    let (mut channels, abandoned) =
        futures::future::join(futures::future::join_all(stops), starts).await;
    channels.extend(abandoned);
    inner.abandon_starts.cancel();
    inner.channels_root.cancel();
    inner.channel_tasks.close();
    channels.sort_unstable_by(|(a, _), (b, _)| a.cmp(b));

    let report = ShutdownReport {
        drained: shared.counters.completed.load(Ordering::Relaxed) - completed_before,
        abandoned: shared.counters.abandoned.load(Ordering::Relaxed),
        unresponsive_tasks,
        channels,
        elapsed: started.elapsed(),
        completed: true,
    };
    if report.is_clean() {
        tracing::info!(drained = report.drained, "gateway stopped");
    } else {
        tracing::warn!(
            drained = report.drained,
            abandoned = report.abandoned,
            unresponsive_tasks = report.unresponsive_tasks,
            channels_not_stopped = report.not_stopped().count(),
            "gateway stopped, not cleanly"
        );
    }
    report
}
