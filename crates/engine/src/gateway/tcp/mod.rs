//! [`TcpJsonChannel`]: line-delimited JSON over TCP, so that any client with a socket
//! (`nc`, a script in any language) can talk to the gateway.
//!
//! # Wire format
//!
//! Each connection is one session. The client writes one JSON object per line (UTF-8,
//! ending in `\n`; a `\r` before it is ignored, blank lines are skipped):
//!
//! ```text
//! {"type": "orders.create", "data": {"sku": "A-1", "qty": 2}, "attributes": {"correlationid": "req-1"}}
//! ```
//!
//! - `type` (string, optional): the message's `type` attribute, which routers dispatch on.
//!   It wins over a `type` in `attributes`.
//! - `data` (any JSON, optional): the payload, kept as JSON text, with `datacontenttype`
//!   set to `application/json`. Absent or `null`: an empty payload.
//! - `attributes` (object of strings, optional): any other attributes. Names follow the
//!   CloudEvents rules (lowercase ASCII letters and digits, at most 20 characters). `id` is
//!   generated when absent. `channel` and `session` are overwritten by the gateway.
//!
//! No other field is allowed. The gateway writes back each reply as one line of the same
//! shape, on the same connection:
//!
//! ```text
//! {"type":"orders.created","data":{"order":7},"attributes":{"causationid":"…","channel":"tcp","correlationid":"req-1","durationms":"3","session":"12",…}}
//! ```
//!
//! A reply's `data` is its payload as JSON when it is JSON, as a string when it is other
//! text, and absent when it is empty. Replies to concurrent requests may come back in any
//! order: match them with `correlationid` (the request's, or its `id`) or `causationid`
//! (the request's `id`).
//!
//! A line that cannot become a message (not JSON, an unknown field, an invalid attribute,
//! over the size limits, longer than [`max_line_bytes`](TcpJsonChannelBuilder::max_line_bytes),
//! not UTF-8) gets an error reply on its connection, and the connection goes on:
//!
//! ```text
//! {"type":"switchyard.gateway.error","data":{"category":"bad_request","message":"malformed request: …"},"attributes":{"channel":"tcp","error":"bad_request",…}}
//! ```
//!
//! A connection over [`max_connections`](TcpJsonChannelBuilder::max_connections) gets one
//! `unavailable` error line and is closed.
//!
//! # Slow readers
//!
//! Each connection's replies wait in a queue of
//! [`reply_queue`](TcpJsonChannelBuilder::reply_queue) lines, which a writer task drains to
//! the socket. The gateway never waits for room in it: it holds a permit of its
//! [concurrency limit](crate::gateway::GatewayBuilder::max_in_flight) while it sends a
//! reply, so waiting on one client that does not read would soon leave no permit for the
//! others. A reply (or a push through [`Gateway::send_to`](crate::gateway::Gateway::send_to))
//! that finds the queue full (the client left that many replies unread, on top of what
//! the socket buffers) closes the connection at once instead: the reply is
//! refused, so its request is nacked; the replies still queued are discarded (their
//! requests were acked when they were queued); the requests not yet answered are nacked
//! as their replies find the session gone. Each such connection is logged (at most one
//! warning a second), counted by
//! [`slow_readers_closed`](TcpJsonChannel::slow_readers_closed) and the
//! `switchyard_gateway_tcp_slow_readers_total` counter, and every reply that did not
//! reach its client by `switchyard_gateway_replies_undelivered_total`. Only the slow client
//! loses anything; a client that reads its replies is never closed this way.
//!
//! # Example
//!
//! ```
//! use std::time::Duration;
//!
//! use switchyard_core::{Message, handler_fn};
//! use switchyard_engine::gateway::{Gateway, TcpJsonChannel};
//! use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let gateway = Gateway::builder()
//!     .handler(handler_fn(|request: Message| async move { Ok(vec![request.detached()]) }))
//!     .build()?;
//! let channel = TcpJsonChannel::builder("tcp").bind("127.0.0.1:0").await?;
//! let address = channel.local_addr();
//! gateway.register(channel).await?;
//!
//! let mut client = BufReader::new(tokio::net::TcpStream::connect(address).await?);
//! client.write_all(b"{\"type\": \"echo\", \"data\": [1, 2]}\n").await?;
//! let mut line = String::new();
//! client.read_line(&mut line).await?;
//! assert!(line.starts_with("{\"type\":\"echo\",\"data\":[1,2],"), "{line}");
//!
//! drop(client);
//! assert!(gateway.shutdown(Duration::from_secs(5)).await.is_clean());
//! # Ok(())
//! # }
//! ```

