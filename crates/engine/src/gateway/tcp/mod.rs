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
//! # Fairness between connections
//!
//! A client may pipeline: write many requests without waiting for their replies. Each
//! connection has at most
//! [`max_in_flight_per_connection`](TcpJsonChannelBuilder::max_in_flight_per_connection)
//! requests unanswered (8 by default): handed to the gateway, and not yet settled, which
//! happens once its replies are queued for the connection. At that many its reader reads
//! nothing more from the socket until one is answered, so what the client pipelines beyond
//! its share waits in the socket's buffers, and then in the client, held back by TCP.
//! Without it one such client would fill the gateway's shared inbox and take every permit
//! of its [concurrency limit](crate::gateway::GatewayBuilder::max_in_flight), and every
//! other connection's requests would wait behind its backlog. With a cap below that limit,
//! one connection never holds every permit; each request waits behind at most the capped
//! share of every other connection. The shutdown and an eviction stop a reader that waits
//! for a free slot as they stop one that waits for bytes: the request it had read is
//! dropped, never handed to the gateway.
//!
//! # Slow readers
//!
//! Each connection's replies wait in a queue of
//! [`reply_queue`](TcpJsonChannelBuilder::reply_queue) lines, which a writer task drains to
//! the socket. A queue can fill up in an instant with a client that reads every reply: a
//! handler that returns many replies, or many pipelined requests answered at once, before
//! the writer has had a turn; and it stays full for a while behind a large reply that a
//! client reads slowly. So a reply (a push through
//! [`Gateway::send_to`](crate::gateway::Gateway::send_to), or the error reply to a bad
//! line, which the connection's reader queues itself) that finds the queue full waits for
//! room as long as the writer gets bytes out to the socket. A queue that stays full
//! while not one byte goes out for a whole
//! [`slow_reader_timeout`](TcpJsonChannelBuilder::slow_reader_timeout) (250 ms by default)
//! means a client that does not read (it left that many replies unread, on top of what the
//! socket buffers), and its connection is closed: the
//! reply is refused, so its request is nacked; the replies still queued are discarded
//! (their requests were acked when they were queued); the requests not yet answered are
//! nacked as their replies find the session gone, and the requests the connection had
//! read but not yet handed to the gateway are dropped.
//!
//! The wait is bounded because the gateway holds a permit of its
//! [concurrency limit](crate::gateway::GatewayBuilder::max_in_flight) while it sends a
//! reply. What a client that does not read costs the others is bounded with it: the
//! replies waiting for room in its queue (one per request of it in flight, so at most
//! [`max_in_flight_per_connection`](TcpJsonChannelBuilder::max_in_flight_per_connection))
//! hold their permits for at most one timeout, together, since the first to give up
//! closes the connection and the others give up with it; after that its replies are
//! refused at once and it sends no more requests. A client that reads, however slowly, is
//! not closed, but each of its replies may hold a permit while it waits, up to the
//! gateway's [`send_timeout`](crate::gateway::GatewayBuilder::send_timeout), which then
//! refuses the reply (and nacks its request) without closing the connection: one that
//! reads just fast enough to keep its queue full holds its connection's share of the
//! permits throughout, as any slow consumer of pipelined requests does, but no more. Keep
//! the slow-reader timeout shorter than the send timeout, or a client that does not read
//! is never closed, only refused.
//!
//! Each closed connection is logged (at most one warning a second), counted by
//! [`slow_readers_closed`](TcpJsonChannel::slow_readers_closed) and the
//! `switchyard_gateway_tcp_slow_readers_total` counter. Every reply that did not reach its
//! client (a reply the socket did not take whole) is counted by
//! `switchyard_gateway_replies_undelivered_total`, however its connection ended: closed as
//! a slow reader or as idle, a failed socket, stopped or aborted with the channel at the
//! gateway's shutdown. Only the slow client loses anything.
//!
//! # Idle connections
//!
//! A connection that is idle for
//! [`idle_timeout`](TcpJsonChannelBuilder::idle_timeout) (5 minutes by default) is closed:
//! nothing read from its client, no request of it in flight (in the gateway's inbox,
//! waiting for a permit, or in the handler), and not one byte of a reply going out to it,
//! for that long. Clients that connect and then send nothing (or stop halfway through a
//! line) would otherwise hold every one of the
//! [`max_connections`](TcpJsonChannelBuilder::max_connections) for good. Every byte read
//! counts as activity, so a client that trickles a byte within each timeout keeps its
//! connection: the rule is about silent clients, not slow ones. A request in
//! flight keeps its connection open however long it takes; a client that reads a long
//! reply slowly is not idle while it goes out, but one that does not read it at all is.
//! Replies still queued for a closed connection are discarded, and counted as undelivered.
//! Each is logged at debug level, counted by
//! [`idle_closed`](TcpJsonChannel::idle_closed) and the
//! `switchyard_gateway_tcp_idle_closed_total` counter (by channel).
//!
//! # Shutdown
//!
//! When the gateway stops the channel, each connection stops reading (a request it had
//! read but not yet handed over is dropped) and its writer delivers the replies already
//! queued, then closes the connection. A client that does not read them does not hold up
//! the stop: once stopping, a write that gets no byte out for a whole
//! [`slow_reader_timeout`](TcpJsonChannelBuilder::slow_reader_timeout) ends its writer,
//! and the replies left are counted as undelivered. Give the gateway's shutdown more time
//! than that timeout, or such a channel is aborted at the deadline (which counts them
//! too, but is reported as not stopped).
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
mod idle;
mod reply_line;
mod sessions;
mod slow;
mod wire;

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use async_trait::async_trait;
use switchyard_core::{Error, Limits, Result};
use tokio::{
    net::{TcpListener, ToSocketAddrs},
    sync::Semaphore,
};
use tokio_util::sync::CancellationToken;

