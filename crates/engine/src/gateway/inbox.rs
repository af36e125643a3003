//! The gateway's inbox: the one bounded queue into which every channel pushes what it
//! receives, and the [`InboxSender`] that a channel pushes with.

use std::{fmt, sync::Arc};

use switchyard_core::Message;
use tokio::{sync::mpsc, time::Instant};
use tokio_util::sync::CancellationToken;

use super::InboxClosed;

/// A received message on its way through the inbox to the dispatcher.
pub(super) struct Envelope {
    /// The channel it came through, stamped by the gateway (a channel cannot claim another
    /// channel's name).
    pub(super) channel: Arc<str>,
    /// The channel's registration, so that replies go back to that channel, not to one
    /// registered since under the same name.
    pub(super) registration: u64,
    /// The session within the channel.
    pub(super) session: String,
    /// The message.
    pub(super) message: Message,
    /// When the channel handed it over: the start of the duration the reply reports.
    pub(super) received_at: Instant,
}

/// The handle through which a started [`Channel`](super::Channel) pushes received messages
/// into the gateway.
///
/// Each channel gets its own sender, bound to its name; all of them feed one bounded inbox,
/// so [`send`](Self::send) waits when the gateway is busy. That wait is backpressure: a
/// channel should stop reading from the outside world while it waits.
///
/// Cheap to clone: a channel hands a clone to each connection it serves.
#[derive(Clone)]
pub struct InboxSender {
    channel: Arc<str>,
    registration: u64,
    tx: mpsc::Sender<Envelope>,
    /// The channel's own shutdown: once it is cancelled (the channel was unregistered or
    /// the gateway is stopping) this sender takes nothing more, even though the inbox may
    /// still be open for other channels.
    stopped: CancellationToken,
    /// The gateway's intake: cancelled when its shutdown begins, before the dispatcher
    /// gets to close the inbox itself.
    intake: CancellationToken,
}

impl InboxSender {
    pub(super) fn new(
        channel: Arc<str>,
        registration: u64,
        tx: mpsc::Sender<Envelope>,
        stopped: CancellationToken,
        intake: CancellationToken,
    ) -> Self {
        Self {
            channel,
            registration,
            tx,
            stopped,
            intake,
        }
    }

    /// The name of the channel that this sender belongs to.
    pub fn channel(&self) -> &str {
        &self.channel
    }

    /// Pushes `message`, received from `session`, into the inbox, waiting for room.
    ///
    /// The message's duration, which its replies report, starts now, so the wait for room
    /// counts. Fails, giving the message back, once the gateway takes no more messages
    /// from this channel: it is shutting down, or the channel was unregistered.
    pub async fn send(
        &self,
        session: impl Into<String>,
        message: Message,
    ) -> Result<(), InboxClosed> {
        if self.is_closed() {
            return Err(InboxClosed::new(message));
        }
        let received_at = Instant::now();
        // Reserve first, so that a message waiting for room can be given back if the
        // channel or the gateway stops meanwhile.
        let permit = tokio::select! {
            biased;
            () = self.stopped.cancelled() => return Err(InboxClosed::new(message)),
            () = self.intake.cancelled() => return Err(InboxClosed::new(message)),
            permit = self.tx.reserve() => permit,
        };
        match permit {
            Ok(permit) => {
                permit.send(Envelope {
                    channel: Arc::clone(&self.channel),
                    registration: self.registration,
                    session: session.into(),
                    message,
                    received_at,
                });
                Ok(())
            }
            Err(_closed) => Err(InboxClosed::new(message)),
        }
    }

    /// Whether the gateway has stopped taking messages from this channel.
    pub fn is_closed(&self) -> bool {
        self.stopped.is_cancelled() || self.intake.is_cancelled() || self.tx.is_closed()
    }
}

impl fmt::Debug for InboxSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InboxSender")
            .field("channel", &self.channel)
            .field("closed", &self.is_closed())
            .finish()
    }
}
