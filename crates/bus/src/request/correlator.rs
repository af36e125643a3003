//! The correlator: the map of requests awaiting a response, which never leaks.

use std::{
    collections::{HashMap, HashSet, VecDeque},
    mem,
    sync::{
        Arc, Mutex, MutexGuard, PoisonError,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
    task::{Poll, Waker},
};

use slab::Slab;
use switchyard_core::{Attribute, Message, attributes::names};
use tracing::debug;
use uuid::Uuid;

use super::{PendingReply, RequestError};

/// How many recently expired correlation ids are remembered, to tell a late response from
/// one with an unknown id. Bounded, so that a flood of timeouts cannot grow memory.
pub const EXPIRED_MEMORY: usize = 4096;

/// The maps are keyed by ids this correlator made, not by outside input: a fast hasher.
type Hasher = foldhash::fast::RandomState;

/// A correlation id as the maps hold it: the 128 bits of its UUID.
pub(super) type Key = u128;

/// Matches responses to the requests that wait for them.
///
/// Each request takes a [`PendingReply`] from [`begin`](Self::begin); its entry leaves the
/// map when the response arrives ([`resolve`](Self::resolve)), when its wait times out, and
/// when the waiting future is dropped, whichever comes first. There is no cleanup task and
/// no timer besides the one inside a wait, so nothing outlives the requests.
///
/// A response that matches no waiting request is counted and dropped with a `debug` log:
/// as *late* if its request expired recently, as *unknown* otherwise.
///
/// A cheap `Clone` handle.
#[derive(Clone)]
pub struct Correlator {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
    max_pending: usize,
    resolved: AtomicU64,
    timed_out: AtomicU64,
    late: AtomicU64,
    unknown: AtomicU64,
}

/// Everything behind the correlator's one lock, so that a response, a timeout, a drop and
/// `close` each see and change a request's state in one step, with no window between them.
#[derive(Default)]
struct State {
    closed: bool,
    /// The requests that wait for a response, by correlation id: their slot.
    waiting: HashMap<Key, usize, Hasher>,
    /// One slot per [`PendingReply`] that is not done: it holds the waiter's waker, then
    /// the response, until the waiter takes it. A slot, not a channel per request, so that
    /// a request allocates nothing here: the slab reuses the room of finished requests.
    slots: Slab<Slot>,
    expired: VecDeque<Key>,
    expired_set: HashSet<Key, Hasher>,
}

/// Where a request stands, as its waiter finds it.
#[derive(Debug)]
pub(super) enum Slot {
    /// No response yet; the waker of the wait, once it was polled.
    Waiting(Option<Waker>),
    /// The response, not yet taken by the waiter.
    Answered(Message),
    /// The correlator closed before a response came.
    Closed,
}

impl State {
    fn remember_expired(&mut self, id: Key) {
        if self.expired.len() == EXPIRED_MEMORY
            && let Some(oldest) = self.expired.pop_front()
        {
            self.expired_set.remove(&oldest);
        }
        self.expired_set.insert(id);
        self.expired.push_back(id);
    }
}

/// The correlator's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct CorrelatorStats {
    /// Requests waiting now.
    pub pending: usize,
    /// Responses delivered to their request.
    pub resolved: u64,
    /// Requests that timed out.
    pub timed_out: u64,
    /// Responses that arrived after their request expired or was abandoned.
    pub late: u64,
    /// Responses whose correlation id was never known (or was forgotten long ago).
    pub unknown: u64,
}

