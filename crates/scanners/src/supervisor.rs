//! The `Supervisor`: owns every scanner and listener task, restarts what fails, reports
//! health, and shuts everything down within a deadline.

mod task;

use std::{
    future::Future,
    pin::Pin,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::Duration,
};

use tokio::{runtime::Handle, sync::watch};
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use crate::{
    Clock, Config, Error, EventSource, PartitionRouter, Reconcile, Scanner, ShutdownReport,
    TaskHealth, TaskKind,
    health::Slot,
    reconcile::{ReconcileScanner, run_listener},
};

pub(crate) use task::{TaskEnv, guarded, later};
#[cfg(test)]
use task::{next_tick, panic_text};

type TaskFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;
type MakeTask = Box<dyn FnOnce(TaskEnv) -> TaskFuture + Send>;

/// Runs scanners and push-and-reconcile listeners, each in its own task, and owns them.
///
/// - **Owned tasks.** Every task is spawned on one [`TaskTracker`] and stopped through one
///   [`CancellationToken`]; none is detached.
/// - **Ticks.** A scanner's first tick falls at a random point within its first interval;
///   after that each tick is one interval after the last, shortened by the configured
///   [`Jitter`](crate::Jitter), so that scanners drift apart. A scanner scans every
///   partition of its family in turn, so its scans never overlap; a tick that is missed
///   because the previous one ran long is skipped, never made up in a burst.
/// - **Failures.** A scan that returns an error, panics, or runs past the
///   [scan timeout](Config::scan_timeout) is caught, logged (redacted) and counted; the
///   scanner's other partitions are still scanned, and its next tick comes after the
///   [restart backoff](Config::restart_backoff) (exponential, jittered, capped) instead of
///   its interval. After [`unhealthy_after`](Config::unhealthy_after) failed ticks in a row
///   the scanner is reported unhealthy, and logged as such once, until it succeeds again.
/// - **Shutdown.** [`shutdown`](Self::shutdown) signals every task, waits up to the
///   timeout, and returns a [`ShutdownReport`] naming every task that did not stop; those
///   are aborted.
///
/// `Supervisor` is a cheap handle: clones share the same tasks. When the last clone is
/// dropped without a shutdown, every task is signalled to stop, without waiting.
///
/// ```
/// use std::time::Duration;
/// use async_trait::async_trait;
/// use switchyard_scanners::{Config, Partition, ScanContext, ScanReport, Scanner, Supervisor};
///
/// struct Idle;
///
/// #[async_trait]
/// impl Scanner for Idle {
///     fn name(&self) -> &str {
///         "idle"
///     }
///     fn interval(&self) -> Duration {
///         Duration::from_secs(1)
///     }
///     async fn scan(&self, _: &Partition, _: &ScanContext) -> switchyard_core::Result<ScanReport> {
///         Ok(ScanReport::new())
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), switchyard_scanners::Error> {
/// let supervisor = Supervisor::new(Config::builder().family("default", 4).build()?);
/// supervisor.spawn(Idle)?;
///
/// // Wait for two ticks (on a paused clock here, so this takes no real time).
/// let mut changes = supervisor.subscribe();
/// while supervisor.health_of("idle").unwrap().runs < 2 {
///     changes.changed().await.unwrap();
/// }
/// let health = supervisor.health_of("idle").unwrap();
/// assert!(health.healthy && health.runs >= 2);
/// let report = supervisor.shutdown().await;
/// assert_eq!(report.stopped(), ["idle"]);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Supervisor {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    config: Config,
    clock: Clock,
    tracker: TaskTracker,
    cancel: CancellationToken,
    slots: Mutex<Vec<Arc<Slot>>>,
    changes: Arc<watch::Sender<u64>>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        // The last handle is gone: nobody can shut the tasks down any more, so tell them to
        // stop now rather than leave them running unowned.
        self.cancel.cancel();
        self.tracker.close();
    }
}

impl Supervisor {
    /// A supervisor with `config`, reading the system time through a [`Clock`].
    pub fn new(config: Config) -> Self {
        Self::with_clock(config, Clock::system())
    }