use self::{idle::IdleConnections, reply_line::ReplyLine, sessions::Sessions, slow::SlowReaders};
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
    /// Closes the connections of clients that do not read their replies.
    slow: Arc<SlowReaders>,
    /// Closes idle connections.
    idle: Arc<IdleConnections>,
}

/// The validated settings of a [`TcpJsonChannel`].
#[derive(Debug, Clone, Copy)]
pub(super) struct Settings {
    pub(super) max_connections: usize,
    pub(super) max_in_flight_per_connection: usize,
    pub(super) max_line_bytes: usize,
    pub(super) reply_queue: usize,
    pub(super) slow_reader_timeout: Duration,
    pub(super) idle_timeout: Duration,
    pub(super) limits: Limits,
}

impl TcpJsonChannel {
    /// A builder for a channel called `name`.
    pub fn builder(name: impl Into<String>) -> TcpJsonChannelBuilder {
        TcpJsonChannelBuilder {
            name: name.into(),
            max_connections: TcpJsonChannelBuilder::DEFAULT_MAX_CONNECTIONS,
            max_in_flight_per_connection:
                TcpJsonChannelBuilder::DEFAULT_MAX_IN_FLIGHT_PER_CONNECTION,
            max_line_bytes: TcpJsonChannelBuilder::DEFAULT_MAX_LINE_BYTES,
            reply_queue: TcpJsonChannelBuilder::DEFAULT_REPLY_QUEUE,
            slow_reader_timeout: TcpJsonChannelBuilder::DEFAULT_SLOW_READER_TIMEOUT,
            idle_timeout: TcpJsonChannelBuilder::DEFAULT_IDLE_TIMEOUT,
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
        self.slow.closed()
    }

    /// How many connections were closed because they were idle; see
    /// [idle connections](crate::gateway::tcp#idle-connections).
    pub fn idle_closed(&self) -> u64 {
        self.idle.closed()
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
            slow: Arc::clone(&self.slow),
            idle: Arc::clone(&self.idle),
        })))
    }

    /// Queues the reply for its connection's writer. A full queue is waited on for at most
    /// [`slow_reader_timeout`](TcpJsonChannelBuilder::slow_reader_timeout), never longer:
    /// the gateway holds a permit of its concurrency limit while it sends, so waiting on a
    /// client that does not read would let one client starve every other. A queue still
    /// full after that closes the connection and refuses the reply; see
    /// [slow readers](crate::gateway::tcp#slow-readers).
    async fn send(&self, outgoing: Outgoing) -> Result<()> {
        let (session, message) = outgoing.into_parts();
        let Some(open) = self.sessions.get(&session) else {
            return Err(Error::UnknownDestination {
                destination: format!("{}/{session}", self.name),
            });
        };
        // Reserved before the reply is encoded: a refused reply costs no encoding.
        let slot = self.slow.reserve(&session, &open).await?;
        // Sent at once, even if the writer has stopped meanwhile: a line the queue holds
        // after its writer is gone counts itself as undelivered when it is dropped.
        slot.send(ReplyLine::new(wire::encode(&message), &self.name));
        Ok(())
    }
}

