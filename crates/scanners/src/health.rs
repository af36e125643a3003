//! Health of supervised tasks: what each scanner and listener did last, and whether it is
//! well.

use std::{
    sync::{
        Arc, Mutex, MutexGuard, PoisonError,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, SystemTime},
};

use tokio::task::AbortHandle;

use crate::ScanReport;

/// What kind of task a [`TaskHealth`] describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TaskKind {
    /// A [`Scanner`](crate::Scanner), ticking over partitions.
    Scanner,
    /// The event-driven fast path of a push-and-reconcile pair.
    Listener,
}

/// A snapshot of one supervised task's health, from
/// [`Supervisor::health`](crate::Supervisor::health).
///
/// For a scanner, a run is a tick over every partition; for a listener, a run is one
/// event handled, and a restart is a resubscription.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TaskHealth {
    /// The scanner's name, or the reconciler's name with `.listener` appended.
    pub name: String,
    /// Scanner or listener.
    pub kind: TaskKind,
    /// Whether the task is well: false once it has failed
    /// [`unhealthy_after`](crate::Config::unhealthy_after) times in a row, true again after
    /// its next success.
    pub healthy: bool,
    /// Whether the task is still running (false once it has stopped on shutdown).
    pub running: bool,
    /// When the last run started, by the supervisor's [`Clock`](crate::Clock).
    pub last_run: Option<SystemTime>,
    /// How long the last run took.
    pub last_duration: Option<Duration>,
    /// Runs so far.
    pub runs: u64,
    /// Items examined, over every run.
    pub examined: u64,
    /// Items acted on (processed), over every run.
    pub processed: u64,
    /// Item errors that scans reported without failing.
    pub item_errors: u64,
    /// Items that scans left as they were because their action could not be taken (see
    /// [`ScanReport::held`]), over every run: deliveries due for a full dead letter, for
    /// instance. An item held by several runs counts once per run.
    pub held: u64,
    /// Failures: scans that returned an error, panicked or timed out; events whose handler
    /// failed; subscriptions that failed or ended.
    pub failures: u64,
    /// Failed runs in a row, reset by a success.
    pub consecutive_failures: u32,
    /// Restarts after a failure, each after a backoff.
    pub restarts: u64,
    /// Ticks skipped because the scanner was still busy with an earlier one.
    pub skipped_ticks: u64,
    /// The last failure's text, redacted.
    pub last_error: Option<String>,
}

/// The supervisor's live record of one task: its health, whether it stopped, and how to
/// abort it.
#[derive(Debug)]
pub(crate) struct Slot {
    health: Mutex<TaskHealth>,
    stopped: AtomicBool,
    abort: Mutex<Option<AbortHandle>>,
}

impl Slot {
    pub(crate) fn new(name: &str, kind: TaskKind) -> Arc<Self> {
        Arc::new(Self {
            health: Mutex::new(TaskHealth {
                name: name.to_owned(),
                kind,
                healthy: true,
                running: true,
                last_run: None,
                last_duration: None,
                runs: 0,
                examined: 0,
                processed: 0,
                item_errors: 0,
                held: 0,
                failures: 0,
                consecutive_failures: 0,
                restarts: 0,
                skipped_ticks: 0,
                last_error: None,
            }),
            stopped: AtomicBool::new(false),
            abort: Mutex::new(None),
        })
    }

    pub(crate) fn snapshot(&self) -> TaskHealth {
        self.lock().clone()
    }

    pub(crate) fn name(&self) -> String {
        self.lock().name.clone()
    }

    /// Records a finished run: its counts, and the first failure if any.
    pub(crate) fn record_run(
        &self,
        started: SystemTime,
        duration: Duration,
        report: &ScanReport,
        failures: u64,
        error: Option<String>,
    ) {
        let mut health = self.lock();
        health.runs += 1;
        health.last_run = Some(started);
        health.last_duration = Some(duration);
        health.examined = health.examined.saturating_add(report.examined());
        health.processed = health.processed.saturating_add(report.acted());
        health.item_errors = health.item_errors.saturating_add(report.errors());
        health.held = health.held.saturating_add(report.held());
        health.failures = health.failures.saturating_add(failures);
        if error.is_some() {
            health.last_error = error;
        }
    }

    /// Records the outcome of a run for the health verdict. Returns whether the task just
    /// became unhealthy, so that the caller logs the transition once.
    pub(crate) fn record_outcome(&self, failed: bool, unhealthy_after: u32) -> bool {
        let mut health = self.lock();
        if failed {
            health.consecutive_failures = health.consecutive_failures.saturating_add(1);
        } else {
            health.consecutive_failures = 0;
        }
        let was_healthy = health.healthy;
        health.healthy = health.consecutive_failures < unhealthy_after;
        was_healthy && !health.healthy
    }

    pub(crate) fn record_restart(&self) {
        self.lock().restarts += 1;
    }

    pub(crate) fn record_skipped(&self, ticks: u64) {
        let mut health = self.lock();
        health.skipped_ticks = health.skipped_ticks.saturating_add(ticks);
    }

    pub(crate) fn set_abort(&self, handle: AbortHandle) {
        *self.abort.lock().unwrap_or_else(PoisonError::into_inner) = Some(handle);
    }

    pub(crate) fn abort(&self) {
        if let Some(handle) = self
            .abort
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            handle.abort();
        }
    }

    pub(crate) fn mark_stopped(&self) {
        self.stopped.store(true, Ordering::Release);
        self.lock().running = false;
    }

    pub(crate) fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }

    fn lock(&self) -> MutexGuard<'_, TaskHealth> {
        // The record is plain counters: a panic elsewhere while it was held cannot leave it
        // in a state worse than a missed update.
        self.health.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