impl Correlator {
    /// A correlator that holds at most `max_pending` requests: those that wait, and those
    /// whose response has come but was not yet taken by their [`PendingReply`].
    pub fn new(max_pending: usize) -> Self {
        Self {
            shared: Arc::new(Shared {
                state: Mutex::new(State::default()),
                max_pending,
                resolved: AtomicU64::new(0),
                timed_out: AtomicU64::new(0),
                late: AtomicU64::new(0),
                unknown: AtomicU64::new(0),
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // The state stays consistent at every unlock, so a panic elsewhere while it was held
        // does not make it unusable.
        self.shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a new request under a fresh correlation id: a random UUID (version 4).
    ///
    /// The id travels with the request to whoever answers it, and a response that carries
    /// it completes the request: ids must not be guessable from one another, so each has
    /// 122 random bits from a thread-local CSPRNG (no system call). The map keys it by its
    /// 128 bits, not its text; the text is written once, as the `correlationid` attribute
    /// that the bus sets on the request as it is.
    pub fn begin(&self) -> Result<PendingReply, RequestError> {
        let id = Uuid::new_v4();
        let key = id.as_u128();
        // Made once as the attribute that the request carries: the bus sets it as it is.
        let correlation_id =
            Attribute::from_uuid(names::CORRELATIONID, id).map_err(RequestError::Delivery)?;
        let mut state = self.state();
        if state.closed {
            return Err(RequestError::Closed);
        }
        // The slots, not only the waiting requests: an answer not yet taken holds one too.
        if state.slots.len() >= self.shared.max_pending {
            return Err(RequestError::TooManyPending {
                limit: self.shared.max_pending,
            });
        }
        let slot = state.slots.insert(Slot::Waiting(None));
        state.waiting.insert(key, slot);
        drop(state);
        Ok(PendingReply::new(key, slot, correlation_id, self.clone()))
    }

    /// Hands `response` to the request with its `correlationid`.
    ///
    /// A response without a correlation id is a [`RequestError::MissingCorrelationId`]. A
    /// response that matches no waiting request is counted as late or unknown, logged at
    /// `debug` and dropped; that is not an error of the responder's, so it returns `Ok`.
    pub fn resolve(&self, response: Message) -> Result<(), RequestError> {
        let Some(id) = response.attributes().correlation_id() else {
            let id = response.attributes().id().unwrap_or_default().to_owned();
            return Err(RequestError::MissingCorrelationId { id });
        };
        // An id not in the form `begin` writes was not issued here.
        let Some(key) = parse_id(id) else {
            self.count_unmatched(id, false);
            return Ok(());
        };
        let mut state = self.state();
        let waiting = state.waiting.remove(&key);
        let Some(slot) = waiting.and_then(|slot| state.slots.get_mut(slot)) else {
            let late = state.expired_set.contains(&key);
            drop(state);
            self.count_unmatched(id, late);
            return Ok(());
        };
        // Only waiting requests are in the map, so the slot holds a waker or nothing.
        let waker = match mem::replace(slot, Slot::Answered(response)) {
            Slot::Waiting(waker) => waker,
            Slot::Answered(_) | Slot::Closed => None,
        };
        drop(state);
        self.shared.resolved.fetch_add(1, Relaxed);
        // Woken outside the lock: a waker may run code that takes it.
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }

    fn count_unmatched(&self, id: &str, late: bool) {
        if late {
            self.shared.late.fetch_add(1, Relaxed);
            debug!(
                correlation_id = id,
                "dropping a response that arrived after its request expired"
            );
        } else {
            self.shared.unknown.fetch_add(1, Relaxed);
            debug!(
                correlation_id = id,
                "dropping a response with an unknown correlation id"
            );
        }
    }

    /// Polls the slot `slot` of a request that is not done, under the lock so that a
    /// response cannot slip in between the look and the waker's registration: `Pending`
    /// with `waker` kept to be woken if the request still waits, else what the slot holds,
    /// taken out with the slot. `None` if the slot is gone, which it never is for a request
    /// that is not done.
    pub(super) fn poll_slot(&self, slot: usize, waker: &Waker) -> Option<Poll<Slot>> {
        let mut state = self.state();
        match state.slots.get_mut(slot)? {
            Slot::Waiting(Some(kept)) if kept.will_wake(waker) => Some(Poll::Pending),
            Slot::Waiting(kept) => {
                *kept = Some(waker.clone());
                Some(Poll::Pending)
            }
            Slot::Answered(_) | Slot::Closed => state.slots.try_remove(slot).map(Poll::Ready),
        }
    }

    /// Whether the slot `slot` holds a response.
    pub(super) fn is_answered(&self, slot: usize) -> bool {
        matches!(self.state().slots.get(slot), Some(Slot::Answered(_)))
    }

    /// Ends a request: removes its slot and, if it still waited, its entry, which is then
    /// remembered as expired so that its response counts as late; a timeout (`timed_out`)
    /// is counted. Returns what the slot held: a response, if one came first.
    pub(super) fn finish(&self, key: Key, slot: usize, timed_out: bool) -> Option<Slot> {
        let mut state = self.state();
        let slot = state.slots.try_remove(slot);
        if let Some(Slot::Waiting(_)) = slot {
            state.waiting.remove(&key);
            state.remember_expired(key);
            drop(state);
            if timed_out {
                self.shared.timed_out.fetch_add(1, Relaxed);
            }
        }
        slot
    }

    /// Fails every waiting request with [`RequestError::Closed`] and refuses new ones.
    /// Idempotent.
    pub fn close(&self) {
        let mut state = self.state();
        state.closed = true;
        let State { waiting, slots, .. } = &mut *state;
        let wakers: Vec<Waker> = waiting
            .drain()
            .filter_map(|(_, slot)| match slots.get_mut(slot) {
                Some(slot) => match mem::replace(slot, Slot::Closed) {
                    Slot::Waiting(waker) => waker,
                    Slot::Answered(_) | Slot::Closed => None,
                },
                None => None,
            })
            .collect();
        drop(state);
        // Woken outside the lock, as in `resolve`.
        for waker in wakers {
            waker.wake();
        }
    }

    /// The counters, and how many requests wait now.
    pub fn stats(&self) -> CorrelatorStats {
        CorrelatorStats {
            pending: self.state().waiting.len(),
            resolved: self.shared.resolved.load(Relaxed),
            timed_out: self.shared.timed_out.load(Relaxed),
            late: self.shared.late.load(Relaxed),
            unknown: self.shared.unknown.load(Relaxed),
        }
    }
}

#[cfg(test)]
impl Correlator {
    /// How many expired ids are remembered, in the queue and in the set.
    pub(super) fn expired_memory_for_test(&self) -> (usize, usize) {
        let state = self.state();
        (state.expired.len(), state.expired_set.len())
    }

    /// How many slots are taken: requests not yet done.
    pub(super) fn slots_for_test(&self) -> usize {
        self.state().slots.len()
    }
}

/// The key of a correlation id, if `id` is one in the form [`Correlator::begin`] writes:
/// a lowercase, hyphenated UUID. Other spellings of a UUID (uppercase, braced, `urn:`) are
/// not ids this correlator issued.
pub(super) fn parse_id(id: &str) -> Option<Key> {
    // Of the spellings that `try_parse` reads, only the hyphenated one is 36 characters long,
    // and only uppercase hex digits tell it from the lowercase one that `begin` writes. The
    // fold has no early exit, so that it compiles to a few vector operations.
    let uppercase = id
        .bytes()
        .fold(false, |seen, byte| seen | byte.is_ascii_uppercase());
    if id.len() != uuid::fmt::Hyphenated::LENGTH || uppercase {
        return None;
    }
    Uuid::try_parse(id).ok().map(|uuid| uuid.as_u128())
}
