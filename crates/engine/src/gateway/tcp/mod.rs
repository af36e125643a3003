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
    sync::{Arc, Mutex, PoisonError},
};

use async_trait::async_trait;
use switchyard_core::{Error, Limits, Result};
use tokio::net::{TcpListener, ToSocketAddrs};
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

    async fn send(&self, outgoing: Outgoing) -> Result<()> {
        let (session, message) = outgoing.into_parts();
        let Some(writer) = self.sessions.get(&session) else {
            return Err(Error::UnknownDestination {
                destination: format!("{}/{session}", self.name),
            });
        };
        writer
            .send(wire::encode(&message))
            .await
            .map_err(|_closed| Error::Closed {
                component: "tcp connection",
            })
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

    /// How many replies wait, per connection, for a client that reads slowly.
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
        })
    }
}
