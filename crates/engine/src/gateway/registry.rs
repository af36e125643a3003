//! The registry of channels: each started channel with its own shutdown token and the task
//! the gateway spawned for it, the channels still starting, and how one channel is stopped
//! within a deadline.

use std::{
    collections::HashMap,
    sync::{Arc, PoisonError, RwLock},
};

use tokio::{task::JoinHandle, time::Instant};
use tokio_util::{
    sync::CancellationToken,
    task::{AbortOnDropHandle, TaskTracker, task_tracker::TaskTrackerToken},
};

use super::{Channel, ChannelTask, GatewayError};

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
    /// Which registration this is: a name unregistered and registered again is another
    /// channel, whose sessions are not those of the first.
    registration: u64,
    /// Cancelled to stop this channel alone; a child of the gateway's channel token.
    pub(super) shutdown: CancellationToken,
    pub(super) task: JoinHandle<()>,
}

impl Entry {
    /// Cancels the channel and waits for its task until `deadline`, aborting it past that.
    ///
    /// The entry is out of the registry by now, so nothing else can stop the task: if this
    /// future is dropped before the task ended (the caller of `unregister` gave up), the
    /// task is aborted, as at the deadline, rather than left running unowned.
    pub(super) async fn stop(self, deadline: Instant) -> ChannelStop {
        self.shutdown.cancel();
        let mut task = AbortOnDropHandle::new(self.task);
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

/// The channels by name, bounded: those started, and those whose start is in progress.
///
/// A registration reserves its name before it starts the channel and completes after, with
/// no lock held while the channel starts: a start can take as long as it likes (a remote API
/// to answer) without holding up another registration, an unregistration or the shutdown.
pub(super) struct Registry {
    state: RwLock<State>,
    limit: usize,
}

#[derive(Default)]
struct State {
    channels: HashMap<Arc<str>, Entry>,
    /// The channels whose start is in progress, with their shutdown tokens. Each holds its
    /// name and counts toward the limit, but is not registered: replies cannot reach it.
    starting: HashMap<Arc<str>, CancellationToken>,
    /// Set when the gateway's shutdown begins: nothing registers after that.
    closed: bool,
    /// The number of the next registration.
    next_registration: u64,
}

impl Registry {
    pub(super) fn new(limit: usize) -> Self {
        Self {
            state: RwLock::new(State::default()),
            limit,
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// The channel registered under `name`.
    pub(super) fn get(&self, name: &str) -> Option<Arc<dyn Channel>> {
        let state = self.read();
        state
            .channels
            .get(name)
            .map(|entry| Arc::clone(&entry.channel))
    }

    /// The channel registered under `name`, if it is still the one of `registration` (see
    /// [`Reservation::registration`]): replies go back to the channel that received their
    /// request, never to another registered since under the same name.
    pub(super) fn get_registration(
        &self,
        name: &str,
        registration: u64,
    ) -> Option<Arc<dyn Channel>> {
        let state = self.read();
        state
            .channels
            .get(name)
            .filter(|entry| entry.registration == registration)
            .map(|entry| Arc::clone(&entry.channel))
    }

    /// Reserves `name` for a channel about to start with the token `shutdown`; the
    /// reservation ends when the returned guard completes or is dropped. `starting` is held
    /// until then, so that the shutdown can wait for the registration to end.
    pub(super) fn reserve(
        &self,
        name: Arc<str>,
        shutdown: CancellationToken,
        starting: TaskTrackerToken,
    ) -> Result<Reservation<'_>, GatewayError> {
        let mut state = self.write();
        if state.closed {
            return Err(GatewayError::ShuttingDown);
        }
        if state.channels.contains_key(&name) || state.starting.contains_key(&name) {
            return Err(GatewayError::DuplicateChannel {
                channel: name.to_string(),
            });
        }
        if state.channels.len() + state.starting.len() >= self.limit {
            return Err(GatewayError::TooManyChannels { limit: self.limit });
        }
        state.starting.insert(Arc::clone(&name), shutdown.clone());
        let registration = state.next_registration;
        state.next_registration += 1;
        Ok(Reservation {
            registry: self,
            registration,
            name,
            shutdown,
            _starting: starting,
            completed: false,
        })
    }

    /// Refuses every registration from now on, and tells every channel still starting to
    /// stop by cancelling its token.
    pub(super) fn close(&self) {
        let mut state = self.write();
        state.closed = true;
        for shutdown in state.starting.values() {
            shutdown.cancel();
        }
    }

    /// Whether [`close`](Self::close) was called.
    pub(super) fn is_closed(&self) -> bool {
        self.read().closed
    }

    /// The names of the channels whose start is still in progress, sorted.
    pub(super) fn starting_names(&self) -> Vec<String> {
        sorted(self.read().starting.keys())
    }

    /// Removes the channel called `name`.
    pub(super) fn remove(&self, name: &str) -> Option<Entry> {
        self.write().channels.remove(name)
    }

    /// Removes every channel.
    pub(super) fn drain(&self) -> Vec<(Arc<str>, Entry)> {
        self.write().channels.drain().collect()
    }

    /// The names of the registered channels, sorted.
    pub(super) fn names(&self) -> Vec<String> {
        sorted(self.read().channels.keys())
    }
}

fn sorted<'a>(names: impl Iterator<Item = &'a Arc<str>>) -> Vec<String> {
    let mut names: Vec<String> = names.map(|name| name.to_string()).collect();
    names.sort_unstable();
    names
}

/// A name reserved for a channel that is starting. Dropped without
/// [`complete`](Self::complete) succeeding (the start failed, was abandoned, or the caller
/// of `register` gave up), it frees the name and cancels the channel's token, so that
/// nothing the start began outlives it.
pub(super) struct Reservation<'a> {
    registry: &'a Registry,
    registration: u64,
    name: Arc<str>,
    shutdown: CancellationToken,
    /// Counts this registration among those that the shutdown waits for.
    _starting: TaskTrackerToken,
    completed: bool,
}

impl Reservation<'_> {
    /// The number of this registration, unique within the gateway.
    pub(super) fn registration(&self) -> u64 {
        self.registration
    }

