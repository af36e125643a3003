//! The deduplication window: which message keys were seen recently, bounded by count and by
//! age whatever the input.
//!
//! It is pure: the caller passes the current [`Instant`] (tokio's, so that a paused clock
//! drives the ages in tests).

use std::{
    collections::{HashMap, VecDeque},
    time::Duration,
};

use tokio::time::Instant;

/// A message key: a 128-bit keyed hash of (`source`, `id`). Fixed-size keys keep the memory
/// per entry constant however long the ids that arrive.
pub(super) type Key = u128;

/// The outcome of [`Window::observe`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Seen {
    /// Not seen within the window; now marked, under this generation.
    First(u64),
    /// Seen within the window.
    Duplicate,
}

/// One mark, in the order they were made.
#[derive(Debug)]
struct Slot {
    key: Key,
    generation: u64,
    seen_at: Instant,
}

/// The keys seen within the last `max_age`, at most the last `max_entries` of them.
#[derive(Debug)]
pub(super) struct Window {
    max_entries: usize,
    max_age: Duration,
    /// Live marks: the key and the generation of the slot that made it. At most
    /// `max_entries`: eviction by count counts live marks only, so that failed attempts
    /// (forgotten marks) never push a handled message out.
    live: HashMap<Key, u64>,
    /// The slots of the live marks, oldest first, among slots of forgotten marks that have
    /// not been dropped yet. Forgetting is O(1) and leaves its slot here; the dead slots are
    /// dropped when they reach the front, or all at once when the queue reaches
    /// [`Window::max_slots`], so `live.len() <= slots.len() <= 2 * max_entries`.
    slots: VecDeque<Slot>,
    next_generation: u64,
}

impl Window {
    /// A window of at most `max_entries` keys (at least 1, checked by the builder), each
    /// kept for `max_age`.
    pub(super) fn new(max_entries: usize, max_age: Duration) -> Self {
        Self {
            max_entries,
            max_age,
            live: HashMap::new(),
            slots: VecDeque::new(),
            next_generation: 0,
        }
    }

    /// Reports whether `key` was seen within the window, and marks it if not. `now` must
    /// not go backwards between calls.
    pub(super) fn observe(&mut self, key: Key, now: Instant) -> Seen {
        self.expire(now);
        if self.live.contains_key(&key) {
            return Seen::Duplicate;
        }
        // Every live mark has its slot in the queue, so this ends; the `evict_oldest`
        // result only guards against a bug turning into a hang.
        while self.live.len() >= self.max_entries && self.evict_oldest() {}
        if self.slots.len() >= self.max_slots() {
            // Mostly slots of failed attempts: drop them all. The queue keeps only live
            // slots, fewer than `max_entries`, so this happens at most once every
            // `max_entries` pushes and costs O(1) per push, amortised.
            let live = &self.live;
            self.slots
                .retain(|slot| live.get(&slot.key) == Some(&slot.generation));
        }
        let generation = self.next_generation;
        self.next_generation += 1;
        self.live.insert(key, generation);
        self.slots.push_back(Slot {
            key,
            generation,
            seen_at: now,
        });
        Seen::First(generation)
    }

    /// Unmarks `key` if it is still the mark made under `generation`, so that a redelivery
    /// of a message whose handling failed is not taken for a duplicate.
    pub(super) fn forget(&mut self, key: Key, generation: u64) {
        if self.live.get(&key) == Some(&generation) {
            self.live.remove(&key);
        }
    }

    /// How many keys are marked.
    pub(super) fn len(&self) -> usize {
        self.live.len()
    }

    /// How many slots are held, forgotten ones included: never more than
    /// [`Window::max_slots`].
    #[cfg(test)]
    pub(super) fn slots(&self) -> usize {
        self.slots.len()
    }

    /// The most slots the queue holds, live and forgotten: twice the live bound, so that
    /// dropping the forgotten ones at once is rare.
    pub(super) fn max_slots(&self) -> usize {
        self.max_entries.saturating_mul(2)
    }

    fn expire(&mut self, now: Instant) {
        while self
            .slots
            .front()
            .is_some_and(|oldest| now.saturating_duration_since(oldest.seen_at) >= self.max_age)
        {
            self.evict_oldest();
        }
    }

    /// Drops the oldest slot, with its mark if that is still live; false if there is none.
    fn evict_oldest(&mut self) -> bool {
        let Some(slot) = self.slots.pop_front() else {
            return false;
        };
        self.forget(slot.key, slot.generation);
        true
    }
}

#[cfg(test)]
mod tests;