mod accept;
mod connection;
mod sessions;
mod wire;

use std::{
    net::SocketAddr,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicU64, Ordering},
    },
};

use async_trait::async_trait;
use switchyard_core::{Error, Limits, Result, Throttle};
use tokio::{
    net::{TcpListener, ToSocketAddrs},
    sync::mpsc::error::TrySendError,
};
use tokio_util::sync::CancellationToken;

use self::sessions::Sessions;
use super::{Channel, ChannelTask, GatewayError, InboxSender, Outgoing};

/// A [`Channel`] that serves line-delimited JSON over TCP; see the
/// [module documentation](self) for the wire format.
///
/// It is bound when built, so [`local_addr`](Self::local_addr) is known before it is
/// registered; it starts serving when the gateway starts it, and can be started once.
#[derive(Debug)]
pub struct TcpJsonChannel {
    name: Arc<str>,
    local_addr: SocketAddr,
    listener: Mutex<Option<TcpListener>>,
    settings: Settings,
    sessions: Arc<Sessions>,
    /// Connections closed because their client did not read its replies.
    evicted: AtomicU64,
    /// Lets one slow-reader warning a second into the log; `evicted` counts them all.
    warnings: Throttle,
}

/// The validated settings of a [`TcpJsonChannel`].
#[derive(Debug, Clone, Copy)]
pub(super) struct Settings {
    pub(super) max_connections: usize,
    pub(super) max_line_bytes: usize,
    pub(super) reply_queue: usize,
    pub(super) limits: Limits,
}

impl TcpJsonChannel {
    /// A builder for a channel called `name`.
    pub fn builder(name: impl Into<String>) -> TcpJsonChannelBuilder {
        TcpJsonChannelBuilder {
            name: name.into(),
            max_connections: TcpJsonChannelBuilder::DEFAULT_MAX_CONNECTIONS,
            max_line_bytes: TcpJsonChannelBuilder::DEFAULT_MAX_LINE_BYTES,
            reply_queue: TcpJsonChannelBuilder::DEFAULT_REPLY_QUEUE,
            limits: Limits::default(),
        }
    }

    /// The address the channel listens on: the port the system chose when bound to port 0.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// How many connections are open.
    pub fn connections(&self) -> usize {
        self.sessions.len()
    }

    /// How many connections were closed because their client did not read its replies;
    /// see [slow readers](crate::gateway::tcp#slow-readers).
    pub fn slow_readers_closed(&self) -> u64 {
        self.evicted.load(Ordering::Relaxed)
    }

    /// Closes the connection of `session`, whose reply queue is full, and says so.
    fn evict_slow_reader(&self, session: &str) {
        // Only the send that finds the session still open counts and logs it.
        if !self.sessions.evict(session) {
            return;
        }
        self.evicted.fetch_add(1, Ordering::Relaxed);
        metrics::counter!(
            "switchyard_gateway_tcp_slow_readers_total",
            "channel" => self.name.to_string()
        )
        .increment(1);
        if let Some(suppressed) = self.warnings.admit() {
            tracing::warn!(
                channel = %self.name,
                reply_queue = self.settings.reply_queue,
                suppressed,
                "tcp client does not read its replies: connection closed, \
                 its queued replies discarded and its unanswered requests nacked"
            );
        }
    }
}

#[async_trait]
impl Channel for TcpJsonChannel {
    fn name(&self) -> &str {
        &self.name
    }

    async fn start(&self, inbox: InboxSender, shutdown: CancellationToken) -> Result<ChannelTask> {
        let listener = self
            .listener
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let Some(listener) = listener else {
            return Err(Error::Closed {
                component: "tcp channel (it was already started)",
            });
        };
        Ok(Box::pin(accept::run(accept::Acceptor {
            channel: Arc::clone(&self.name),
            listener,
            inbox,
            shutdown,
            settings: self.settings,
            sessions: Arc::clone(&self.sessions),
        })))
    }

