//! Push and reconcile: an event-driven fast path that handles work as it is announced, and
//! a periodic reconciler that catches whatever the fast path missed.

use std::{panic::AssertUnwindSafe, sync::Arc, time::Duration};

use async_trait::async_trait;
use futures::{FutureExt, StreamExt, stream::BoxStream};
use switchyard_core::{Result, panic_text, redact};
use tokio::time::Instant;

use crate::{
    DEFAULT_FAMILY, Partition, ScanContext, ScanReport, Scanner,
    supervisor::{TaskEnv, guarded, later},
};

/// A stream of notifications from an [`EventSource`].
pub type EventStream<E> = BoxStream<'static, E>;

/// Where the fast path's notifications come from: a pub/sub channel, a keyspace
/// notification, a broadcast receiver.
///
/// The listener calls [`subscribe`](Self::subscribe) when it starts, and again (after the
/// restart backoff) whenever the stream fails or ends. Notifications sent while it was
/// not subscribed are lost to it; that is what the reconciler is for.
#[async_trait]
pub trait EventSource: Send + Sync + 'static {
    /// What a notification carries: usually the id of the thing that changed.
    type Event: Send + 'static;

    /// Opens a new stream of notifications.
    async fn subscribe(&self) -> Result<EventStream<Self::Event>>;
}

/// The two halves of a push-and-reconcile pair, started with
/// [`Supervisor::spawn_push_reconcile`](crate::Supervisor::spawn_push_reconcile).
///
/// [`handle`](Self::handle) does the work for one notification at once: the fast path,
/// whose latency is a round trip. [`reconcile`](Self::reconcile) runs every
/// [`interval`](Self::interval) over every partition of the [`family`](Self::family) and
/// does whatever work is still outstanding, whichever notification was lost: during a
/// reconnect, a restart, or because the change never published one. Both halves may see
/// the same piece of work, even at the same time, so both must be idempotent.
///
/// ```
/// use std::time::Duration;
/// use async_trait::async_trait;
/// use switchyard_scanners::{Partition, Reconcile, ScanContext, ScanReport};
///
/// /// Resolves the dependants of completed jobs.
/// struct Dependencies;
///
/// #[async_trait]
/// impl Reconcile for Dependencies {
///     type Event = String;
///
///     fn name(&self) -> &str {
///         "dependencies"
///     }
///
///     fn interval(&self) -> Duration {
///         Duration::from_secs(15)
///     }
///
///     async fn handle(&self, completed_job: String) -> switchyard_core::Result<()> {
///         // Resolve the dependants of `completed_job`.
///         # let _ = completed_job;
///         Ok(())
///     }
///
///     async fn reconcile(&self, _: &Partition, _: &ScanContext) -> switchyard_core::Result<ScanReport> {
///         // Find completed jobs whose dependants are still blocked, and resolve them.
///         Ok(ScanReport::new())
///     }
/// }
/// ```
#[async_trait]
pub trait Reconcile: Send + Sync + 'static {
    /// The notification that the fast path handles.
    type Event: Send + 'static;

    /// The reconciler's name, unique within a supervisor. The listener is called
    /// `<name>.listener`.
    fn name(&self) -> &str;

    /// The time between two reconciliations, before jitter; see
    /// [`Config::reconciler_interval`](crate::Config::reconciler_interval) for the default.
    fn interval(&self) -> Duration;

    /// The partition family that [`reconcile`](Self::reconcile) covers; [`DEFAULT_FAMILY`]
    /// unless overridden.
    fn family(&self) -> &str {
        DEFAULT_FAMILY
    }

    /// The fast path: does the work that `event` announces. An error is logged and
    /// counted, and the work is left to the reconciler.
    async fn handle(&self, event: Self::Event) -> Result<()>;

    /// The safety net: finds and does the outstanding work of one partition.
    async fn reconcile(&self, partition: &Partition, ctx: &ScanContext) -> Result<ScanReport>;
}

/// Runs a [`Reconcile`]'s safety net as a [`Scanner`].
pub(crate) struct ReconcileScanner<R> {
    reconcile: Arc<R>,
}

