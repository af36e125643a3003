//! The errors of the pub/sub that `switchyard_core::Error` has no variant for: invalid
//! configuration, and topics that cannot be subscribed to or published on.

use switchyard_core::Error;
use switchyard_routing::pattern::PatternError;

/// A [`PubSubConfig`](super::PubSubConfig) or [`SubscribeOptions`](super::SubscribeOptions)
/// value that `build()` rejects.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A size, count or duration that must be positive is zero.
    #[error("`{field}` must not be zero")]
    Zero {
        /// The setting.
        field: &'static str,
    },

    /// A setting is out of its range, or inconsistent with another one.
    #[error("`{field}` is invalid: {reason}")]
    Invalid {
        /// The setting.
        field: &'static str,
        /// Why it is rejected.
        reason: &'static str,
    },
}

/// A topic that the pub/sub rejects. It reaches callers wrapped in a permanent
/// [`Error::Transport`], since `switchyard_core::Error` has no variant for it; downcast the
/// source to tell the cases apart.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TopicError {
    /// The topic or pattern given to `subscribe` does not parse.
    #[error("invalid topic pattern")]
    InvalidPattern(#[source] PatternError),

    /// A published topic is longer than [`MAX_TOPIC_LEN`](super::MAX_TOPIC_LEN), which keeps
    /// topics usable as keys of the bounded replay rings.
    #[error("topic is {len} bytes, over the limit of {max} bytes")]
    TooLong {
        /// The topic's length in bytes.
        len: usize,
        /// The limit in bytes.
        max: usize,
    },
}

impl From<TopicError> for Error {
    fn from(error: TopicError) -> Self {
        Error::permanent_transport(error)
    }
}
