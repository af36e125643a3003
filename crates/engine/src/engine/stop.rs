//! `Engine::stop`: stop taking input, drain what is in flight, nack what is left, close the
//! subscribers and publishers, and report.

use std::{
    panic::AssertUnwindSafe,
    sync::{Arc, atomic::Ordering},
    time::Duration,
};

use futures::{FutureExt, future::join_all};
use switchyard_core::{Error, deadline::deadline};
use tokio::time::Instant;

use super::{
    Engine,
    registry::{PublisherEntry, SubscriberEntry},
    run::Running,
};
use crate::{EngineError, EngineState, StopReport, health::EngineCounts};

impl Engine {
    /// Stops the engine gracefully and reports what was drained and what was left.
    ///
    /// 1. The intake stops taking messages from the subscribers.
    /// 2. What is in flight is processed, the internal loop included (it keeps priority),
    ///    until nothing is in flight or `timeout` has passed.
    /// 3. Every task is then stopped. Whatever is still in flight is nacked, so that its
    ///    transport redelivers it: only what was processed was acked.
    /// 4. The subscribers, then the publishers (each once, which flushes what they batch),
    ///    are closed.
    /// 5. The [`StopReport`] counts, in root messages, what was drained and what was left.
    ///
    /// Steps 3 and 4 each have the engine's close timeout
    /// ([`EngineBuilder::close_timeout`](crate::EngineBuilder::close_timeout)), so `stop`
    /// returns within `timeout` plus twice that. Nothing is closed while a task may still
    /// send to it.
    ///
    /// Stopping again, or concurrently, is fine: every call returns the report of the one
    /// shutdown, which runs in a task of the engine's own, so that a `stop` given up
    /// part-way (a timeout around it) neither cancels it nor has it redone by the next.
    /// A subscriber or publisher whose `close` panics counts as a close that failed.
    /// Stopping an engine whose start failed or was given up (its future dropped) returns a
    /// report with no messages, once the subscribers that the start had subscribed are
    /// closed (see [`start`](Self::start)).
    ///
    /// Stopping an engine that is `Starting` interrupts the start: it gives up, as if its
    /// future were dropped, and returns [`EngineError::StartInterrupted`]; `stop` waits for
    /// that, then for what the start had opened to be closed, and returns its report. (A
    /// start that completed first is stopped as a running engine is.)
    ///
    /// # Errors
    ///
    /// [`EngineError::InvalidTransition`] if the engine is `Created`, or `Starting` with a
    /// start future that nobody polls: then the start cannot give up within `timeout`.
    /// It gives up when next polled, and `stop` can be called again.
    /// [`EngineError::ShutdownPanicked`] if the shutdown itself panicked (a bug).
    pub async fn stop(&self, timeout: Duration) -> Result<StopReport, EngineError> {
        loop {
            {
                let mut lifecycle = self.lifecycle();
                match lifecycle.state {
                    EngineState::Stopping | EngineState::Stopped => break,
                    EngineState::Starting => {}
                    _ => {
                        lifecycle.state.transition(EngineState::Stopping)?;
                        break;
                    }
                }
            }
            self.inner.start_abort.cancel();
            let settled = self.inner.start_settled.cancelled();
            if tokio::time::timeout(timeout, settled).await.is_err() {
                return Err(EngineError::InvalidTransition {
                    from: EngineState::Starting,
                    to: EngineState::Stopping,
                });
            }
        }
        self.shut_down_once(timeout)
            .await
            .ok_or(EngineError::ShutdownPanicked)
    }

    /// Starts the one shutdown, in a task the engine owns, unless it was started already,
    /// and waits for its report; `None` if it panicked.
    ///
    /// The shutdown runs in its own task, not in the caller's future: a `stop` given up
    /// part-way (a `timeout` or `select!` around it) neither cancels it half-done nor
    /// leaves it to be redone from the start, with its closes repeated and its counts
    /// taken again, by the next call, which waits for the same one.
    pub(super) async fn shut_down_once(&self, timeout: Duration) -> Option<StopReport> {
        let inner = &self.inner;
        if !inner.shutdown_started.swap(true, Ordering::AcqRel) {
            // Not one of the application's handles: dropping all of those while this runs
            // (a `stop` without a time limit, given up) still ends the engine's tasks.
            let engine = self.internal();
            // Cancelled however the task ends, even dropped before its first poll (a
            // runtime shutting down), so that no `stop` waits forever.
            let done = inner.shutdown_done.clone().drop_guard();
            inner.lifecycle_tasks.spawn(async move {
                let _done = done;
                let report = engine.shutdown(timeout).await;
                // Only this task sets it.
                let _ = engine.inner.report.set(report);
            });
        }
        inner.shutdown_done.cancelled().await;
        inner.report.get().cloned()
    }