/// Builds a [`TcpJsonChannel`]; created by [`TcpJsonChannel::builder`].
#[derive(Debug)]
#[must_use = "a builder does nothing until `bind` is called"]
pub struct TcpJsonChannelBuilder {
    name: String,
    max_connections: usize,
    max_in_flight_per_connection: usize,
    max_line_bytes: usize,
    reply_queue: usize,
    slow_reader_timeout: Duration,
    idle_timeout: Duration,
    limits: Limits,
}

impl TcpJsonChannelBuilder {
    /// Default for [`max_connections`](Self::max_connections).
    pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
    /// Default for [`max_in_flight_per_connection`](Self::max_in_flight_per_connection): 8,
    /// a quarter of the gateway's default
    /// [`max_in_flight`](crate::gateway::GatewayBuilder::DEFAULT_MAX_IN_FLIGHT), so that one
    /// pipelining client leaves most permits to the others, while a client that pipelines
    /// still has several requests handled at once.
    pub const DEFAULT_MAX_IN_FLIGHT_PER_CONNECTION: usize = 8;
    /// Default for [`max_line_bytes`](Self::max_line_bytes): room for the default payload
    /// limit and its attributes.
    pub const DEFAULT_MAX_LINE_BYTES: usize =
        Limits::DEFAULT_MAX_PAYLOAD_BYTES + Limits::DEFAULT_MAX_ATTRIBUTES_BYTES;
    /// Default for [`reply_queue`](Self::reply_queue).
    pub const DEFAULT_REPLY_QUEUE: usize = 64;
    /// Default for [`slow_reader_timeout`](Self::slow_reader_timeout): 250 ms, far longer
    /// than a connection's writer takes to get a turn on a busy runtime, and short enough
    /// that a client that does not read holds the gateway's permits only briefly.
    pub const DEFAULT_SLOW_READER_TIMEOUT: Duration = Duration::from_millis(250);
    /// Default for [`idle_timeout`](Self::idle_timeout): 5 minutes, far longer than a
    /// client that means to send something waits between requests, and short enough that
    /// clients that connect and never send a request give back their connection slots.
    pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(5 * 60);

    /// How many connections are served at once; one more gets an `unavailable` error line
    /// and is closed. At most [`Semaphore::MAX_PERMITS`].
    pub fn max_connections(mut self, limit: usize) -> Self {
        self.max_connections = limit;
        self
    }

    /// How many requests of one connection may be unanswered at once: in the gateway's
    /// inbox, waiting for a permit, or in the handler. While a connection has that many,
    /// its reader reads nothing more from the socket, so a client that pipelines more is
    /// held back by TCP itself; see [fairness](crate::gateway::tcp#fairness-between-connections).
    /// Default
    /// [`DEFAULT_MAX_IN_FLIGHT_PER_CONNECTION`](Self::DEFAULT_MAX_IN_FLIGHT_PER_CONNECTION);
    /// must not be zero.
    ///
    /// Keep it below the gateway's
    /// [`max_in_flight`](crate::gateway::GatewayBuilder::max_in_flight): one connection then
    /// never holds every permit, and a request of another connection is handled while it
    /// waits. A request is answered once its replies are queued for the connection, so a
    /// client that does not read its replies stops being read from once this many are
    /// waiting.
    pub fn max_in_flight_per_connection(mut self, limit: usize) -> Self {
        self.max_in_flight_per_connection = limit;
        self
    }

    /// The longest request line, in bytes, without its newline. A longer line is discarded
    /// (never buffered whole) and answered with a `bad_request` error.
    pub fn max_line_bytes(mut self, limit: usize) -> Self {
        self.max_line_bytes = limit;
        self
    }

    /// How many replies wait, per connection, for a client that reads slowly, beyond what
    /// the socket buffers. A reply that finds them all waiting waits for room, for at most
    /// [`slow_reader_timeout`](Self::slow_reader_timeout), and closes the connection if
    /// none comes: see [slow readers](crate::gateway::tcp#slow-readers). A larger queue
    /// lets replies that come in a burst (many replies to one request, or to many
    /// pipelined requests at once) go without that wait, at the cost of the memory they
    /// take. At most [`Semaphore::MAX_PERMITS`], the most a tokio channel holds.
    pub fn reply_queue(mut self, capacity: usize) -> Self {
        self.reply_queue = capacity;
        self
    }

