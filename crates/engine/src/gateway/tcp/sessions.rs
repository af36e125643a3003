//! The open connections of a [`TcpJsonChannel`](super::TcpJsonChannel) by session id, each
//! with the sending side of its reply queue and the tokens that close it.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError, atomic::AtomicU64},
};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::reply_line::ReplyLine;

/// What the channel holds of one open connection.
#[derive(Debug, Clone)]
pub(super) struct Session {
    /// The connection's reply queue, which its writer drains to the socket.
    pub(super) replies: mpsc::Sender<ReplyLine>,
    /// Stops the connection's reader; a child of the channel's shutdown token.
    pub(super) stop_reading: CancellationToken,
    /// Stops the connection's writer at once, dropping what is queued. Only an eviction
    /// (a slow reader, or an idle connection) cancels it: at shutdown the writer still
    /// delivers what was queued, to a client that reads.
    pub(super) stop_writing: CancellationToken,
    /// How many bytes the connection's writer has handed to the socket so far: a client
    /// whose replies still go out, however slowly, is reading.
    pub(super) written: Arc<AtomicU64>,
}

/// The sessions of one channel. Bounded: an entry is added only for a connection that
/// holds one of the channel's connection permits, and removed when it ends.
#[derive(Debug, Default)]
pub(super) struct Sessions {
    sessions: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    pub(super) fn insert(&self, id: String, session: Session) {
        self.lock().insert(id, session);
    }

    /// The session `id`, if its connection is still open.
    pub(super) fn get(&self, id: &str) -> Option<Session> {
        self.lock().get(id).cloned()
    }

    pub(super) fn remove(&self, id: &str) {
        self.lock().remove(id);
    }

    /// Closes the connection of session `id` at once: it is removed, so that no reply is
    /// queued for it any more, its reader stops before its next request, and its writer
    /// drops what is queued (each line counting itself as undelivered) and closes the
    /// socket. Returns whether it was still open.
    pub(super) fn evict(&self, id: &str) -> bool {
        let Some(session) = self.lock().remove(id) else {
            return false;
        };
        session.stop_reading.cancel();
        session.stop_writing.cancel();
        true
    }

    pub(super) fn len(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