    /// A supervisor with `config` whose scans read `clock`. Share the clock with whatever
    /// writes deadlines into the stores that the scanners read.
    pub fn with_clock(config: Config, clock: Clock) -> Self {
        Self {
            shared: Arc::new(Shared {
                config,
                clock,
                tracker: TaskTracker::new(),
                cancel: CancellationToken::new(),
                slots: Mutex::new(Vec::new()),
                changes: Arc::new(watch::channel(0).0),
            }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.shared.config
    }

    /// The partition families that scanners run over.
    pub fn router(&self) -> &PartitionRouter {
        self.shared.config.router()
    }

    /// The clock that scans read.
    pub fn clock(&self) -> Clock {
        self.shared.clock
    }

    /// Starts `scanner` in its own task.
    ///
    /// Must be called within a Tokio runtime. Fails with [`Error::ZeroInterval`],
    /// [`Error::UnknownFamily`] when the router has no partitions for the scanner's family,
    /// [`Error::DuplicateName`], [`Error::ShutDown`] after a shutdown, and
    /// [`Error::NoRuntime`] outside a runtime.
    pub fn spawn<S: Scanner>(&self, scanner: S) -> Result<(), Error> {
        let scanner: Arc<dyn Scanner> = Arc::new(scanner);
        if scanner.interval().is_zero() {
            return Err(Error::ZeroInterval {
                scanner: scanner.name().to_owned(),
            });
        }
        let partitions: Vec<_> = self.router().partitions(scanner.family())?.collect();
        let name = scanner.name().to_owned();
        let make: MakeTask =
            Box::new(move |env| Box::pin(task::run_scanner(scanner, partitions, env)));
        self.start(vec![(name, TaskKind::Scanner, make)])
    }

    /// Starts a push-and-reconcile pair: a listener task that handles each event from
    /// `source` as it comes (the fast path), and a scanner, named after `reconcile`, that
    /// periodically [reconciles](Reconcile::reconcile) every partition to catch what the
    /// fast path missed.
    ///
    /// The listener appears in [`health`](Self::health) as `<name>.listener`. When its
    /// event stream fails or ends, it subscribes again after the restart backoff; events
    /// published in between are lost to it, and found by the reconciler. The backoff grows
    /// with each subscription in a row that fails or ends, and starts over only once a
    /// stream has delivered an event or stayed up for at least the backoff's cap
    /// ([`Config::restart_backoff`](crate::Config::restart_backoff)), so that a source whose
    /// streams end as soon as they open is not resubscribed at the first delay for ever.
    ///
    /// Fails as [`spawn`](Self::spawn) does, without starting either task.
    pub fn spawn_push_reconcile<R, S>(&self, reconcile: R, source: S) -> Result<(), Error>
    where
        R: Reconcile,
        S: EventSource<Event = R::Event>,
    {
        let reconcile = Arc::new(reconcile);
        let name = reconcile.name().to_owned();
        if reconcile.interval().is_zero() {
            return Err(Error::ZeroInterval { scanner: name });
        }
        let partitions: Vec<_> = self.router().partitions(reconcile.family())?.collect();
        let scanner: Arc<dyn Scanner> = Arc::new(ReconcileScanner::new(reconcile.clone()));
        let scan: MakeTask =
            Box::new(move |env| Box::pin(task::run_scanner(scanner, partitions, env)));
        let listen: MakeTask = Box::new(move |env| Box::pin(run_listener(reconcile, source, env)));
        self.start(vec![
            (format!("{name}.listener"), TaskKind::Listener, listen),
            (name, TaskKind::Scanner, scan),
        ])
    }

    /// Registers and spawns tasks, all or none.
    fn start(&self, tasks: Vec<(String, TaskKind, MakeTask)>) -> Result<(), Error> {
        let runtime = Handle::try_current().map_err(|_| Error::NoRuntime)?;
        let shared = &self.shared;
        // Holding the lock while spawning makes registration and shutdown mutually exclusive:
        // no task can be spawned after `shutdown` has taken its list.
        let mut slots = lock(&shared.slots);
        if shared.cancel.is_cancelled() {
            return Err(Error::ShutDown);
        }
        for (i, (name, _, _)) in tasks.iter().enumerate() {
            let taken_before = tasks[..i].iter().any(|(other, _, _)| other == name);
            if taken_before || slots.iter().any(|slot| slot.name() == *name) {
                return Err(Error::DuplicateName { name: name.clone() });
            }
        }
        for (name, kind, make) in tasks {
            let slot = Slot::new(&name, kind);
            let env = TaskEnv {
                slot: slot.clone(),
                cancel: shared.cancel.child_token(),
                clock: shared.clock,
                changes: shared.changes.clone(),
                backoff: shared.config.restart_backoff(),
                jitter: shared.config.jitter(),
                unhealthy_after: shared.config.unhealthy_after(),
                scan_timeout: shared.config.scan_timeout(),
            };
            let handle = shared
                .tracker
                .spawn_on(task::owned(make(env.clone()), env), &runtime);
            slot.set_abort(handle.abort_handle());
            slots.push(slot);
        }
        Ok(())
    }

    /// The health of every task, in the order they were started.
    pub fn health(&self) -> Vec<TaskHealth> {
        lock(&self.shared.slots)
            .iter()
            .map(|slot| slot.snapshot())
            .collect()
    }

    /// The health of the task called `name`.
    pub fn health_of(&self, name: &str) -> Option<TaskHealth> {
        lock(&self.shared.slots)
            .iter()
            .map(|slot| slot.snapshot())
            .find(|health| health.name == name)
    }

    /// Whether every task is healthy.
    pub fn is_healthy(&self) -> bool {
        lock(&self.shared.slots)
            .iter()
            .all(|slot| slot.snapshot().healthy)
    }

    /// A counter that increases whenever any task's health changes: after every tick,
    /// every event handled, every restart and every stop. Wait on it with
    /// [`watch::Receiver::changed`] instead of polling [`health`](Self::health).
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.shared.changes.subscribe()
    }

    /// Whether [`shutdown`](Self::shutdown) has been called.
    pub fn is_shut_down(&self) -> bool {
        self.shared.cancel.is_cancelled()
    }

    /// Shuts down within the configured [`shutdown_timeout`](Config::shutdown_timeout)
    /// (15 s by default); see [`shutdown_within`](Self::shutdown_within).
    pub async fn shutdown(&self) -> ShutdownReport {
        self.shutdown_within(self.shared.config.shutdown_timeout())
            .await
    }

    /// Signals every task to stop, waits up to `timeout` for them, and reports which did
    /// not stop; those are aborted.
    ///
    /// A scan in progress is not interrupted at the signal: it sees
    /// [`ScanContext::is_cancelled`](crate::ScanContext::is_cancelled) and is expected to
    /// return at its next safe point. No new scan or tick starts. Calling this again waits
    /// again for whatever is left, and reports anew.
    pub async fn shutdown_within(&self, timeout: Duration) -> ShutdownReport {
        let shared = &self.shared;
        let slots = {
            let slots = lock(&shared.slots);
            shared.cancel.cancel();
            shared.tracker.close();
            slots.clone()
        };
        let all_stopped = tokio::time::timeout(timeout, shared.tracker.wait())
            .await
            .is_ok();
        let mut report = ShutdownReport {
            stopped: Vec::new(),
            not_stopped: Vec::new(),
            timeout,
        };
        for slot in &slots {
            if all_stopped || slot.is_stopped() {
                report.stopped.push(slot.name());
            } else {
                slot.abort();
                report.not_stopped.push(slot.name());
            }
        }
        if report.is_clean() {
            tracing::info!(tasks = report.stopped.len(), "scanners shut down");
        } else {
            tracing::warn!(
                ?timeout,
                not_stopped = %report.not_stopped.join(", "),
                "scanners did not stop within the shutdown timeout; aborting them",
            );
        }
        report
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The list only grows by whole entries: a panic while it was held leaves it usable.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests;
