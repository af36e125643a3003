//! The failure-rate windows of a [`CircuitMachine`](super::CircuitMachine): the outcomes of
//! the last N calls, or the calls that ended within the last span of time.

use std::{collections::VecDeque, time::Duration};

use switchyard_core::deadline::deadline;
use tokio::time::Instant;

/// How many buckets a time window is cut into. The window slides by one bucket at a time,
/// so an outcome is forgotten between `span - span / BUCKETS` and `span` after it was
/// recorded; memory is bounded by the bucket count, whatever the call rate.
const BUCKETS: u32 = 10;

/// The outcomes of the last `size` calls, oldest first.
#[derive(Debug)]
pub(super) struct RecentCalls {
    size: u32,
    outcomes: VecDeque<bool>,
    failures: u32,
}

impl RecentCalls {
    /// `size` is bounded by the policy's builder, so the deque is too.
    pub(super) fn new(size: u32) -> Self {
        Self {
            size,
            outcomes: VecDeque::new(),
            failures: 0,
        }
    }

    pub(super) fn record(&mut self, failed: bool) {
        if self.outcomes.len() >= self.size as usize
            && let Some(true) = self.outcomes.pop_front()
        {
            self.failures -= 1;
        }
        self.outcomes.push_back(failed);
        self.failures += u32::from(failed);
    }

    /// How many calls it remembers at most.
    pub(super) fn size(&self) -> u32 {
        self.size
    }

    /// The calls remembered (at most `size`) and how many of them failed.
    pub(super) fn totals(&self) -> (u32, u32) {
        // At most `size`, a `u32`.
        (self.outcomes.len() as u32, self.failures)
    }

    pub(super) fn clear(&mut self) {
        self.outcomes.clear();
        self.failures = 0;
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    start: Instant,
    calls: u32,
    failures: u32,
}

/// Call and failure counts over a sliding span of time, in [`BUCKETS`] buckets.
#[derive(Debug)]
pub(super) struct FailureWindow {
    span: Duration,
    bucket_len: Duration,
    buckets: VecDeque<Bucket>,
    calls: u32,
    failures: u32,
}

impl FailureWindow {
    pub(super) fn new(span: Duration) -> Self {
        Self {
            span,
            // A zero-length bucket would open a new bucket per call; one nanosecond keeps
            // calls at the same instant (a paused clock) in one bucket.
            bucket_len: (span / BUCKETS).max(Duration::from_nanos(1)),
            buckets: VecDeque::with_capacity(BUCKETS as usize + 1),
            calls: 0,
            failures: 0,
        }
    }

    /// Records one call that ended at `now`.
    pub(super) fn record(&mut self, failed: bool, now: Instant) {
        self.expire(now);
        let fresh = match self.buckets.back() {
            Some(last) => now >= deadline(last.start, self.bucket_len),
            None => true,
        };
        if fresh {
            self.buckets.push_back(Bucket {
                start: now,
                calls: 0,
                failures: 0,
            });
        }
        if let Some(bucket) = self.buckets.back_mut() {
            bucket.calls = bucket.calls.saturating_add(1);
            bucket.failures = bucket.failures.saturating_add(u32::from(failed));
        }
        self.calls = self.calls.saturating_add(1);
        self.failures = self.failures.saturating_add(u32::from(failed));
    }

    /// The calls and failures that ended within the span before `now`.
    pub(super) fn totals(&mut self, now: Instant) -> (u32, u32) {
        self.expire(now);
        (self.calls, self.failures)
    }

    /// Forgets everything, as when the circuit changes state.
    pub(super) fn clear(&mut self) {
        self.buckets.clear();
        self.calls = 0;
        self.failures = 0;
    }

    fn expire(&mut self, now: Instant) {
        // A bucket leaves once its start is a span old. Buckets start at least a bucket
        // length apart, so about BUCKETS of them remain, never more than BUCKETS + 2.
        while let Some(first) = self.buckets.front() {
            if deadline(first.start, self.span) > now {
                break;
            }
            self.calls -= first.calls;
            self.failures -= first.failures;
            self.buckets.pop_front();
        }
    }
}

#[cfg(test)]
mod tests;
