//! The bounded queue of one subscription: a main lane for new messages, a retry lane for
//! redeliveries, and the consumer's parked waker.
//!
//! The consumer takes a whole lane at a time (a `VecDeque` swap), so it locks once per batch,
//! not once per message; a producer wakes the consumer only when the consumer parked, that is
//! when it found nothing to do, so a busy consumer is never woken per message.

use std::{
    collections::VecDeque,
    mem,
    sync::{
        Mutex, MutexGuard, PoisonError,
        atomic::{AtomicBool, Ordering},
    },
    task::Waker,
};

use super::entry::Entry;

/// Why the consumer is parked, which decides who wakes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Parked {
    /// Not parked.
    No,
    /// Both lanes were empty: a push to either wakes it.
    Empty,
    /// It has messages but no in-flight slot: a freed slot or a retry wakes it, a new
    /// message does not.
    Slot,
}

#[derive(Debug)]
struct Lanes {
    main: VecDeque<Entry>,
    retry: VecDeque<Entry>,
    waker: Option<Waker>,
    parked: Parked,
    closed: bool,
}

impl Lanes {
    /// The consumer's waker, if it is parked for a reason in `reasons`.
    fn take_waker(&mut self, reasons: &[Parked]) -> Option<Waker> {
        if reasons.contains(&self.parked) {
            self.parked = Parked::No;
            self.waker.take()
        } else {
            None
        }
    }
}

/// The outcome of [`Queue::try_push`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Push {
    Accepted,
    /// The main lane is at capacity.
    Full,
    /// The subscription is gone.
    Closed,
}

/// The outcome of [`Queue::refill`] and [`Queue::park_for_slot`].
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Refill {
    /// Something was taken, or may now be taken: look again.
    Again,
    /// A full main lane was taken: publishers blocked on it may go on. Look again.
    Freed,
    /// The consumer's waker is stored; it is woken when there is something to do.
    Parked,
    /// The queue is closed.
    Closed,
}

/// The two lanes of a subscription, behind one short-held mutex.
#[derive(Debug)]
pub(super) struct Queue {
    lanes: Mutex<Lanes>,
    capacity: usize,
    /// Set when the retry lane may be non-empty, so that the consumer checks it without
    /// locking on every message.
    retry_pending: AtomicBool,
}

