//! The endpoint module's errors: configuration, registration, delivery and lifecycle.

use std::{fmt, sync::Arc, time::Duration};

use switchyard_core::redact;
use switchyard_routing::pattern::PatternError;

/// The longest piece of outside text (a topic, a route, an id) that an error keeps, in bytes.
/// Outside text can be arbitrarily long; an error message should not be.
const MAX_ECHO: usize = 256;

/// Cuts `text` to at most [`MAX_ECHO`] bytes on a char boundary, for keeping in an error.
pub(crate) fn echo(text: &str) -> String {
    let mut end = text.len().min(MAX_ECHO);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// A setting of [`EndpointConfigBuilder`](super::EndpointConfigBuilder) was rejected by
/// [`build`](super::EndpointConfigBuilder::build).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A setting that must be positive is zero.
    #[error("`{setting}` must not be zero")]
    Zero {
        /// The setting's name, as the builder method spells it.
        setting: &'static str,
    },

    /// A setting is outside its valid range.
    #[error("`{setting}` {reason}")]
    OutOfRange {
        /// The setting's name, as the builder method spells it.
        setting: &'static str,
        /// The rule it breaks.
        reason: &'static str,
    },
}

/// Why [`register`](super::EndpointRegistry::register) or
/// [`deregister`](super::EndpointRegistry::deregister) failed. The registry is unchanged.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// An endpoint with this id is already registered.
    #[error("endpoint `{}` is already registered", redact(id))]
    DuplicateId {
        /// The id, cut to a bounded length.
        id: String,
    },

    /// No endpoint with this id is registered.
    #[error("no endpoint `{}` is registered", redact(id))]
    UnknownId {
        /// The id, cut to a bounded length.
        id: String,
    },

    /// The id is empty, too long or holds control characters.
    #[error("invalid endpoint id: {reason}")]
    InvalidId {
        /// The rule it breaks.
        reason: &'static str,
    },

    /// The route is not a valid topic pattern.
    #[error("invalid route {}", redact(route))]
    InvalidRoute {
        /// The route, cut to a bounded length.
        route: String,
        /// What the pattern parser rejected, and where.
        source: PatternError,
    },

    /// The registry already holds [`max_endpoints`](super::EndpointConfig::max_endpoints).
    #[error("the endpoint registry is full: it holds at most {max} endpoints")]
    Full {
        /// The limit.
        max: usize,
    },

    /// The registry was [shut down](super::EndpointRegistry::shutdown).
    #[error("the endpoint registry is shut down")]
    Closed,
}

/// Why one endpoint was passed over without being called.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Refusal {
    /// Its last health check failed or timed out.
    Unhealthy,
    /// Its circuit is open: the cool-down ends in `retry_after`.
    CircuitOpen {
        /// How long until the circuit lets trial calls through.
        retry_after: Duration,
    },
    /// Its circuit is half-open and every trial call is already out.
    CircuitHalfOpen,
}

impl Refusal {
    /// A short, fixed name: `unhealthy`, `circuit_open` or `circuit_half_open`, as the
    /// `reason` metrics label spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Unhealthy => "unhealthy",
            Refusal::CircuitOpen { .. } => "circuit_open",
            Refusal::CircuitHalfOpen => "circuit_half_open",
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Unhealthy => f.write_str("unhealthy"),
            Refusal::CircuitOpen { retry_after } => {
                write!(f, "circuit open, retry in {retry_after:?}")
            }
            Refusal::CircuitHalfOpen => f.write_str("circuit half-open, every trial call out"),
        }
    }
}

/// An endpoint that a delivery passed over, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EndpointRefusal {
    /// The endpoint's id.
    pub endpoint: Arc<str>,
    /// Its priority.
    pub priority: u32,
    /// Why it was not called.
    pub reason: Refusal,
}

