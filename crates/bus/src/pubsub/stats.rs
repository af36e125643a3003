//! Counters of the pub/sub and of each subscription, read as snapshots.

use std::sync::atomic::{AtomicU64, Ordering};

/// What one subscription has done so far; from
/// [`Subscription::stats`](super::Subscription::stats) or
/// [`MemoryPubSub::snapshot`](super::MemoryPubSub::snapshot).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SubscriptionStats {
    /// Messages delivered, redeliveries and replays included.
    pub delivered: u64,
    /// Deliveries acked.
    pub acked: u64,
    /// Deliveries nacked, explicitly or by being dropped unsettled.
    pub nacked: u64,
    /// Redeliveries placed in this subscription's queue (from its own nacks, or moved from
    /// another member of its group).
    pub redelivered: u64,
    /// Messages dropped by the [`DropOldest`](super::SlowConsumerPolicy::DropOldest)
    /// policy.
    pub dropped: u64,
    /// Messages waiting to be delivered.
    pub queue_depth: usize,
    /// In-flight slots taken: deliveries not yet acked, and redeliveries not yet made.
    pub in_flight: usize,
}

/// What the whole pub/sub has done so far; part of
/// [`MemoryPubSub::snapshot`](super::MemoryPubSub::snapshot).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PubSubStats {
    /// Published messages that no live subscription took: no subscription matched, or the
    /// matching ones were leaving. (Messages published in all are
    /// not counted: that would be one more atomic write per publish on every thread; the
    /// subscriptions' `delivered` counters tell what arrived.)
    pub unrouted: u64,
    /// Messages discarded because no subscription was left to take them: queued or nacked
    /// messages of a subscription that was dropped outside a group or as the last of its
    /// group, and everything still queued when the bus closed. Also in the
    /// `switchyard_bus_pubsub_dropped_total` counter, with `reason` `unsubscribed` or
    /// `closed`.
    pub discarded: u64,
    /// Live subscriptions.
    pub subscriptions: usize,
}

/// One subscription in a [`PubSubSnapshot`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SubscriptionSnapshot {
    /// The subscription's id, as [`Subscription::id`](super::Subscription::id) gives it.
    pub id: u64,
    /// The topic or pattern subscribed to.
    pub topic: String,
    /// The consumer group, if any.
    pub group: Option<String>,
    /// Its counters. The queue depth leaves out the batch its stream already took.
    pub stats: SubscriptionStats,
}

/// The state of a [`MemoryPubSub`](super::MemoryPubSub): its counters and every live
/// subscription's, sorted by id.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PubSubSnapshot {
    /// The bus's counters.
    pub stats: PubSubStats,
    /// Every live subscription.
    pub subscriptions: Vec<SubscriptionSnapshot>,
}

/// The bus's own counters.
#[derive(Debug, Default)]
pub(super) struct BusCounters {
    unrouted: AtomicU64,
    discarded: AtomicU64,
}

impl BusCounters {
    pub(super) fn unrouted(&self) {
        self.unrouted.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts `count` discarded messages, also in the `metrics` counter with `reason`.
    pub(super) fn discarded(&self, count: usize, reason: &'static str) {
        if count > 0 {
            self.discarded.fetch_add(count as u64, Ordering::Relaxed);
            metrics::counter!("switchyard_bus_pubsub_dropped_total", "reason" => reason)
                .increment(count as u64);
        }
    }

    pub(super) fn snapshot(&self, subscriptions: usize) -> PubSubStats {
        PubSubStats {
            unrouted: self.unrouted.load(Ordering::Relaxed),
            discarded: self.discarded.load(Ordering::Relaxed),
            subscriptions,
        }
    }
}
