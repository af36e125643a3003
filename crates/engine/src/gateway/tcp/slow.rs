//! [`SlowReaders`]: queues a reply for a connection, waiting for room in its full reply
//! queue while its client reads, and closes the connection of a client that does not.
//!
//! Every reply goes through it, the gateway's and the error replies that a connection's
//! reader queues itself for bad lines, so that a client that does not read is closed
//! whichever reply finds its queue full.

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use switchyard_core::{Error, Result, Throttle, deadline::deadline};
use tokio::{
    sync::mpsc::{Permit, error::TrySendError},
    time::Instant,
};

use super::{
    Settings,
    reply_line::ReplyLine,
    sessions::{Session, Sessions},
};

/// The slow-reader rule of one channel, shared by the channel and its connections.
#[derive(Debug)]
pub(super) struct SlowReaders {
    channel: Arc<str>,
    settings: Settings,
    sessions: Arc<Sessions>,
    /// Connections closed because their client did not read its replies.
    evicted: AtomicU64,
    /// Lets one slow-reader warning a second into the log; `evicted` counts them all.
    warnings: Throttle,
}

impl SlowReaders {
    pub(super) fn new(channel: Arc<str>, settings: Settings, sessions: Arc<Sessions>) -> Self {
        Self {
            channel,
            settings,
            sessions,
            evicted: AtomicU64::new(0),
            warnings: Throttle::default(),
        }
    }

    /// How many connections were closed because their client did not read its replies.
    pub(super) fn closed(&self) -> u64 {
        self.evicted.load(Ordering::Relaxed)
    }

    /// A place in the reply queue of `open` (session `session`): at once if it has room,
    /// else as soon as it has, as long as its writer gets bytes out to the socket. A queue
    /// that stays full while no byte goes out for a whole slow-reader timeout closes the
    /// connection, and the reply is refused with [`Error::QueueFull`].
    ///
    /// A queue fills up in an instant when a handler returns many replies, or many
    /// requests of one connection are answered at once, before its writer had a turn; and
    /// it stays full for a while behind a large reply that a client reads slowly. Only a
    /// queue that stays full while no byte goes out means a client that does not read.
    pub(super) async fn reserve<'a>(
        &self,
        session: &str,
        open: &'a Session,
    ) -> Result<Permit<'a, ReplyLine>> {
        match open.replies.try_reserve() {
            Ok(slot) => Ok(slot),
            Err(TrySendError::Full(())) => self.wait_for_room(session, open).await,
            Err(TrySendError::Closed(())) => Err(connection_closed()),
        }
    }

    async fn wait_for_room<'a>(
        &self,
        session: &str,
        open: &'a Session,
    ) -> Result<Permit<'a, ReplyLine>> {
        loop {
            let written = open.written.load(Ordering::Relaxed);
            // Saturating: a timeout of `Duration::MAX` means "wait as long as it takes".
            let give_up_at = deadline(Instant::now(), self.settings.slow_reader_timeout);
            let room = tokio::select! {
                biased;
                // Another reply found the client not reading and closed the connection.
                () = open.stop_writing.cancelled() => return Err(connection_closed()),
                room = tokio::time::timeout_at(give_up_at, open.replies.reserve()) => room,
            };
            return match room {
                Ok(Ok(slot)) => Ok(slot),
                Ok(Err(_closed)) => Err(connection_closed()),
                // The client is reading, slowly: wait another round.
                Err(_elapsed) if open.written.load(Ordering::Relaxed) != written => continue,
                Err(_elapsed) => {
                    self.evict(session);
                    Err(Error::QueueFull {
                        queue: format!("{}/{session} replies", self.channel),
                    })
                }
            };
        }
    }

    /// Closes the connection of `session`, whose reply queue is full, and says so.
    fn evict(&self, session: &str) {
        // Only the reply that finds the session still open counts and logs it.
        if !self.sessions.evict(session) {
            return;
        }
        self.evicted.fetch_add(1, Ordering::Relaxed);
        metrics::counter!(
            "switchyard_gateway_tcp_slow_readers_total",
            "channel" => self.channel.to_string()
        )
        .increment(1);
        if let Some(suppressed) = self.warnings.admit() {
            tracing::warn!(
                channel = %self.channel,
                reply_queue = self.settings.reply_queue,
                slow_reader_timeout = ?self.settings.slow_reader_timeout,
                suppressed,
                "tcp client does not read its replies: connection closed, \
                 its queued replies discarded and its unanswered requests nacked"
            );
        }
    }
}

/// A reply for a connection that is closed, or closing.
fn connection_closed() -> Error {
    Error::Closed {
        component: "tcp connection",
    }
}