impl fmt::Display for EndpointRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` ({})", redact(&self.endpoint), self.reason)
    }
}

/// Why a delivery through the [`EndpointRegistry`](super::EndpointRegistry) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EndpointError {
    /// No registered endpoint's route matches the topic.
    #[error("no endpoint serves topic {}", redact(topic))]
    NoEndpoint {
        /// The topic, cut to a bounded length.
        topic: String,
    },

    /// Endpoints match the topic, but every one is unhealthy or behind an open circuit;
    /// none was called.
    #[error(
        "no endpoint available for topic {}: {}",
        redact(topic),
        RefusalList(refusals)
    )]
    Unavailable {
        /// The topic, cut to a bounded length.
        topic: String,
        /// Every matching endpoint, best first, and why it was passed over.
        refusals: Vec<EndpointRefusal>,
    },

    /// No endpoint has this id (for [`deliver_to`](super::EndpointRegistry::deliver_to)).
    #[error("no endpoint `{}` is registered", redact(endpoint))]
    UnknownEndpoint {
        /// The id, cut to a bounded length.
        endpoint: String,
    },

    /// The endpoint named by [`deliver_to`](super::EndpointRegistry::deliver_to) is
    /// unhealthy or behind an open circuit; it was not called.
    #[error("endpoint {refusal} refused the delivery")]
    Refused {
        /// The endpoint and the reason.
        refusal: EndpointRefusal,
    },

    /// `max_concurrent_deliveries` deliveries were running for the whole acquire timeout.
    #[error("{limit} deliveries already running; waited {waited:?} for a slot")]
    Saturated {
        /// The configured `max_concurrent_deliveries`.
        limit: usize,
        /// How long the delivery waited.
        waited: Duration,
    },

    /// The chosen endpoint's handler returned an error.
    #[error("endpoint `{}` failed: {}", redact(endpoint), source.report())]
    Handler {
        /// The endpoint's id.
        endpoint: Arc<str>,
        /// The handler's error.
        source: switchyard_core::Error,
    },

    /// The chosen endpoint's handler did not answer before the caller's deadline (a
    /// request's timeout). It counts as a failure of the endpoint, so that a hanging
    /// endpoint opens its circuit like a failing one.
    #[error("endpoint `{}` did not answer in time", redact(endpoint))]
    TimedOut {
        /// The endpoint's id.
        endpoint: Arc<str>,
    },

    /// The registry was [shut down](super::EndpointRegistry::shutdown).
    #[error("the endpoint registry is shut down")]
    Closed,
}

impl EndpointError {
    /// Whether delivering again later may succeed: an unavailable, refused or saturated
    /// delivery may, as may a transient handler error. A missing endpoint, a permanent
    /// handler error and a shut-down registry will not.
    pub fn is_transient(&self) -> bool {
        match self {
            EndpointError::Unavailable { .. }
            | EndpointError::Refused { .. }
            | EndpointError::Saturated { .. }
            | EndpointError::TimedOut { .. } => true,
            EndpointError::Handler { source, .. } => source.is_transient(),
            EndpointError::NoEndpoint { .. }
            | EndpointError::UnknownEndpoint { .. }
            | EndpointError::Closed => false,
        }
    }
}

impl From<EndpointError> for switchyard_core::Error {
    /// Maps to the core error: a missing endpoint is an unknown destination, the handler's
    /// error is passed through as it is, a shut-down registry is closed, and the rest are
    /// transient handler errors wrapping the endpoint error.
    fn from(err: EndpointError) -> Self {
        match err {
            EndpointError::NoEndpoint { topic } => {
                switchyard_core::Error::UnknownDestination { destination: topic }
            }
            EndpointError::UnknownEndpoint { endpoint } => {
                switchyard_core::Error::UnknownDestination {
                    destination: endpoint,
                }
            }
            EndpointError::Handler { source, .. } => source,
            EndpointError::Closed => switchyard_core::Error::Closed {
                component: "endpoint registry",
            },
            other => switchyard_core::Error::transient_handler(other),
        }
    }
}

/// Displays a list of refusals, at most a few of them.
struct RefusalList<'a>(&'a [EndpointRefusal]);

impl fmt::Display for RefusalList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A topic can match thousands of endpoints: keep the message short.
        const SHOWN: usize = 8;
        for (at, refusal) in self.0.iter().take(SHOWN).enumerate() {
            if at > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{refusal}")?;
        }
        if self.0.len() > SHOWN {
            write!(f, " and {} more", self.0.len() - SHOWN)?;
        }
        Ok(())
    }
}

/// Why [`start_health_monitor`](super::EndpointRegistry::start_health_monitor) did not
/// start the monitor.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MonitorError {
    /// The monitor is already running.
    #[error("the health monitor is already running")]
    AlreadyRunning,
    /// The registry was shut down.
    #[error("the endpoint registry is shut down")]
    Closed,
    /// Not called from within a tokio runtime.
    #[error("the health monitor needs a tokio runtime")]
    NoRuntime,
}

/// [`shutdown`](super::EndpointRegistry::shutdown) gave up waiting for the health monitor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the health monitor did not stop within {after:?}")]
pub struct ShutdownTimedOut {
    /// The timeout that passed.
    pub after: Duration,
}
