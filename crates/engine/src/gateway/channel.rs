//! The [`Channel`] trait: a way in and out of the gateway (a socket server, a chat bot, an
//! in-process handle), and [`Outgoing`], what the gateway hands a channel to deliver.

use async_trait::async_trait;
use futures::future::BoxFuture;
use switchyard_core::{Message, Result};
use tokio_util::sync::CancellationToken;

use super::InboxSender;

/// The receive task of a started channel. The gateway spawns it, owns it, and awaits it on
/// shutdown; dropping it must stop everything the channel runs.
pub type ChannelTask = BoxFuture<'static, ()>;

/// A way in and out of the [`Gateway`](super::Gateway).
///
/// A channel receives messages from the outside world and pushes each into the gateway's
/// inbox through the [`InboxSender`] it gets on [`start`](Self::start), naming the
/// *session* it came from (a connection, a chat, a user). The gateway answers through
/// [`send`](Self::send) with the same session, so the channel can deliver the reply to
/// whoever asked.
///
/// Object-safe, so that channels of different kinds are stored side by side.
///
/// ```
/// use async_trait::async_trait;
/// use switchyard_core::{Error, Result};
/// use switchyard_engine::gateway::{Channel, ChannelTask, InboxSender, Outgoing};
/// use tokio_util::sync::CancellationToken;
///
/// /// A channel that only prints replies: it receives nothing.
/// struct Printer;
///
/// #[async_trait]
/// impl Channel for Printer {
///     fn name(&self) -> &str {
///         "printer"
///     }
///
///     async fn start(&self, _inbox: InboxSender, shutdown: CancellationToken) -> Result<ChannelTask> {
///         Ok(Box::pin(async move { shutdown.cancelled().await }))
///     }
///
///     async fn send(&self, outgoing: Outgoing) -> Result<()> {
///         let _ = (outgoing.session(), outgoing.message().payload());
///         Ok(())
///     }
/// }
/// ```
#[async_trait]
pub trait Channel: Send + Sync {
    /// The channel's name, unique within a gateway. Replies carry it in their `channel`
    /// attribute, and logs and metrics use it as a label, so keep it short and fixed.
    fn name(&self) -> &str;

    /// Starts receiving: returns the task that receives messages and pushes them into
    /// `inbox`, until `shutdown` is cancelled.
    ///
    /// The gateway spawns and owns the returned task. When `shutdown` is cancelled the task
    /// should stop taking input, finish delivering replies already accepted by
    /// [`send`](Self::send), and return; if it takes longer than the gateway allows, it is
    /// aborted (dropped). A channel that cannot start (or be started twice) returns an
    /// error.
    async fn start(&self, inbox: InboxSender, shutdown: CancellationToken) -> Result<ChannelTask>;

    /// Delivers `outgoing` to its session.
    ///
    /// It may wait for room in a bounded queue; the gateway bounds the wait with its send
    /// timeout. The message's task holds a permit of the gateway's concurrency limit while
    /// it waits, though, so a channel with a queue per session should wait on one
    /// session's consumer only briefly: a client that never reads would hold a permit per
    /// reply, and soon every permit. Past a short wait, refuse the reply (and close the
    /// session, as [`TcpJsonChannel`](super::TcpJsonChannel) does after its
    /// [`slow_reader_timeout`](super::TcpJsonChannelBuilder::slow_reader_timeout)). A
    /// session that is gone is an error,
    /// typically [`Error::UnknownDestination`](switchyard_core::Error::UnknownDestination);
    /// either way the request is nacked and the reply counted as undelivered.
    async fn send(&self, outgoing: Outgoing) -> Result<()>;
}

/// A message on its way out through a channel, to one session.
#[derive(Clone, Debug)]
pub struct Outgoing {
    session: String,
    message: Message,
}

impl Outgoing {
    /// A message for `session`.
    pub fn new(session: impl Into<String>, message: Message) -> Self {
        Self {
            session: session.into(),
            message,
        }
    }

    /// The session that the message goes to.
    pub fn session(&self) -> &str {
        &self.session
    }

    /// The message.
    pub fn message(&self) -> &Message {
        &self.message
    }

    /// Takes the outgoing message apart: the session and the message.
    pub fn into_parts(self) -> (String, Message) {
        (self.session, self.message)
    }
}