    /// Queues the reply for its connection's writer, without waiting: the gateway holds a
    /// permit of its concurrency limit while it sends, so waiting here for a client that
    /// does not read would let one client starve every other. A full queue closes the
    /// connection instead and refuses the reply; see
    /// [slow readers](crate::gateway::tcp#slow-readers).
    async fn send(&self, outgoing: Outgoing) -> Result<()> {
        let (session, message) = outgoing.into_parts();
        let Some(open) = self.sessions.get(&session) else {
            return Err(Error::UnknownDestination {
                destination: format!("{}/{session}", self.name),
            });
        };
        // Reserved before the reply is encoded: a full queue costs no encoding.
        match open.replies.try_reserve() {
            Ok(slot) => {
                slot.send(wire::encode(&message));
                Ok(())
            }
            Err(TrySendError::Full(())) => {
                self.evict_slow_reader(&session);
                Err(Error::QueueFull {
                    queue: format!("{}/{session} replies", self.name),
                })
            }
            Err(TrySendError::Closed(())) => Err(Error::Closed {
                component: "tcp connection",
            }),
        }
    }
}

/// Builds a [`TcpJsonChannel`]; created by [`TcpJsonChannel::builder`].
#[derive(Debug)]
#[must_use = "a builder does nothing until `bind` is called"]
pub struct TcpJsonChannelBuilder {
    name: String,
    max_connections: usize,
    max_line_bytes: usize,
    reply_queue: usize,
    limits: Limits,
}

impl TcpJsonChannelBuilder {
    /// Default for [`max_connections`](Self::max_connections).
    pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
    /// Default for [`max_line_bytes`](Self::max_line_bytes): room for the default payload
    /// limit and its attributes.
    pub const DEFAULT_MAX_LINE_BYTES: usize =
        Limits::DEFAULT_MAX_PAYLOAD_BYTES + Limits::DEFAULT_MAX_ATTRIBUTES_BYTES;
    /// Default for [`reply_queue`](Self::reply_queue).
    pub const DEFAULT_REPLY_QUEUE: usize = 64;

    /// How many connections are served at once; one more gets an `unavailable` error line
    /// and is closed.
    pub fn max_connections(mut self, limit: usize) -> Self {
        self.max_connections = limit;
        self
    }

    /// The longest request line, in bytes, without its newline. A longer line is discarded
    /// (never buffered whole) and answered with a `bad_request` error.
    pub fn max_line_bytes(mut self, limit: usize) -> Self {
        self.max_line_bytes = limit;
        self
    }

    /// How many replies wait, per connection, for a client that reads slowly, beyond what
    /// the socket buffers. A reply that finds them all waiting closes the connection: see
    /// [slow readers](crate::gateway::tcp#slow-readers). For clients that pipeline
    /// requests, keep it at least the gateway's
    /// [`max_in_flight`](crate::gateway::GatewayBuilder::max_in_flight) times the replies
    /// a request gets: that many can come for one connection at once, before its writer
    /// has had a turn to run. The default covers the gateway's default limit.
    pub fn reply_queue(mut self, capacity: usize) -> Self {
        self.reply_queue = capacity;
        self
    }

    /// The size limits that each request is built with.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Validates the settings and binds the listener to `address`, such as
    /// `127.0.0.1:0` for a port chosen by the system.
    pub async fn bind(self, address: impl ToSocketAddrs) -> Result<TcpJsonChannel, GatewayError> {
        for (setting, value) in [
            ("max_connections", self.max_connections),
            ("max_line_bytes", self.max_line_bytes),
            ("reply_queue", self.reply_queue),
        ] {
            if value == 0 {
                return Err(GatewayError::InvalidConfig {
                    setting,
                    reason: "must not be zero",
                });
            }
        }
        if self.max_connections > tokio::sync::Semaphore::MAX_PERMITS {
            return Err(GatewayError::InvalidConfig {
                setting: "max_connections",
                reason: "is larger than a semaphore can hold",
            });
        }
        let io = |operation| move |source| GatewayError::Io { operation, source };
        let listener = TcpListener::bind(address)
            .await
            .map_err(io("bind the tcp listener"))?;
        let local_addr = listener
            .local_addr()
            .map_err(io("read the listener's address"))?;
        Ok(TcpJsonChannel {
            name: Arc::from(self.name),
            local_addr,
            listener: Mutex::new(Some(listener)),
            settings: Settings {
                max_connections: self.max_connections,
                max_line_bytes: self.max_line_bytes,
                reply_queue: self.reply_queue,
                limits: self.limits,
            },
            sessions: Arc::new(Sessions::default()),
            evicted: AtomicU64::new(0),
            warnings: Throttle::default(),
        })
    }
}
