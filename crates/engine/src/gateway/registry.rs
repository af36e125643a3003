//! The registry of started channels: each channel with its own shutdown token and the task
//! the gateway spawned for it, and how one channel is stopped within a deadline.

use std::{
    collections::HashMap,
    sync::{Arc, PoisonError, RwLock},
};

use tokio::{task::JoinHandle, time::Instant};
use tokio_util::sync::CancellationToken;

use super::{Channel, GatewayError};

/// The longest channel name, in bytes. Names are labels in logs and metrics.
pub const MAX_CHANNEL_NAME_LEN: usize = 64;

/// How a channel's task ended when the channel was stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ChannelStop {
    /// It returned within the deadline.
    Stopped,
    /// It did not return within the deadline and was aborted.
    TimedOut,
    /// It panicked.
    Panicked,
}

/// A started channel.
pub(super) struct Entry {
    pub(super) channel: Arc<dyn Channel>,
    /// Cancelled to stop this channel alone; a child of the gateway's channel token.
    pub(super) shutdown: CancellationToken,
    pub(super) task: JoinHandle<()>,
}

impl Entry {
    /// Cancels the channel and waits for its task until `deadline`, aborting it past that.
    pub(super) async fn stop(self, deadline: Instant) -> ChannelStop {
        self.shutdown.cancel();
        let mut task = self.task;
        match tokio::time::timeout_at(deadline, &mut task).await {
            Ok(Ok(())) => ChannelStop::Stopped,
            Ok(Err(join_error)) if join_error.is_panic() => ChannelStop::Panicked,
            // Only the gateway aborts channel tasks, and only here; treat any other join
            // error as a task that did not stop by itself.
            Ok(Err(_)) => ChannelStop::TimedOut,
            Err(_elapsed) => {
                task.abort();
                ChannelStop::TimedOut
            }
        }
    }
}

/// The started channels by name, bounded.
pub(super) struct Registry {
    channels: RwLock<HashMap<Arc<str>, Entry>>,
    limit: usize,
}

impl Registry {
    pub(super) fn new(limit: usize) -> Self {
        Self {
            channels: RwLock::new(HashMap::new()),
            limit,
        }
    }

    /// The channel registered under `name`.
    pub(super) fn get(&self, name: &str) -> Option<Arc<dyn Channel>> {
        let channels = self.channels.read().unwrap_or_else(PoisonError::into_inner);
        channels.get(name).map(|entry| Arc::clone(&entry.channel))
    }

    /// Whether a channel called `name` could be added now.
    pub(super) fn check_room(&self, name: &str) -> Result<(), GatewayError> {
        let channels = self.channels.read().unwrap_or_else(PoisonError::into_inner);
        if channels.contains_key(name) {
            return Err(GatewayError::DuplicateChannel {
                channel: name.to_owned(),
            });
        }
        if channels.len() >= self.limit {
            return Err(GatewayError::TooManyChannels { limit: self.limit });
        }
        Ok(())
    }

    /// Adds a started channel. Callers serialize registrations and check
    /// [`check_room`](Self::check_room) first, so this only fails if that was skipped; the
    /// entry is given back then so that the caller can stop it.
    pub(super) fn insert(&self, name: Arc<str>, entry: Entry) -> Result<(), (GatewayError, Entry)> {
        let mut channels = self
            .channels
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if channels.contains_key(&name) {
            let channel = name.to_string();
            return Err((GatewayError::DuplicateChannel { channel }, entry));
        }
        if channels.len() >= self.limit {
            return Err((GatewayError::TooManyChannels { limit: self.limit }, entry));
        }
        channels.insert(name, entry);
        Ok(())
    }

    /// Removes the channel called `name`.
    pub(super) fn remove(&self, name: &str) -> Option<Entry> {
        let mut channels = self
            .channels
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        channels.remove(name)
    }

    /// Removes every channel.
    pub(super) fn drain(&self) -> Vec<(Arc<str>, Entry)> {
        let mut channels = self
            .channels
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        channels.drain().collect()
    }

    /// The names of the registered channels, sorted.
    pub(super) fn names(&self) -> Vec<String> {
        let channels = self.channels.read().unwrap_or_else(PoisonError::into_inner);
        let mut names: Vec<String> = channels.keys().map(|name| name.to_string()).collect();
        names.sort_unstable();
        names
    }
}

/// Checks a channel name: 1 to [`MAX_CHANNEL_NAME_LEN`] bytes of ASCII letters, digits,
/// `-`, `_` and `.`.
pub(super) fn validate_name(name: &str) -> Result<(), GatewayError> {
    let reason = if name.is_empty() {
        "must not be empty"
    } else if name.len() > MAX_CHANNEL_NAME_LEN {
        "is longer than 64 bytes"
    } else if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        "may contain only ASCII letters, digits, `-`, `_` and `.`"
    } else {
        return Ok(());
    };
    Err(GatewayError::InvalidChannelName {
        name: name.chars().take(MAX_CHANNEL_NAME_LEN).collect(),
        reason,
    })
}