    /// Registers `channel`, spawning its started `task` on `tasks`, under the reserved
    /// name, unless the shutdown has begun meanwhile.
    ///
    /// The check and the spawn happen under one lock, so that no channel is registered
    /// after the shutdown took the registry. A channel refused here was never registered
    /// (no reply went through it) and its token is cancelled: its task is dropped unrun,
    /// which the [`Channel`] contract says must stop everything it runs.
    pub(super) fn complete(
        &mut self,
        channel: Arc<dyn Channel>,
        task: ChannelTask,
        tasks: &TaskTracker,
    ) -> Result<(), GatewayError> {
        let mut state = self.registry.write();
        if state.closed {
            drop(state);
            drop(task);
            return Err(GatewayError::ShuttingDown);
        }
        state.starting.remove(&self.name);
        let entry = Entry {
            channel,
            registration: self.registration,
            shutdown: self.shutdown.clone(),
            task: tasks.spawn(task),
        };
        state.channels.insert(Arc::clone(&self.name), entry);
        self.completed = true;
        Ok(())
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        if !self.completed {
            self.shutdown.cancel();
            self.registry.write().starting.remove(&self.name);
        }
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
        name: shown(name),
        reason,
    })
}

/// A channel name as an error shows it: redacted, then cut to [`MAX_CHANNEL_NAME_LEN`]
/// characters. A name that is not a registered one may be outside text (a reply-to channel
/// carried by a message), or derived from a connection URL with its credential.
pub(super) fn shown(name: &str) -> String {
    switchyard_core::redact(name)
        .chars()
        .take(MAX_CHANNEL_NAME_LEN)
        .collect()
}
