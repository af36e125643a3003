//! The engine's live counters and per-component error records, which
//! [`Health`](crate::Health) and [`StopReport`](crate::StopReport) are read from.

use std::{
    error::Error as StdError,
    sync::{
        Arc, Mutex, OnceLock, PoisonError,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
};

use switchyard_core::Throttle;
use tokio::sync::Notify;

use crate::{
    ComponentKind,
    error::{shown, truncate},
    health::{ComponentHealth, EngineCounts},
    reason::MAX_ERROR_LEN,
};

/// Counters of root messages (those taken from subscribers) and of what happened on the
/// way. Updated with atomics on the hot path; nothing here takes a lock per message.
///
/// A root is *in flight* from the moment the intake takes it until its acker is settled:
/// `received - settled`. Every loop message and every output holds its root unsettled until
/// it is itself done (see [`crate::ack`]), so no root in flight means nothing anywhere in
/// the pipeline: that is the quiescence that `stop` waits for.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    // The intake writes `received` and the workers `acked` and `nacked`, once per message,
    // from different threads: each on its own cache line, so that they do not bounce one
    // line between the cores.
    received: Padded,
    acked: Padded,
    nacked: Padded,
    dead_lettered: AtomicU64,
    loop_overflows: AtomicU64,
    hop_limited: AtomicU64,
    /// Set by `stop` while it waits, so that only then does settling pay for a wake-up.
    draining: AtomicBool,
    idle: Notify,
}

impl Counters {
    /// A root message was taken from a subscriber.
    pub(crate) fn received(&self) {
        self.received.fetch_add(1, Ordering::SeqCst);
    }

    /// A root message was settled: acked if `acked`, nacked otherwise.
    pub(crate) fn settled(&self, acked: bool) {
        let (mine, other) = if acked {
            (&self.acked, &self.nacked)
        } else {
            (&self.nacked, &self.acked)
        };
        // Sequentially consistent with `wait_idle`'s store and loads: whichever settle comes
        // last in that order sees every other one and the flag, or `wait_idle` sees it, so
        // the last settle never goes unnoticed.
        let count = mine.fetch_add(1, Ordering::SeqCst) + 1;
        if self.draining.load(Ordering::SeqCst)
            && count + other.load(Ordering::SeqCst) == self.received.load(Ordering::SeqCst)
        {
            self.idle.notify_waiters();
        }
    }

    pub(crate) fn dead_lettered(&self) {
        self.dead_lettered.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn loop_overflowed(&self) {
        self.loop_overflows.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn hop_limited(&self) {
        self.hop_limited.fetch_add(1, Ordering::Relaxed);
    }

    /// Roots taken in and not settled yet.
    pub(crate) fn in_flight(&self) -> u64 {
        self.snapshot().in_flight()
    }

    /// Waits until no root is in flight. Only meaningful once nothing new is received.
    pub(crate) async fn wait_idle(&self) {
        self.draining.store(true, Ordering::SeqCst);
        loop {
            let notified = self.idle.notified();
            tokio::pin!(notified);
            // Registered before the check, so a settle between the check and the await
            // still wakes this.
            notified.as_mut().enable();
            if self.in_flight() == 0 {
                return;
            }
            notified.await;
        }
    }

    /// The counters, now. `received` is read last: a root is received before it settles,
    /// so `received >= acked + nacked` holds in every snapshot.
    pub(crate) fn snapshot(&self) -> EngineCounts {
        let acked = self.acked.load(Ordering::SeqCst);
        let nacked = self.nacked.load(Ordering::SeqCst);
        EngineCounts {
            acked,
            nacked,
            received: self.received.load(Ordering::SeqCst),
            dead_lettered: self.dead_lettered.load(Ordering::Relaxed),
            loop_overflows: self.loop_overflows.load(Ordering::Relaxed),
            hop_limited: self.hop_limited.load(Ordering::Relaxed),
        }
    }
}

/// Why a running pipeline stopped working before `stop` asked it to: the first task of the
/// run that ended unexpectedly, shown as [`Health::degraded`](crate::Health::degraded).
#[derive(Debug, Default)]
pub(crate) struct Degraded(OnceLock<String>);

impl Degraded {
    /// Records `reason`, redacted and bounded, unless a reason is on record already: the
    /// first failure is the cause, and what follows from it is not news.
    pub(crate) fn set(&self, reason: &str) {
        let redacted = switchyard_core::redact(reason);
        let _first = self.0.set(truncate(&redacted, MAX_ERROR_LEN).to_owned());
    }

    /// The reason, if one is on record.
    pub(crate) fn reason(&self) -> Option<&str> {
        self.0.get().map(String::as_str)
    }
}

/// An atomic counter alone on its cache line (128 bytes covers the adjacent-line
/// prefetcher of x86 and the line size of recent ARM cores).
#[derive(Debug, Default)]
#[repr(align(128))]
struct Padded(AtomicU64);

impl std::ops::Deref for Padded {
    type Target = AtomicU64;

    fn deref(&self) -> &AtomicU64 {
        &self.0
    }
}

/// The error count and last error of one registered component.
#[derive(Debug)]
pub(crate) struct ComponentStats {
    kind: ComponentKind,
    /// The name as registered, which the engine matches on.
    name: Arc<str>,
    /// The name as shown in health, logs and metric labels: redacted, since a prefix such
    /// as `redis://user:password@host/` may carry a credential.
    label: Arc<str>,
    errors: AtomicU64,
    /// Written on errors only, never held across an await.
    last_error: Mutex<Option<String>>,
    /// Lets one warning a second through for this component; the error count counts all.
    warnings: Throttle,
}

impl ComponentStats {
    pub(crate) fn new(kind: ComponentKind, name: Arc<str>) -> Self {
        Self {
            kind,
            label: Arc::from(shown(&name)),
            name,
            errors: AtomicU64::new(0),
            last_error: Mutex::new(None),
            warnings: Throttle::default(),
        }
    }

    /// Whether a warning about this component may be logged now: `Some` with how many were
    /// left out since the last one, at most once per [`Throttle::DEFAULT_INTERVAL`]. For
    /// errors that can come once per message, such as failed publishes while a broker is
    /// down.
    pub(crate) fn warning(&self) -> Option<u64> {
        self.warnings.admit()
    }

    pub(crate) fn kind(&self) -> ComponentKind {
        self.kind
    }

    pub(crate) fn name(&self) -> &Arc<str> {
        &self.name
    }

    pub(crate) fn label(&self) -> &Arc<str> {
        &self.label
    }

    /// Counts an error and keeps its redacted, bounded report as the last error.
    pub(crate) fn record(&self, error: &(dyn StdError + 'static)) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        let report = switchyard_core::report(error);
        let text = truncate(&report, MAX_ERROR_LEN).to_owned();
        *self
            .last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(text);
    }

    pub(crate) fn snapshot(&self) -> ComponentHealth {
        ComponentHealth {
            kind: self.kind,
            name: self.label.to_string(),
            errors: self.errors.load(Ordering::Relaxed),
            last_error: self
                .last_error
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
        }
    }
}
