//! The correlator: the map of requests awaiting a response, which never leaks.

use std::{
    collections::{HashMap, HashSet, VecDeque},
    sync::{
        Arc, Mutex, MutexGuard, PoisonError,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
    time::Duration,
};

use switchyard_core::{Attribute, Message, attributes::names};
use tokio::sync::oneshot;
use tracing::debug;
use uuid::Uuid;

use super::RequestError;

/// How many recently expired correlation ids are remembered, to tell a late response from
/// one with an unknown id. Bounded, so that a flood of timeouts cannot grow memory.
pub const EXPIRED_MEMORY: usize = 4096;

/// The maps are keyed by ids this correlator made, not by outside input: a fast hasher.
type Hasher = foldhash::fast::RandomState;

/// A correlation id as the maps hold it: the 128 bits of its UUID.
type Key = u128;

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

#[derive(Default)]
struct State {
    closed: bool,
    pending: HashMap<Key, oneshot::Sender<Message>, Hasher>,
    expired: VecDeque<Key>,
    expired_set: HashSet<Key, Hasher>,
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
    /// A correlator that holds at most `max_pending` waiting requests.
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
        let (sender, receiver) = oneshot::channel();
        let mut state = self.state();
        if state.closed {
            return Err(RequestError::Closed);
        }
        if state.pending.len() >= self.shared.max_pending {
            return Err(RequestError::TooManyPending {
                limit: self.shared.max_pending,
            });
        }
        state.pending.insert(key, sender);
        drop(state);
        Ok(PendingReply {
            key,
            correlation_id,
            receiver,
            owner: self.clone(),
            settled: false,
        })
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
        let Some(sender) = state.pending.remove(&key) else {
            let late = state.expired_set.contains(&key);
            drop(state);
            self.count_unmatched(id, late);
            return Ok(());
        };
        drop(state);
        match sender.send(response) {
            Ok(()) => {
                self.shared.resolved.fetch_add(1, Relaxed);
            }
            // The waiter gave up between our lookup and the send: the response is late.
            Err(response) => {
                let id = response.attributes().correlation_id().unwrap_or_default();
                self.count_unmatched(id, true);
            }
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

    /// Removes a request that is no longer waited for; `timed_out` counts it. Returns
    /// whether it was still waiting: `false` if a response, or `close`, took it first.
    fn forget(&self, id: Key, timed_out: bool) -> bool {
        let mut state = self.state();
        if state.pending.remove(&id).is_none() {
            return false;
        }
        state.remember_expired(id);
        drop(state);
        if timed_out {
            self.shared.timed_out.fetch_add(1, Relaxed);
        }
        true
    }

    /// Fails every waiting request with [`RequestError::Closed`] and refuses new ones.
    /// Idempotent.
    pub fn close(&self) {
        let mut state = self.state();
        state.closed = true;
        // Dropping the senders wakes every waiter with `Closed`.
        state.pending.clear();
    }

    /// The counters, and how many requests wait now.
    pub fn stats(&self) -> CorrelatorStats {
        CorrelatorStats {
            pending: self.state().pending.len(),
            resolved: self.shared.resolved.load(Relaxed),
            timed_out: self.shared.timed_out.load(Relaxed),
            late: self.shared.late.load(Relaxed),
            unknown: self.shared.unknown.load(Relaxed),
        }
    }
}

/// A request's place in the [`Correlator`]: wait on it for the response. Dropping it
/// abandons the request and removes its entry.
#[must_use = "a pending reply removes itself when dropped"]
pub struct PendingReply {
    key: Key,
    /// The `correlationid` attribute that the request carries.
    correlation_id: Attribute,
    receiver: oneshot::Receiver<Message>,
    owner: Correlator,
    /// Whether the entry is known to be gone from the map (answered, expired, or failed by
    /// `close`), so that dropping this need not look for it.
    settled: bool,
}

impl PendingReply {
    /// [`wait`](Self::wait) until `deadline`; a timeout reports `timeout`, the request's
    /// whole timeout, which `deadline` ends.
    pub(crate) async fn wait_until(
        mut self,
        deadline: tokio::time::Instant,
        timeout: Duration,
    ) -> Result<Message, RequestError> {
        let waited = tokio::time::timeout_at(deadline, &mut self.receiver).await;
        match self.settle(waited.into(), timeout) {
            Some(settled) => settled,
            None => self.raced_response(timeout).await,
        }
    }

    /// What a wait that ended with `waited` returns, the entry removed on a timeout; `None`
    /// if the response raced the deadline.
    ///
    /// A response can take the entry out of the map just as the deadline passes: it is then
    /// in the channel, or about to be (`resolve` sends right after it lets go of the map),
    /// and counted as resolved. [`raced_response`](Self::raced_response) returns it rather
    /// than lose it behind a `Timeout`.
    ///
    /// Not itself async, so that the response it holds is not kept in the waiting future
    /// beside the timer: a request's future is that much smaller.
    fn settle(
        &mut self,
        waited: Waited,
        timeout: Duration,
    ) -> Option<Result<Message, RequestError>> {
        // The response was taken out of the map, the sender dropped by `close`, or the
        // entry is removed right here: either way it is gone.
        self.settled = true;
        match waited {
            Waited::Response(response) => Some(Ok(response)),
            Waited::Closed => Some(Err(RequestError::Closed)),
            Waited::TimedOut if self.owner.forget(self.key, true) => {
                Some(Err(RequestError::Timeout { after: timeout }))
            }
            Waited::TimedOut => None,
        }
    }

    /// The response that raced the deadline: see [`settle`](Self::settle).
    async fn raced_response(&mut self, timeout: Duration) -> Result<Message, RequestError> {
        (&mut self.receiver)
            .await
            .map_err(|_closed| RequestError::Timeout { after: timeout })
    }

    /// Whether the response has arrived, without waiting for it.
    pub(crate) fn is_answered(&self) -> bool {
        !self.receiver.is_empty()
    }

    /// The correlation id to put on the request.
    pub fn correlation_id(&self) -> &str {
        self.correlation_id.value()
    }

    /// The correlation id as the attribute to put on the request: shared, not copied.
    pub(crate) fn correlation_attribute(&self) -> Attribute {
        self.correlation_id.clone()
    }

    /// Waits up to `timeout` for the response.
    pub async fn wait(mut self, timeout: Duration) -> Result<Message, RequestError> {
        let waited = tokio::time::timeout(timeout, &mut self.receiver).await;
        match self.settle(waited.into(), timeout) {
            Some(settled) => settled,
            None => self.raced_response(timeout).await,
        }
    }
}

/// How a wait for a response ended.
#[derive(Debug)]
enum Waited {
    Response(Message),
    /// The sender was dropped: the correlator closed.
    Closed,
    TimedOut,
}

impl From<Result<Result<Message, oneshot::error::RecvError>, tokio::time::error::Elapsed>>
    for Waited
{
    fn from(
        outcome: Result<Result<Message, oneshot::error::RecvError>, tokio::time::error::Elapsed>,
    ) -> Self {
        match outcome {
            Ok(Ok(response)) => Waited::Response(response),
            Ok(Err(_)) => Waited::Closed,
            Err(_) => Waited::TimedOut,
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

#[cfg(test)]
impl PendingReply {
    /// Ends the wait as if its deadline passed at this moment, whatever arrived: what a
    /// timeout that races a response sees.
    pub(super) async fn time_out_now_for_test(
        mut self,
        timeout: Duration,
    ) -> Result<Message, RequestError> {
        match self.settle(Waited::TimedOut, timeout) {
            Some(settled) => settled,
            None => self.raced_response(timeout).await,
        }
    }

    /// Takes the receiver out, for tests that check what was delivered without waiting.
    pub(super) fn receiver_for_test(mut self) -> oneshot::Receiver<Message> {
        let (_, empty) = oneshot::channel();
        std::mem::replace(&mut self.receiver, empty)
    }
}

impl Drop for PendingReply {
    fn drop(&mut self) {
        // After a response or a timeout the entry is already gone: nothing to look up.
        if !self.settled {
            self.owner.forget(self.key, false);
        }
    }
}
