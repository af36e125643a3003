//! Errors of request/reply.

use std::time::Duration;

/// Why a request got no response, or a response could not be delivered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// No response arrived within the request's timeout. Transient: asking again may work.
    #[error("no response within {after:?}")]
    Timeout {
        /// The request's timeout.
        after: Duration,
    },

    /// Too many requests are waiting for a response; the limit bounds the pending map.
    #[error("too many requests awaiting a response (limit {limit})")]
    TooManyPending {
        /// The configured limit.
        limit: usize,
    },

    /// A response (or a message passed to `respond` as the request) has no `correlationid`.
    #[error("message {id} has no `correlationid`, so it cannot be matched to a request")]
    MissingCorrelationId {
        /// The message's id.
        id: String,
    },

    /// The bus was closed while the request waited, or before it was made.
    #[error("the bus is closed")]
    Closed,

    /// The request could not be delivered to a responder.
    #[error("the request could not be delivered")]
    Delivery(#[source] switchyard_core::Error),
}

impl RequestError {
    /// Whether asking again may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            RequestError::Timeout { .. } | RequestError::TooManyPending { .. } => true,
            RequestError::Delivery(source) => source.is_transient(),
            RequestError::MissingCorrelationId { .. } | RequestError::Closed => false,
        }
    }
}

impl From<RequestError> for switchyard_core::Error {
    fn from(error: RequestError) -> Self {
        match error {
            RequestError::Timeout { after } => switchyard_core::Error::Timeout {
                operation: "request",
                after,
            },
            RequestError::Closed => switchyard_core::Error::Closed { component: "bus" },
            RequestError::MissingCorrelationId { .. } => switchyard_core::Error::MissingAttribute {
                name: "correlationid",
            },
            RequestError::Delivery(source) => source,
            other @ RequestError::TooManyPending { .. } => {
                switchyard_core::Error::transient_transport(other)
            }
        }
    }
}
