//! [`Throttle`]: lets an event through at most once per interval and counts the rest, for
//! log lines that would otherwise fire once per message.
//!
//! A warning per failed publish is what an operator wants to see once, not a million times
//! a minute while a broker is down: the counters and metrics count every event, and the log
//! says how many it left out.

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, Instant},
};

/// At most one event per interval passes; the others are counted and reported with the
/// next one that passes. Lock-free, and cheap when it holds an event back: one atomic load
/// and one increment.
///
/// ```
/// use std::time::Duration;
///
/// use switchyard_core::Throttle;
///
/// let throttle = Throttle::new(Duration::from_secs(1));
/// assert_eq!(Throttle::DEFAULT_INTERVAL, Duration::from_secs(1));
/// if let Some(suppressed) = throttle.admit() {
///     // Log it, with `suppressed`: how many were held back since the last one logged.
///     assert_eq!(suppressed, 0, "the first event always passes");
/// }
/// assert_eq!(throttle.admit(), None, "a second one within the second does not");
/// ```
#[derive(Debug)]
pub struct Throttle {
    interval: Duration,
    /// Where `next` counts from.
    origin: Instant,
    /// Nanoseconds after `origin` from which the next event passes.
    next: AtomicU64,
    /// Events held back since the last that passed.
    suppressed: AtomicU64,
}

impl Throttle {
    /// The interval of [`Throttle::default`]: one log line a second per source is what an
    /// operator can read, and enough to see that something keeps happening.
    pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(1);

    /// Lets one event through per `interval`.
    pub fn new(interval: Duration) -> Self {
        Self {
            interval,
            origin: Instant::now(),
            next: AtomicU64::new(0),
            suppressed: AtomicU64::new(0),
        }
    }

    /// [`admit_at`](Self::admit_at) now.
    pub fn admit(&self) -> Option<u64> {
        self.admit_at(Instant::now())
    }

    /// Whether an event at `now` passes: `Some` with how many were held back since the last
    /// one that passed, or `None` if this one is held back (and counted). When several
    /// threads race for the same slot, one passes.
    pub fn admit_at(&self, now: Instant) -> Option<u64> {
        let at = nanos(now.saturating_duration_since(self.origin));
        let next = self.next.load(Ordering::Relaxed);
        let passes = at >= next
            && self
                .next
                .compare_exchange(
                    next,
                    at.saturating_add(nanos(self.interval)),
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                )
                .is_ok();
        if passes {
            Some(self.suppressed.swap(0, Ordering::Relaxed))
        } else {
            self.suppressed.fetch_add(1, Ordering::Relaxed);
            None
        }
    }
}

impl Default for Throttle {
    /// One event per [`DEFAULT_INTERVAL`](Self::DEFAULT_INTERVAL).
    fn default() -> Self {
        Self::new(Self::DEFAULT_INTERVAL)
    }
}

/// `duration` in nanoseconds, saturating: about 584 years fit.
fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests;
