//! The outcome of one dispatch: [`DispatchResult`], its [`DispatchStatus`] and
//! [`ErrorCode`].

use std::{fmt, time::Duration};

use switchyard_core::Message;

use super::MessageCategory;

/// How a dispatch ended. The predicates have exactly the semantics of the design this comes
/// from: see each one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DispatchStatus {
    /// Routed, dispatched, and every dispatcher succeeded.
    Success,
    /// Routed to a dispatcher, execution pending (the only non-terminal status).
    Routed,
    /// No dispatcher matches the topic, category and type.
    NoDispatcher,
    /// A dispatcher failed.
    DispatcherError,
    /// A dispatcher ran past its timeout.
    Timeout,
    /// The message or its topic failed validation before dispatch.
    InvalidMessage,
    /// Dispatchers succeeded but publishing their outputs failed.
    PublishFailed,
    /// Intentionally not processed (filtered, deduplicated).
    Skipped,
}

impl DispatchStatus {
    /// Every status but [`Routed`](Self::Routed).
    pub fn is_terminal(self) -> bool {
        self != DispatchStatus::Routed
    }

    /// Only [`Success`](Self::Success).
    pub fn is_successful(self) -> bool {
        self == DispatchStatus::Success
    }

    /// [`NoDispatcher`](Self::NoDispatcher), [`DispatcherError`](Self::DispatcherError),
    /// [`Timeout`](Self::Timeout), [`InvalidMessage`](Self::InvalidMessage) and
    /// [`PublishFailed`](Self::PublishFailed).
    pub fn is_error(self) -> bool {
        matches!(
            self,
            DispatchStatus::NoDispatcher
                | DispatchStatus::DispatcherError
                | DispatchStatus::Timeout
                | DispatchStatus::InvalidMessage
                | DispatchStatus::PublishFailed
        )
    }

    /// The transient failures: [`Timeout`](Self::Timeout) and
    /// [`PublishFailed`](Self::PublishFailed).
    pub fn requires_retry(self) -> bool {
        matches!(
            self,
            DispatchStatus::Timeout | DispatchStatus::PublishFailed
        )
    }

    /// The status as a lowercase `snake_case` label, for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            DispatchStatus::Success => "success",
            DispatchStatus::Routed => "routed",
            DispatchStatus::NoDispatcher => "no_dispatcher",
            DispatchStatus::DispatcherError => "dispatcher_error",
            DispatchStatus::Timeout => "timeout",
            DispatchStatus::InvalidMessage => "invalid_message",
            DispatchStatus::PublishFailed => "publish_failed",
            DispatchStatus::Skipped => "skipped",
        }
    }
}

impl fmt::Display for DispatchStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A machine-readable reason for a failed dispatch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// The topic does not follow the convention of the engine's topic parser.
    UnparsableTopic,
    /// No dispatcher matches.
    NoDispatcher,
    /// A dispatcher returned an error.
    DispatcherFailed,
    /// A dispatcher panicked.
    DispatcherPanicked,
    /// A dispatcher timed out.
    DispatcherTimeout,
    /// A blocking dispatcher was not started because the engine's limit of blocking runs
    /// outstanding was reached (see
    /// [`with_max_blocking_runs`](super::DispatchEngine::with_max_blocking_runs)); the
    /// dispatch's status is then the transient [`DispatchStatus::Timeout`] unless another
    /// dispatcher failed otherwise.
    TooManyBlockingRuns,
}

/// Everything about one dispatch.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DispatchResult {
    /// A new id for this dispatch (UUIDv7, the same generator as message ids).
    pub dispatch_id: String,
    /// How it ended.
    pub status: DispatchStatus,
    /// The topic it was dispatched on.
    pub topic: String,
    /// The category parsed from the topic, if it parsed.
    pub category: Option<MessageCategory>,
    /// The message's `type`, if it has one.
    pub message_type: Option<String>,
    /// How long it took.
    pub duration: Duration,
    /// The messages that the dispatchers returned, in dispatcher order.
    pub outputs: Vec<Message>,
    /// `outputs.len()`.
    pub output_count: usize,
    /// Every failure, redacted, joined with `; `.
    pub error_message: Option<String>,
    /// The reason of the first failure.
    pub error_code: Option<ErrorCode>,
    /// The message's `correlationid`.
    pub correlation_id: Option<String>,
    /// The trace id from the message's W3C `traceparent` attribute.
    pub trace_id: Option<String>,
}