    pub(super) async fn shutdown(&self, timeout: Duration) -> StopReport {
        let started = Instant::now();
        let counters = &self.inner.counters;
        let before = counters.snapshot();
        let (running, opened, publishers) = {
            let lifecycle = self.lifecycle();
            (
                lifecycle.running.clone(),
                lifecycle.opened.clone(),
                lifecycle.publishers.clone(),
            )
        };
        let (quiescent, tasks_unfinished, close_failures) = match running {
            Some(running) => self.drain_and_close(&running, timeout).await,
            // Nothing ran: a start that failed or was given up. What it had opened is closed,
            // and the publishers, which the engine owns.
            None => {
                let close_timeout = self.inner.config.close_timeout;
                let close_by = deadline(Instant::now(), close_timeout);
                let (subscribers, publishers) = tokio::join!(
                    close_subscribers(&opened, close_by, close_timeout),
                    close_publishers(&publishers, close_by, close_timeout),
                );
                (true, 0, subscribers + publishers)
            }
        };
        {
            let mut lifecycle = self.lifecycle();
            if lifecycle.state == EngineState::Stopping {
                lifecycle.state = EngineState::Stopped;
            }
        }
        let report = report(before, counters.snapshot(), quiescent, started.elapsed());
        let report = StopReport {
            tasks_unfinished,
            close_failures,
            ..report
        };
        tracing::info!(
            drained = report.drained,
            left = report.left,
            quiescent = report.quiescent,
            "engine stopped"
        );
        report
    }

    /// Steps 1 to 4 of `stop`; returns whether the drain reached quiescence, how many tasks
    /// did not end, and how many closes failed.
    async fn drain_and_close(&self, running: &Running, timeout: Duration) -> (bool, usize, usize) {
        let signals = &running.signals;
        signals.stop_input.fire();
        let quiescent = tokio::time::timeout(timeout, async {
            // Nothing new comes in once the intake confirms it stopped taking input, so
            // from then on "nothing in flight" stays true.
            signals.input_stopped.cancelled().await;
            self.inner.counters.wait_idle().await;
        })
        .await
        .is_ok();

        signals.shutdown.fire();
        running.tracker.close();
        let close_timeout = self.inner.config.close_timeout;
        let tasks_unfinished =
            match tokio::time::timeout(close_timeout, running.tracker.wait()).await {
                Ok(()) => 0,
                Err(_elapsed) => running.tracker.len(),
            };
        if tasks_unfinished > 0 {
            tracing::error!(
                tasks_unfinished,
                "engine tasks did not end within the close timeout"
            );
        }

        let close_by = deadline(Instant::now(), close_timeout);
        let failures = close_subscribers(&running.subscribers, close_by, close_timeout).await
            + close_publishers(&running.publishers, close_by, close_timeout).await;
        (quiescent, tasks_unfinished, failures)
    }
}

/// The counts of a report, from the counters when `stop` began and when it ended.
fn report(
    before: EngineCounts,
    after: EngineCounts,
    quiescent: bool,
    elapsed: Duration,
) -> StopReport {
    StopReport {
        in_flight_at_stop: before.in_flight(),
        received_while_stopping: after.received.saturating_sub(before.received),
        drained: after.acked.saturating_sub(before.acked),
        left: after.nacked.saturating_sub(before.nacked),
        unsettled: after.in_flight(),
        quiescent,
        tasks_unfinished: 0,
        close_failures: 0,
        totals: after,
        elapsed,
    }
}

/// Closes every subscriber by `deadline`, concurrently; returns how many failed.
async fn close_subscribers(
    subscribers: &[SubscriberEntry],
    deadline: Instant,
    close_timeout: Duration,
) -> usize {
    let closes = subscribers.iter().map(|entry| async move {
        let close = AssertUnwindSafe(entry.subscriber.close()).catch_unwind();
        let result = tokio::time::timeout_at(deadline, close).await;
        closed(result, &entry.stats, "subscriber close", close_timeout)
    });
    join_all(closes).await.into_iter().sum()
}

/// Closes every distinct publisher by `deadline`, concurrently; returns how many failed.
/// A publisher registered under several prefixes is closed once.
async fn close_publishers(
    publishers: &[PublisherEntry],
    deadline: Instant,
    close_timeout: Duration,
) -> usize {
    let mut distinct: Vec<&PublisherEntry> = Vec::with_capacity(publishers.len());
    for entry in publishers {
        // Compared by data address only: a `dyn` pointer's vtable part may differ for the
        // same object.
        let address = Arc::as_ptr(&entry.publisher).cast::<()>();
        if !distinct
            .iter()
            .any(|seen| Arc::as_ptr(&seen.publisher).cast::<()>() == address)
        {
            distinct.push(entry);
        }
    }
    let closes = distinct.into_iter().map(|entry| async move {
        let close = AssertUnwindSafe(entry.publisher.close()).catch_unwind();
        let result = tokio::time::timeout_at(deadline, close).await;
        closed(result, &entry.stats, "publisher close", close_timeout)
    });
    join_all(closes).await.into_iter().sum()
}

/// What a close came to: its result, unless it panicked or timed out.
type CloseOutcome = Result<std::thread::Result<Result<(), Error>>, tokio::time::error::Elapsed>;

/// Records a failed, panicked or timed-out close; returns 1 if it failed.
fn closed(
    result: CloseOutcome,
    stats: &crate::stats::ComponentStats,
    operation: &'static str,
    after: Duration,
) -> usize {
    let error = match result {
        Ok(Ok(Ok(()))) => return 0,
        Ok(Ok(Err(error))) => error,
        Ok(Err(panic)) => Error::permanent_transport(format!(
            "{operation} panicked: {}",
            switchyard_core::panic_text(panic.as_ref())
        )),
        Err(_elapsed) => Error::Timeout { operation, after },
    };
    tracing::warn!(component = %stats.label(), error = %error.report(), "close failed");
    stats.record(&error);
    1
}
