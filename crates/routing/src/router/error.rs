//! Errors of building and using a [`Router`](super::Router).

use crate::pattern::PatternError;

/// What can go wrong when registering handlers on a router or handling a message with it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RouterError {
    /// Two handlers were registered for the same exact message type, or the same pattern.
    #[error("a handler for message type `{message_type}` is already registered")]
    DuplicateType {
        /// The message type.
        message_type: String,
    },

    /// A handler's type pattern is invalid.
    #[error("invalid message type pattern")]
    InvalidPattern(#[from] PatternError),

    /// The message has no `type` attribute.
    #[error("message {id} has no `type` attribute")]
    MissingType {
        /// The message's id.
        id: String,
    },

    /// No handler matches the message's type: the caller dead-letters it.
    #[error("no handler for message type `{message_type}`")]
    NoHandler {
        /// The unmatched type.
        message_type: String,
    },

    /// The handler failed; its error says whether a retry may help.
    #[error("handler for `{message_type}` failed")]
    Handler {
        /// The type whose handler failed.
        message_type: String,
        /// The handler's error.
        source: switchyard_core::Error,
    },
}

impl RouterError {
    /// Whether handling the same message again may succeed: only a transient handler error.
    pub fn is_transient(&self) -> bool {
        matches!(self, RouterError::Handler { source, .. } if source.is_transient())
    }
}