impl<R> ReconcileScanner<R> {
    pub(crate) fn new(reconcile: Arc<R>) -> Self {
        Self { reconcile }
    }
}

#[async_trait]
impl<R: Reconcile> Scanner for ReconcileScanner<R> {
    fn name(&self) -> &str {
        self.reconcile.name()
    }

    fn interval(&self) -> Duration {
        self.reconcile.interval()
    }

    fn family(&self) -> &str {
        self.reconcile.family()
    }

    async fn scan(&self, partition: &Partition, ctx: &ScanContext) -> Result<ScanReport> {
        self.reconcile.reconcile(partition, ctx).await
    }
}

/// The listener task: subscribe, handle each event, and subscribe again after a backoff
/// when the stream fails or ends, until cancelled.
///
/// The backoff grows with the subscriptions that failed or ended in a row, and starts over
/// once a stream has delivered an event or stayed up for at least the backoff's cap: a
/// stream that is accepted and then ends at once is a failure like any other, not a reset.
pub(crate) async fn run_listener<R, S>(reconcile: Arc<R>, source: S, env: TaskEnv)
where
    R: Reconcile,
    S: EventSource<Event = R::Event>,
{
    let name = env.slot.name();
    let mut rng = fastrand::Rng::new();
    // Subscriptions that failed or ended in a row: what the backoff grows with.
    let mut broken = 0u32;
    loop {
        let subscribed = tokio::select! {
            biased;
            () = env.cancel.cancelled() => break,
            subscribed = guarded(source.subscribe(), env.scan_timeout, "subscribe") => subscribed,
        };
        let failure = match subscribed {
            Ok(mut events) => {
                // A subscription that is accepted is not yet a working one: a server may
                // drop the stream at once. The backoff starts over only once the stream
                // has delivered an event or stayed up for a while.
                let up_since = Instant::now();
                let ended = loop {
                    // A stream that panics while polled (a transport's decoding bug) is a
                    // broken subscription like one that ends: uncaught, the panic would end
                    // the listener for good while its health still read healthy.
                    let polled = tokio::select! {
                        biased;
                        () = env.cancel.cancelled() => return,
                        polled = AssertUnwindSafe(events.next()).catch_unwind() => polled,
                    };
                    match polled {
                        Ok(Some(event)) => {
                            broken = 0;
                            handle_one(&*reconcile, event, &env, &name).await;
                        }
                        Ok(None) => break "the event stream ended".to_owned(),
                        Err(payload) => break panic_text(&*payload),
                    }
                };
                // A stream that stayed up for the backoff's cap proved itself too, even on a
                // quiet channel.
                if up_since.elapsed() >= env.backoff.max() {
                    broken = 0;
                }
                ended
            }
            Err(error) => error,
        };
        broken = broken.saturating_add(1);
        tracing::warn!(listener = %redact(&name), error = %failure, "listener lost its subscription");
        env.slot.record_run(
            env.clock.now(),
            Duration::ZERO,
            &ScanReport::new(),
            1,
            Some(failure),
        );
        env.verdict(true, &name);
        env.notify();
        let delay = env.backoff_after(broken, &mut rng);
        if !env.sleep_until(later(Instant::now(), delay)).await {
            break;
        }
        env.slot.record_restart();
    }
}

/// Handles one event, catching failures and recording the outcome.
async fn handle_one<R: Reconcile>(reconcile: &R, event: R::Event, env: &TaskEnv, name: &str) {
    let started = Instant::now();
    let started_wall = env.clock.now();
    let outcome = guarded(reconcile.handle(event), env.scan_timeout, "event handler").await;
    let (report, failures, error) = match outcome {
        Ok(()) => (ScanReport::with_counts(1, 1), 0, None),
        Err(error) => {
            tracing::warn!(listener = %redact(name), %error, "event handler failed; leaving it to the reconciler");
            (ScanReport::with_counts(1, 0), 1, Some(error))
        }
    };
    env.slot
        .record_run(started_wall, started.elapsed(), &report, failures, error);
    env.verdict(failures > 0, name);
    env.notify();
}
