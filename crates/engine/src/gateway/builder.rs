//! [`GatewayBuilder`]: the gateway's configuration, validated on `build`.

use std::{fmt, sync::Arc, time::Duration};

use switchyard_core::{Handler, Limits};
use switchyard_routing::router::Router;
use tokio::sync::Semaphore;

use super::{Gateway, GatewayError, dispatch::Target};

/// Builds a [`Gateway`]; created by [`Gateway::builder`].
///
/// A target is required: a [`handler`](Self::handler) or a [`router`](Self::router). Every
/// other setting has a production default.
///
/// ```
/// use std::time::Duration;
///
/// use switchyard_core::{Message, handler_fn};
/// use switchyard_engine::gateway::{Gateway, GatewayError};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), GatewayError> {
/// let gateway = Gateway::builder()
///     .handler(handler_fn(|message: Message| async move { Ok(vec![message.detached()]) }))
///     .max_in_flight(8)
///     .request_timeout(Duration::from_secs(10))
///     .build()?;
/// let report = gateway.shutdown(Duration::from_secs(1)).await;
/// assert!(report.is_clean());
///
/// let err = Gateway::builder().build().unwrap_err();
/// assert_eq!(err.to_string(), "invalid gateway setting `handler`: a handler or a router is required");
/// # Ok(())
/// # }
/// ```
#[must_use = "a builder does nothing until `build` is called"]
pub struct GatewayBuilder {
    target: Option<Target>,
    max_in_flight: usize,
    inbox_capacity: usize,
    max_channels: usize,
    request_timeout: Duration,
    send_timeout: Duration,
    limits: Limits,
}

/// The validated settings that [`Gateway`] starts from.
pub(super) struct Config {
    pub(super) target: Target,
    pub(super) max_in_flight: usize,
    pub(super) inbox_capacity: usize,
    pub(super) max_channels: usize,
    pub(super) request_timeout: Duration,
    pub(super) send_timeout: Duration,
    pub(super) limits: Limits,
}

impl Default for GatewayBuilder {
    fn default() -> Self {
        Self {
            target: None,
            max_in_flight: Self::DEFAULT_MAX_IN_FLIGHT,
            inbox_capacity: Self::DEFAULT_INBOX_CAPACITY,
            max_channels: Self::DEFAULT_MAX_CHANNELS,
            request_timeout: Self::DEFAULT_REQUEST_TIMEOUT,
            send_timeout: Self::DEFAULT_SEND_TIMEOUT,
            limits: Limits::default(),
        }
    }
}

impl GatewayBuilder {
    /// Default for [`max_in_flight`](Self::max_in_flight): handlers mostly wait on I/O, so
    /// several times the core count.
    pub const DEFAULT_MAX_IN_FLIGHT: usize = 32;
    /// Default for [`inbox_capacity`](Self::inbox_capacity): about 100 sessions with 10
    /// messages each waiting.
    pub const DEFAULT_INBOX_CAPACITY: usize = 1024;
    /// Default for [`max_channels`](Self::max_channels).
    pub const DEFAULT_MAX_CHANNELS: usize = 64;
    /// Default for [`request_timeout`](Self::request_timeout).
    pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
    /// Default for [`send_timeout`](Self::send_timeout).
    pub const DEFAULT_SEND_TIMEOUT: Duration = Duration::from_secs(5);

    /// Hands every message to `handler`. Replaces a router set before.
    pub fn handler(self, handler: impl Handler + 'static) -> Self {
        self.handler_arc(Arc::new(handler))
    }

    /// [`handler`](Self::handler) for a handler that is already shared.
    pub fn handler_arc(mut self, handler: Arc<dyn Handler>) -> Self {
        self.target = Some(Target::Handler(handler));
        self
    }

    /// Hands every message to `router`, which picks a handler by the message's `type`; a
    /// message without a type or with a type that has no handler gets a `bad_request`
    /// reply. Replaces a handler set before.
    pub fn router(mut self, router: Router) -> Self {
        self.target = Some(Target::Router(Arc::new(router)));
        self
    }

    /// How many messages are handled at once, at most. Further messages wait in the inbox.
    pub fn max_in_flight(mut self, limit: usize) -> Self {
        self.max_in_flight = limit;
        self
    }

    /// How many received messages the inbox holds. When it is full, channels wait.
    pub fn inbox_capacity(mut self, capacity: usize) -> Self {
        self.inbox_capacity = capacity;
        self
    }

    /// How many channels can be registered at once.
    pub fn max_channels(mut self, limit: usize) -> Self {
        self.max_channels = limit;
        self
    }

    /// The deadline of each request, counted from its receipt, so that the wait for the
    /// inbox and for a permit counts too. A handler that has not returned by then is
    /// dropped, and the reply is a `timeout` error. A request whose deadline passed before
    /// its turn came gets that reply without its handler being called, and is counted in
    /// `switchyard_gateway_requests_expired_total`. Not zero; `Duration::MAX` means no
    /// limit.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// How long a channel may take to accept one outgoing message before the gateway gives
    /// up on it. Not zero; `Duration::MAX` means no limit.
    pub fn send_timeout(mut self, timeout: Duration) -> Self {
        self.send_timeout = timeout;
        self
    }

    /// The size limits that every received message is checked against before the handler
    /// sees it; a message over them gets a `bad_request` reply.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Validates the settings and starts the gateway's dispatcher.
    ///
    /// Must be called inside a Tokio runtime ([`GatewayError::NoRuntime`] otherwise); every
    /// other failure is a [`GatewayError::InvalidConfig`] naming the setting.
    pub fn build(self) -> Result<Gateway, GatewayError> {
        let Some(target) = self.target else {
            return Err(invalid("handler", "a handler or a router is required"));
        };
        if self.max_in_flight == 0 {
            return Err(invalid("max_in_flight", "must not be zero"));
        }
        if self.max_in_flight > Semaphore::MAX_PERMITS {
            return Err(invalid(
                "max_in_flight",
                "is larger than a semaphore can hold",
            ));
        }
        if self.inbox_capacity == 0 {
            return Err(invalid("inbox_capacity", "must not be zero"));
        }
        if self.inbox_capacity > Semaphore::MAX_PERMITS {
            return Err(invalid(
                "inbox_capacity",
                "is larger than a channel can hold",
            ));
        }
        if self.max_channels == 0 {
            return Err(invalid("max_channels", "must not be zero"));
        }
        if self.request_timeout.is_zero() {
            return Err(invalid("request_timeout", "must not be zero"));
        }
        if self.send_timeout.is_zero() {
            return Err(invalid("send_timeout", "must not be zero"));
        }
        Gateway::start(Config {
            target,
            max_in_flight: self.max_in_flight,
            inbox_capacity: self.inbox_capacity,
            max_channels: self.max_channels,
            request_timeout: self.request_timeout,
            send_timeout: self.send_timeout,
            limits: self.limits,
        })
    }
}

fn invalid(setting: &'static str, reason: &'static str) -> GatewayError {
    GatewayError::InvalidConfig { setting, reason }
}

impl fmt::Debug for GatewayBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let target = match &self.target {
            None => "none",
            Some(Target::Handler(_)) => "handler",
            Some(Target::Router(_)) => "router",
        };
        f.debug_struct("GatewayBuilder")
            .field("target", &target)
            .field("max_in_flight", &self.max_in_flight)
            .field("inbox_capacity", &self.inbox_capacity)
            .field("max_channels", &self.max_channels)
            .field("request_timeout", &self.request_timeout)
            .field("send_timeout", &self.send_timeout)
            .field("limits", &self.limits)
            .finish()
    }
}