    /// How long a reply waits for room in its connection's full reply queue, with not one
    /// byte going out to the socket, before the connection is closed as a client that does
    /// not read its replies; see [slow readers](crate::gateway::tcp#slow-readers). Default
    /// [`DEFAULT_SLOW_READER_TIMEOUT`](Self::DEFAULT_SLOW_READER_TIMEOUT); must not be zero.
    ///
    /// It bounds how long the replies of a client that does not read hold permits of the
    /// gateway's [concurrency limit](crate::gateway::GatewayBuilder::max_in_flight), so keep
    /// it short, and shorter than the gateway's
    /// [`send_timeout`](crate::gateway::GatewayBuilder::send_timeout): a send that times out
    /// first refuses the reply without closing the connection, and the slow client is not
    /// closed at all.
    ///
    /// At the channel's shutdown it also bounds how long a connection's writer waits on a
    /// socket that takes not one byte; see [shutdown](crate::gateway::tcp#shutdown).
    pub fn slow_reader_timeout(mut self, timeout: Duration) -> Self {
        self.slow_reader_timeout = timeout;
        self
    }

    /// How long a connection may stay idle before it is closed: nothing read from its
    /// client, no request of it in flight (in the gateway's inbox, waiting for a permit, or
    /// in the handler), and not one byte of a reply going out to it; see
    /// [idle connections](crate::gateway::tcp#idle-connections). Default
    /// [`DEFAULT_IDLE_TIMEOUT`](Self::DEFAULT_IDLE_TIMEOUT); must not be zero;
    /// `Duration::MAX` means never.
    ///
    /// Without it, clients that connect and then fall silent would hold every one of the
    /// [`max_connections`](Self::max_connections) for good.
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// The size limits that each request is built with.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Validates the settings and binds the listener to `address`, such as
    /// `127.0.0.1:0` for a port chosen by the system.
    ///
    /// # Errors
    ///
    /// [`GatewayError::InvalidConfig`] for a setting that is zero, or a `max_connections`
    /// or `reply_queue` over [`Semaphore::MAX_PERMITS`]; [`GatewayError::Io`] if the
    /// listener cannot be bound.
    pub async fn bind(self, address: impl ToSocketAddrs) -> Result<TcpJsonChannel, GatewayError> {
        self.validate()?;
        let io = |operation| move |source| GatewayError::Io { operation, source };
        let listener = TcpListener::bind(address)
            .await
            .map_err(io("bind the tcp listener"))?;
        let local_addr = listener
            .local_addr()
            .map_err(io("read the listener's address"))?;
        let name: Arc<str> = Arc::from(self.name);
        let settings = Settings {
            max_connections: self.max_connections,
            max_in_flight_per_connection: self.max_in_flight_per_connection,
            max_line_bytes: self.max_line_bytes,
            reply_queue: self.reply_queue,
            slow_reader_timeout: self.slow_reader_timeout,
            idle_timeout: self.idle_timeout,
            limits: self.limits,
        };
        let sessions = Arc::new(Sessions::default());
        let slow = SlowReaders::new(Arc::clone(&name), settings, Arc::clone(&sessions));
        let idle = IdleConnections::new(Arc::clone(&name), settings.idle_timeout);
        Ok(TcpJsonChannel {
            name,
            local_addr,
            listener: Mutex::new(Some(listener)),
            settings,
            sessions,
            slow: Arc::new(slow),
            idle: Arc::new(idle),
        })
    }

    /// Refuses every value that a tokio constructor would panic on later: a zero channel
    /// size or semaphore, a channel or semaphore over `MAX_PERMITS`. (Durations reach tokio
    /// only through [`deadline`], which saturates.)
    fn validate(&self) -> Result<(), GatewayError> {
        let invalid = |setting, reason| Err(GatewayError::InvalidConfig { setting, reason });
        for (setting, value) in [
            ("max_connections", self.max_connections),
            (
                "max_in_flight_per_connection",
                self.max_in_flight_per_connection,
            ),
            ("max_line_bytes", self.max_line_bytes),
            ("reply_queue", self.reply_queue),
        ] {
            if value == 0 {
                return invalid(setting, "must not be zero");
            }
        }
        if self.slow_reader_timeout.is_zero() {
            return invalid("slow_reader_timeout", "must not be zero");
        }
        if self.idle_timeout.is_zero() {
            return invalid("idle_timeout", "must not be zero");
        }
        // A semaphore for the connections, a channel (which is a semaphore) for each
        // connection's replies: tokio panics on more permits than `MAX_PERMITS`.
        if self.max_connections > Semaphore::MAX_PERMITS {
            return invalid(
                "max_connections",
                "is larger than a tokio semaphore can hold (Semaphore::MAX_PERMITS)",
            );
        }
        if self.reply_queue > Semaphore::MAX_PERMITS {
            return invalid(
                "reply_queue",
                "is larger than a tokio channel can hold (Semaphore::MAX_PERMITS)",
            );
        }
        Ok(())
    }
}
