//! The sliding-log rate limiter behind the throttle: at most `calls` grants in any window of
//! one `period`, each caller told when its turn comes.
//!
//! It is pure: the caller passes the current [`Instant`]. The throttle passes
//! `tokio::time::Instant::now()`, so tokio's paused clock drives it in tests. (The
//! `governor` crate reads its own clock, which a paused tokio runtime does not move; this
//! limiter is a dozen lines, so it is written here instead.)

use std::{collections::VecDeque, time::Duration};

use switchyard_core::deadline::deadline;
use tokio::time::Instant;

/// Grants at most `calls` starts per `period`, in the order asked, without holding a lock
/// while anyone waits: a grant is a reservation of a future instant.
#[derive(Debug)]
pub(super) struct SlidingLog {
    calls: usize,
    period: Duration,
    /// The last `calls` grants, oldest first. They never decrease, so the next grant is at
    /// the earliest one period after the grant `calls` places back.
    granted: VecDeque<Instant>,
}

impl SlidingLog {
    /// A limiter of `calls` per `period`; `calls` is at least 1 (checked by the builder).
    pub(super) fn new(calls: usize, period: Duration) -> Self {
        Self {
            calls,
            period,
            // Grows to `calls` (bounded by the builder) only if the rate is ever reached.
            granted: VecDeque::with_capacity(calls.min(1024)),
        }
    }

    /// Reserves the earliest start at or after `now` that keeps the rate, if it is at most
    /// `max_wait` away; otherwise reserves nothing and returns the wait it would have taken.
    pub(super) fn reserve(
        &mut self,
        now: Instant,
        max_wait: Duration,
    ) -> Result<Instant, Duration> {
        let at = if self.granted.len() < self.calls {
            now
        } else {
            // A period the clock cannot add (`Duration::MAX`, "one call, ever") puts the
            // next turn far in the future rather than panicking: past any `max_wait`.
            self.granted
                .front()
                .map_or(now, |oldest| deadline(*oldest, self.period).max(now))
        };
        let wait = at - now;
        if wait > max_wait {
            return Err(wait);
        }
        if self.granted.len() == self.calls {
            self.granted.pop_front();
        }
        self.granted.push_back(at);
        Ok(at)
    }
}

#[cfg(test)]
mod tests;
