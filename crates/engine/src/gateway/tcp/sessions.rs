//! The open connections of a [`TcpJsonChannel`](super::TcpJsonChannel) by session id, each
//! with the sending side of its reply queue.

use std::{
    collections::HashMap,
    sync::{Mutex, PoisonError},
};

use tokio::sync::mpsc;

/// The sessions of one channel. Bounded: an entry is added only for a connection that
/// holds one of the channel's connection permits, and removed when it ends.
#[derive(Debug, Default)]
pub(super) struct Sessions {
    writers: Mutex<HashMap<String, mpsc::Sender<String>>>,
}

impl Sessions {
    pub(super) fn insert(&self, session: String, writer: mpsc::Sender<String>) {
        self.lock().insert(session, writer);
    }

    /// The reply queue of `session`, if the connection is still open.
    pub(super) fn get(&self, session: &str) -> Option<mpsc::Sender<String>> {
        self.lock().get(session).cloned()
    }

    pub(super) fn remove(&self, session: &str) {
        self.lock().remove(session);
    }

    pub(super) fn len(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, mpsc::Sender<String>>> {
        self.writers.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
