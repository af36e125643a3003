//! [`InProcessChannel`]: a channel driven from the same process through an
//! [`InProcessHandle`], for tests and for embedding the gateway in an application.

use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use switchyard_core::{Error, Message, Result};
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

use super::{Channel, ChannelTask, GatewayError, InboxClosed, InboxSender, Outgoing};

/// A channel whose messages come from, and whose replies go to, an [`InProcessHandle`] in
/// the same process.
///
/// Sessions are whatever the handle names. Replies wait in a bounded queue until the handle
/// reads them; when it is full, the gateway's send waits (up to its send timeout).
///
/// ```
/// use switchyard_engine::gateway::InProcessChannel;
///
/// let (channel, _handle) = InProcessChannel::new("tests", 8)?;
/// # let _ = channel;
/// assert!(InProcessChannel::new("tests", 0).is_err(), "the reply queue needs room");
/// # Ok::<(), switchyard_engine::gateway::GatewayError>(())
/// ```
#[derive(Debug)]
pub struct InProcessChannel {
    name: String,
    state: Arc<State>,
    replies: mpsc::Sender<Outgoing>,
}

/// The other end of an [`InProcessChannel`]: injects messages and reads the replies.
#[derive(Debug)]
pub struct InProcessHandle {
    state: Arc<State>,
    replies: mpsc::Receiver<Outgoing>,
}

#[derive(Debug, Default)]
struct State {
    slot: Mutex<Slot>,
}

#[derive(Debug, Default)]
struct Slot {
    /// Set while the channel is started, with the number of the start that set it.
    inbox: Option<(u64, InboxSender)>,
    /// The number of the next start.
    next_start: u64,
}

impl State {
    fn lock(&self) -> std::sync::MutexGuard<'_, Slot> {
        self.slot.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn inbox(&self) -> Option<InboxSender> {
        self.lock().inbox.as_ref().map(|(_, inbox)| inbox.clone())
    }

    /// Installs the inbox of a new start, unless the channel is started (with an inbox
    /// that still takes messages). Returns the start's number if it was installed.
    fn install(&self, inbox: InboxSender) -> Option<u64> {
        let mut slot = self.lock();
        if slot
            .inbox
            .as_ref()
            .is_some_and(|(_, current)| !current.is_closed())
        {
            return None;
        }
        let start = slot.next_start;
        slot.next_start += 1;
        slot.inbox = Some((start, inbox));
        Some(start)
    }

    /// Removes the inbox of `start`, if it is still the one installed.
    ///
    /// A start's inbox is closed once its token is cancelled, and from then on a new
    /// start may install its own, before the stopped start's task has run: that task can
    /// run much later (its gateway was dropped and only cancelled it, or it was being
    /// polled on another thread when an `unregister` gave up on it). It must not remove
    /// the newer start's inbox, or the handle could send nothing more to a channel that is
    /// registered and running.
    fn clear(&self, start: u64) {
        let mut slot = self.lock();
        if slot
            .inbox
            .as_ref()
            .is_some_and(|(installed, _)| *installed == start)
        {
            slot.inbox = None;
        }
    }
}

impl InProcessChannel {
    /// A channel called `name` and its handle, with room for `reply_capacity` unread
    /// replies.
    ///
    /// Fails with [`GatewayError::InvalidConfig`] for a `reply_capacity` of zero or over
    /// [`Semaphore::MAX_PERMITS`].
    pub fn new(
        name: impl Into<String>,
        reply_capacity: usize,
    ) -> Result<(Self, InProcessHandle), GatewayError> {
        if reply_capacity == 0 {
            return Err(GatewayError::InvalidConfig {
                setting: "reply_capacity",
                reason: "must not be zero",
            });
        }
        // Tokio panics on a channel larger than this.
        if reply_capacity > Semaphore::MAX_PERMITS {
            return Err(GatewayError::InvalidConfig {
                setting: "reply_capacity",
                reason: "is larger than a tokio channel can hold (Semaphore::MAX_PERMITS)",
            });
        }
        let state = Arc::new(State::default());
        let (replies, receiver) = mpsc::channel(reply_capacity);
        let channel = Self {
            name: name.into(),
            state: Arc::clone(&state),
            replies,
        };
        let handle = InProcessHandle {
            state,
            replies: receiver,
        };
        Ok((channel, handle))
    }
}

#[async_trait]
impl Channel for InProcessChannel {
    fn name(&self) -> &str {
        &self.name
    }

    async fn start(&self, inbox: InboxSender, shutdown: CancellationToken) -> Result<ChannelTask> {
        let state = Arc::clone(&self.state);
        let Some(start) = state.install(inbox) else {
            return Err(Error::Closed {
                component: "in-process channel (it is already started)",
            });
        };
        Ok(Box::pin(async move {
            shutdown.cancelled().await;
            // Stopped: the handle can inject no more, and the channel can be started again
            // (which it may already be: only this start's inbox is removed).
            state.clear(start);
        }))
    }

    async fn send(&self, outgoing: Outgoing) -> Result<()> {
        self.replies
            .send(outgoing)
            .await
            .map_err(|_| Error::Closed {
                component: "in-process channel handle",
            })
    }
}

impl InProcessHandle {
    /// Injects `message` as received from `session`, waiting for room in the gateway's
    /// inbox. Fails, giving the message back, when the channel is not started.
    pub async fn send(
        &self,
        session: impl Into<String>,
        message: Message,
    ) -> Result<(), InboxClosed> {
        match self.state.inbox() {
            Some(inbox) => inbox.send(session, message).await,
            None => Err(InboxClosed::new(message)),
        }
    }

    /// The next reply, waiting for one. `None` once the channel is dropped and every reply
    /// was read.
    pub async fn recv(&mut self) -> Option<Outgoing> {
        self.replies.recv().await
    }

    /// The next reply, if one is waiting.
    pub fn try_recv(&mut self) -> Option<Outgoing> {
        self.replies.try_recv().ok()
    }
}
