//! The correlator: the map of requests awaiting a response, which never leaks.

use std::{
    collections::{HashMap, HashSet, VecDeque},
    sync::{
        Arc, Mutex, MutexGuard, PoisonError,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
    time::Duration,
};

use switchyard_core::Message;
use tokio::sync::oneshot;
use tracing::debug;

use super::RequestError;

/// How many recently expired correlation ids are remembered, to tell a late response from
/// one with an unknown id. Bounded, so that a flood of timeouts cannot grow memory.
pub const EXPIRED_MEMORY: usize = 4096;

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
    pending: HashMap<Arc<str>, oneshot::Sender<Message>>,
    expired: VecDeque<Arc<str>>,
    expired_set: HashSet<Arc<str>>,
}

impl State {
    fn remember_expired(&mut self, id: Arc<str>) {
        if self.expired.len() == EXPIRED_MEMORY
            && let Some(oldest) = self.expired.pop_front()
        {
            self.expired_set.remove(&oldest);
        }
        self.expired_set.insert(id.clone());
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

    /// Registers a new request under a fresh correlation id (a UUIDv7).
    pub fn begin(&self) -> Result<PendingReply, RequestError> {
        let id: Arc<str> = uuid::Uuid::now_v7().to_string().into();
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
        state.pending.insert(id.clone(), sender);
        drop(state);
        Ok(PendingReply {
            id,
            receiver,
            owner: self.clone(),
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
        let mut state = self.state();
        let Some(sender) = state.pending.remove(id) else {
            let late = state.expired_set.contains(id);
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

    /// Removes a request that is no longer waited for. `timed_out` counts it.
    fn forget(&self, id: &Arc<str>, timed_out: bool) {
        let mut state = self.state();
        if state.pending.remove(id).is_some() {
            state.remember_expired(id.clone());
            drop(state);
            if timed_out {
                self.shared.timed_out.fetch_add(1, Relaxed);
            }
        }
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
    id: Arc<str>,
    receiver: oneshot::Receiver<Message>,
    owner: Correlator,
}

impl PendingReply {
    /// The correlation id to put on the request.
    pub fn correlation_id(&self) -> &str {
        &self.id
    }

    /// Waits up to `timeout` for the response.
    pub async fn wait(mut self, timeout: Duration) -> Result<Message, RequestError> {
        match tokio::time::timeout(timeout, &mut self.receiver).await {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(_)) => Err(RequestError::Closed),
            Err(_) => {
                self.owner.forget(&self.id, true);
                Err(RequestError::Timeout { after: timeout })
            }
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

#[cfg(test)]
impl PendingReply {
    /// Takes the receiver out, for tests that check what was delivered without waiting.
    pub(super) fn receiver_for_test(mut self) -> oneshot::Receiver<Message> {
        let (_, empty) = oneshot::channel();
        std::mem::replace(&mut self.receiver, empty)
    }
}

impl Drop for PendingReply {
    fn drop(&mut self) {
        // After a response or a timeout the entry is already gone and this does nothing.
        self.owner.forget(&self.id, false);
    }
}