impl Queue {
    pub(super) fn new(capacity: usize) -> Self {
        Self {
            lanes: Mutex::new(Lanes {
                main: VecDeque::new(),
                retry: VecDeque::new(),
                waker: None,
                parked: Parked::No,
                closed: false,
            }),
            capacity,
            retry_pending: AtomicBool::new(false),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Lanes> {
        // Nothing panics while the lock is held; were it poisoned, the lanes would still be
        // whole, since every change is a single push, pop or swap.
        self.lanes.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends `entry` to the main lane if it has room, taking it out of the option.
    #[inline]
    pub(super) fn try_push(&self, entry: &mut Option<Entry>) -> Push {
        let mut lanes = self.lock();
        if lanes.closed {
            return Push::Closed;
        }
        if lanes.main.len() >= self.capacity {
            return Push::Full;
        }
        let Some(taken) = entry.take() else {
            // Nothing to push: an earlier push took the entry. Not reached by the callers.
            return Push::Accepted;
        };
        lanes.main.push_back(taken);
        let waker = lanes.take_waker(&[Parked::Empty]);
        drop(lanes);
        if let Some(waker) = waker {
            waker.wake();
        }
        Push::Accepted
    }

    /// Appends `entry` to the main lane, taking it out of the option, and drops the oldest
    /// entry if the lane is full. Returns whether one was dropped, or `None` if the queue is
    /// closed or there was no entry.
    pub(super) fn push_drop_oldest(&self, entry: &mut Option<Entry>) -> Option<bool> {
        let mut lanes = self.lock();
        if lanes.closed {
            return None;
        }
        let taken = entry.take()?;
        let dropped = lanes.main.len() >= self.capacity && lanes.main.pop_front().is_some();
        lanes.main.push_back(taken);
        let waker = lanes.take_waker(&[Parked::Empty]);
        drop(lanes);
        if let Some(waker) = waker {
            waker.wake();
        }
        Some(dropped)
    }

    /// Appends a redelivery to the retry lane, which is not bounded by the capacity: its
    /// entries hold in-flight slots, so the in-flight limits bound it. Gives `entry` back if
    /// the queue is closed.
    pub(super) fn push_retry(&self, entry: Entry) -> Result<(), Entry> {
        let mut lanes = self.lock();
        if lanes.closed {
            return Err(entry);
        }
        lanes.retry.push_back(entry);
        self.retry_pending.store(true, Ordering::Release);
        let waker = lanes.take_waker(&[Parked::Empty, Parked::Slot]);
        drop(lanes);
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }

    /// Whether the retry lane may have entries; a hint read without the lock.
    pub(super) fn retry_pending(&self) -> bool {
        self.retry_pending.load(Ordering::Acquire)
    }

    /// Moves the retry lane to the end of `retry`.
    pub(super) fn take_retries(&self, retry: &mut VecDeque<Entry>) {
        let mut lanes = self.lock();
        self.retry_pending.store(false, Ordering::Release);
        retry.append(&mut lanes.retry);
    }

    /// Takes everything: the retry lane into `retry` and, if `batch` is empty, the whole main
    /// lane into `batch`. If there is nothing, parks the consumer with `waker`.
    pub(super) fn refill(
        &self,
        batch: &mut VecDeque<Entry>,
        retry: &mut VecDeque<Entry>,
        waker: &Waker,
    ) -> Refill {
        let mut lanes = self.lock();
        if lanes.closed {
            return Refill::Closed;
        }
        self.retry_pending.store(false, Ordering::Release);
        let mut took = !lanes.retry.is_empty();
        retry.append(&mut lanes.retry);
        let mut was_full = false;
        if batch.is_empty() && !lanes.main.is_empty() {
            was_full = lanes.main.len() >= self.capacity;
            // A swap, not a copy: the consumer's empty buffer becomes the new main lane, so
            // neither side allocates once both have grown to the batch size.
            mem::swap(batch, &mut lanes.main);
            took = true;
        }
        if !took {
            park(&mut lanes, waker, Parked::Empty);
            return Refill::Parked;
        }
        if was_full {
            // Only a full lane can have publishers waiting for room.
            Refill::Freed
        } else {
            Refill::Again
        }
    }

    /// Parks a consumer that has messages but no in-flight slot, unless `slot_free` (checked
    /// after the waker is stored, so that a slot freed meanwhile is not missed) or a retry
    /// is waiting.
    pub(super) fn park_for_slot(&self, waker: &Waker, slot_free: impl Fn() -> bool) -> Refill {
        let mut lanes = self.lock();
        if lanes.closed {
            return Refill::Closed;
        }
        if !lanes.retry.is_empty() {
            return Refill::Again;
        }
        park(&mut lanes, waker, Parked::Slot);
        if slot_free() {
            lanes.parked = Parked::No;
            return Refill::Again;
        }
        Refill::Parked
    }

    /// Wakes the consumer if it waits for an in-flight slot.
    pub(super) fn wake_slot_waiter(&self) {
        let waker = self.lock().take_waker(&[Parked::Slot]);
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// The number of entries in both lanes.
    pub(super) fn depth(&self) -> usize {
        let lanes = self.lock();
        lanes.main.len() + lanes.retry.len()
    }

    /// Closes the queue: pushes fail from now on, the consumer is woken, and what the lanes
    /// held is returned (main lane first).
    pub(super) fn close(&self) -> (VecDeque<Entry>, VecDeque<Entry>) {
        let mut lanes = self.lock();
        lanes.closed = true;
        let main = mem::take(&mut lanes.main);
        let retry = mem::take(&mut lanes.retry);
        let waker = lanes.take_waker(&[Parked::Empty, Parked::Slot]);
        drop(lanes);
        if let Some(waker) = waker {
            waker.wake();
        }
        (main, retry)
    }
}

fn park(lanes: &mut Lanes, waker: &Waker, reason: Parked) {
    match &lanes.waker {
        Some(stored) if stored.will_wake(waker) => {}
        _ => lanes.waker = Some(waker.clone()),
    }
    lanes.parked = reason;
}

#[cfg(test)]
mod tests;
