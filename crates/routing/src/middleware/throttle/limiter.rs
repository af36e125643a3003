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
/// while anyone waits: a grant is a reservation of a future instant, which a caller that
/// gives up before it comes hands back with [`SlidingLog::withdraw`].
#[derive(Debug)]
pub(super) struct SlidingLog {
    calls: usize,
    period: Duration,
    /// Every grant that still counts: those less than one period old, and the reservations
    /// of callers still waiting for theirs. Ordered by instant and by sequence number alike
    /// (both never decrease), so the next grant is at the earliest one period after the
    /// grant `calls` places back. Holds at most `calls` past grants plus one entry per
    /// waiting caller.
    granted: VecDeque<Turn>,
    next_seq: u64,
}

/// A reserved start: the instant and a sequence number that names the reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Turn {
    pub(super) at: Instant,
    seq: u64,
}

impl SlidingLog {
    /// A limiter of `calls` per `period`; `calls` is at least 1 (checked by the builder).
    pub(super) fn new(calls: usize, period: Duration) -> Self {
        Self {
            calls,
            period,
            // Holds up to `calls` past grants (bounded by the builder), plus one entry per
            // caller waiting for its turn, which the callers bound.
            granted: VecDeque::with_capacity(calls.min(1024)),
            next_seq: 0,
        }
    }

    /// Reserves the earliest start at or after `now` (and after every earlier reservation)
    /// that keeps the rate, if it is at most `max_wait` away; otherwise reserves nothing and
    /// returns the wait it would have taken.
    pub(super) fn reserve(&mut self, now: Instant, max_wait: Duration) -> Result<Turn, Duration> {
        // Grants a whole period old no longer limit anything.
        while self
            .granted
            .front()
            .is_some_and(|oldest| deadline(oldest.at, self.period) <= now)
        {
            self.granted.pop_front();
        }
        let mut at = self.granted.back().map_or(now, |last| last.at.max(now));
        if let Some(index) = self.granted.len().checked_sub(self.calls) {
            // A period the clock cannot add (`Duration::MAX`, "one call, ever") puts the
            // next turn far in the future rather than panicking: past any `max_wait`.
            at = at.max(deadline(self.granted[index].at, self.period));
        }
        let wait = at - now;
        if wait > max_wait {
            return Err(wait);
        }
        let turn = Turn {
            at,
            seq: self.next_seq,
        };
        self.next_seq += 1;
        self.granted.push_back(turn);
        Ok(turn)
    }

    /// Hands back a reservation whose caller gave up before its instant (cancelled by a
    /// timeout, say). Without this, every cancelled waiter would keep its slot: a throttle
    /// behind a timeout shorter than the wait would then push each new turn further out
    /// and time nearly every caller out.
    ///
    /// Removing a grant cannot break the rate. Reservations made after this one keep their
    /// instants, so its slot goes to the next caller only if none was made since: when
    /// many waiters give up at once, the turns of those still waiting stay where they were
    /// booked, and fewer calls run than the rate allows (though more than without this).
    pub(super) fn withdraw(&mut self, turn: Turn) {
        if let Ok(index) = self
            .granted
            .binary_search_by_key(&turn.seq, |granted| granted.seq)
        {
            self.granted.remove(index);
        }
    }
}

#[cfg(test)]
mod tests;
