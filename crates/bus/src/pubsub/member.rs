//! [`Member`]: the state one subscription shares between its stream, the publishers that
//! fill its queue, the ackers of its deliveries and the redelivery task.

use std::{
    collections::VecDeque,
    sync::{
        Arc, Weak,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
};

use tokio::sync::mpsc::UnboundedSender;

use super::{
    entry::Entry,
    options::{Resolved, SlowConsumerPolicy},
    queue::Queue,
    redelivery::Redelivery,
    stats::SubscriptionStats,
    target::Target,
};

/// One subscription, as everything but its stream sees it.
///
/// **In-flight slots.** The subscription holds a slot for each message delivered and not yet
/// acked, waiting in the redelivery task, or waiting in its retry lane: `taken + moved_in -
/// released` of them. A new message (main lane or replay) is delivered only while that is
/// below
/// `max_in_flight`; a redelivery already holds its slot and is never held back. A
/// redelivery moves to another group member only if that member has a free slot, and its
/// slot moves with it; otherwise it stays with the member that nacked it. So a member that
/// does not consume cannot be handed the redeliveries of one that nacks: its retry lane
/// holds at most its `max_in_flight` (one more when a move races with its own stream taking
/// a slot). Only the messages of a member that left may take another member past its limit,
/// when every member is full, so that they are not lost; that is bounded by what the
/// departed member held.
#[derive(Debug)]
pub(super) struct Member {
    pub(super) id: u64,
    /// Weak: the target holds its members, and the registry and the stream hold the target.
    pub(super) target: Weak<Target>,
    /// The target's subject and group, kept here for after the target is gone.
    pub(super) subject: Arc<str>,
    pub(super) group: Option<Arc<str>>,
    pub(super) queue: Queue,
    pub(super) policy: SlowConsumerPolicy,
    max_in_flight: usize,
    /// Slots taken for new deliveries; written by the stream only, so a plain store.
    taken: AtomicU64,
    /// Slots taken for redeliveries moved here from other members.
    moved_in: AtomicU64,
    /// Slots given back, by an ack or otherwise: one atomic add per ack.
    released: AtomicU64,
    /// Slots given back other than by an ack, so that `acked = released - released_other`.
    released_other: AtomicU64,
    /// Set when the bus closes: the stream ends at its next poll.
    closed: AtomicBool,
    redeliver: UnboundedSender<Redelivery>,
    delivered: AtomicU64,
    nacked: AtomicU64,
    redelivered: AtomicU64,
    dropped: AtomicU64,
}

impl Member {
    /// Member `id` of `target`, subscribed to `subject` with `options`.
    pub(super) fn new(
        id: u64,
        target: Weak<Target>,
        subject: Arc<str>,
        options: &Resolved,
        redeliver: UnboundedSender<Redelivery>,
    ) -> Self {
        Self {
            id,
            target,
            subject,
            group: options.group.clone(),
            queue: Queue::new(options.buffer),
            policy: options.policy,
            max_in_flight: options.max_in_flight,
            taken: AtomicU64::new(0),
            moved_in: AtomicU64::new(0),
            released: AtomicU64::new(0),
            released_other: AtomicU64::new(0),
            closed: AtomicBool::new(false),
            redeliver,
            delivered: AtomicU64::new(0),
            nacked: AtomicU64::new(0),
            redelivered: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
        }
    }

    /// Slots held: messages delivered and not settled, or on their way back.
    pub(super) fn in_flight(&self) -> usize {
        self.held_with(self.released.load(Ordering::Acquire))
    }

    /// Slots held if `released` slots have been given back.
    fn held_with(&self, released: u64) -> usize {
        let taken = self.taken.load(Ordering::Acquire) + self.moved_in.load(Ordering::Acquire);
        usize::try_from(taken.saturating_sub(released)).unwrap_or(usize::MAX)
    }

    /// Takes an in-flight slot for a new delivery, if one is free. Only the subscription's
    /// own stream calls this, so a load and a store do not race with each other.
    pub(super) fn try_acquire_slot(&self) -> bool {
        if self.slot_free() {
            let taken = self.taken.load(Ordering::Relaxed);
            self.taken.store(taken + 1, Ordering::Release);
            true
        } else {
            false
        }
    }

    pub(super) fn slot_free(&self) -> bool {
        self.in_flight() < self.max_in_flight
    }

    /// Takes a slot for a redelivery moved here from elsewhere, whether or not one is free.
    pub(super) fn hold_slot(&self) {
        self.moved_in.fetch_add(1, Ordering::AcqRel);
    }

    /// Takes a slot for a redelivery moved here from elsewhere, if one is free. Moves are
    /// ordered by their compare-and-swap on `moved_in`; only the stream's own
    /// [`try_acquire_slot`](Self::try_acquire_slot), between its check and its store, can
    /// take one slot past the limit beside them.
    pub(super) fn try_hold_slot(&self) -> bool {
        let mut moved_in = self.moved_in.load(Ordering::Acquire);
        loop {
            let taken = self.taken.load(Ordering::Acquire) + moved_in;
            let held = taken.saturating_sub(self.released.load(Ordering::Acquire));
            if usize::try_from(held).unwrap_or(usize::MAX) >= self.max_in_flight {
                return false;
            }
            match self.moved_in.compare_exchange_weak(
                moved_in,
                moved_in + 1,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return true,
                Err(now) => moved_in = now,
            }
        }
    }

    /// Gives a slot back other than by an ack.
    pub(super) fn release_slot(&self) {
        self.released_other.fetch_add(1, Ordering::Relaxed);
        self.release();
    }

    /// Gives a slot back, waking the stream if it was waiting for one.
    fn release(&self) {
        let before = self.released.fetch_add(1, Ordering::AcqRel);
        // Releases are ordered by this one counter, so exactly one of them sees the count
        // fall from the limit: the stream is woken once, and the lock is taken only then.
        // The stream does not take slots while it waits, and slots moved in come with a
        // retry, which wakes it anyway.
        if self.held_with(before) == self.max_in_flight {
            self.queue.wake_slot_waiter();
        }
    }

    pub(super) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Ends the subscription's stream and returns what its queue held: the main lane and
    /// the retry lane.
    pub(super) fn close(&self) -> (VecDeque<Entry>, VecDeque<Entry>) {
        self.closed.store(true, Ordering::Release);
        let held = self.queue.close();
        // Publishers blocked on this member find it gone and look elsewhere.
        if let Some(target) = self.target.upgrade() {
            target.notify_space();
        }
        held
    }

    /// Called by the subscription's stream only: a single writer needs no atomic
    /// read-modify-write.
    pub(super) fn on_delivered(&self) {
        let delivered = self.delivered.load(Ordering::Relaxed);
        self.delivered.store(delivered + 1, Ordering::Relaxed);
    }

    pub(super) fn on_ack(&self) {
        self.release();
    }

    /// Hands a nacked delivery to the redelivery task; it keeps its slot until the task
    /// places it. After close the task is gone and the message with it.
    pub(super) fn on_nack(self: &Arc<Self>, entry: Entry) {
        self.nacked.fetch_add(1, Ordering::Relaxed);
        let redelivery = Redelivery {
            origin: Arc::clone(self),
            entry,
        };
        if self.redeliver.send(redelivery).is_err() {
            self.release_slot();
        }
    }

    pub(super) fn on_redelivered(&self) {
        self.redelivered.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn on_dropped(&self) {
        self.dropped.fetch_add(1, Ordering::Relaxed);
    }

    /// The counters, with `local` entries held by the stream added to the queue depth.
    pub(super) fn stats(&self, local: usize) -> SubscriptionStats {
        SubscriptionStats {
            delivered: self.delivered.load(Ordering::Relaxed),
            acked: self
                .released
                .load(Ordering::Relaxed)
                .saturating_sub(self.released_other.load(Ordering::Relaxed)),
            nacked: self.nacked.load(Ordering::Relaxed),
            redelivered: self.redelivered.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            queue_depth: self.queue.depth() + local,
            in_flight: self.in_flight(),
        }
    }
}
