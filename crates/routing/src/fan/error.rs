//! The errors of the fan module: [`BuildError`] for invalid configuration, [`FanOutError`]
//! for a message that [`FanOut::route`](super::FanOut::route) could not deliver.

use std::{sync::Arc, time::Duration};

use switchyard_core::{Message, redact};

use super::DeadLetterReason;

/// A [`FanIn`](super::FanIn) or [`FanOut`](super::FanOut) configuration that `build()`
/// rejects.
///
/// Names and prefixes come from configuration, which can carry credentials (a prefix such
/// as `amqp://user:password@host/`): they are redacted with [`switchyard_core::redact`],
/// then cut to a bounded length, before they are stored here, so that an error shows no
/// credential and stays small even when built from a runaway value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// An input or output name is empty.
    #[error("{what} name must not be empty")]
    EmptyName {
        /// `"input"` or `"output"`.
        what: &'static str,
    },

    /// Two inputs of a [`FanIn`](super::FanIn) have the same name.
    #[error("duplicate input name {name:?}")]
    DuplicateInput {
        /// The repeated name.
        name: String,
    },

    /// Two outputs of a [`FanOut`](super::FanOut) (the loop and the dead letter included)
    /// have the same name.
    #[error("duplicate output name {name:?}")]
    DuplicateOutput {
        /// The repeated name.
        name: String,
    },

    /// An output was given a buffer of zero: every output is a bounded queue of at least
    /// one message.
    #[error("output {output:?} has a zero buffer; the smallest buffer is 1")]
    ZeroBuffer {
        /// The output.
        output: String,
    },

    /// An output was given a buffer over [`Output::MAX_BUFFER`](super::Output::MAX_BUFFER).
    #[error("output {output:?} has a buffer of {buffer}, over the maximum of {max}")]
    BufferTooLarge {
        /// The output.
        output: String,
        /// The buffer asked for.
        buffer: usize,
        /// The largest buffer accepted.
        max: usize,
    },

    /// An output was given [`SlowConsumerPolicy::BlockFor`](super::SlowConsumerPolicy)
    /// with a zero timeout; use [`SlowConsumerPolicy::Fail`](super::SlowConsumerPolicy)
    /// to fail at once.
    #[error("output {output:?} blocks for a zero timeout; use the Fail policy instead")]
    ZeroTimeout {
        /// The output.
        output: String,
    },

    /// A route prefix is empty. A catch-all is what the dead-letter output is for.
    #[error("output {output:?} has an empty destination prefix")]
    EmptyPrefix {
        /// The output.
        output: String,
    },

    /// Two routes have the same prefix, so neither would win deterministically.
    #[error("destination prefix {prefix:?} is registered for both {first:?} and {second:?}")]
    DuplicatePrefix {
        /// The prefix.
        prefix: String,
        /// The output that registered it first.
        first: String,
        /// The output that registered it again.
        second: String,
    },

    /// A route prefix starts with the loop scheme: every destination it matches goes to the
    /// loop, so the route could never be taken.
    #[error("destination prefix {prefix:?} of output {output:?} is inside the loop scheme")]
    ReservedPrefix {
        /// The prefix.
        prefix: String,
        /// The output.
        output: String,
    },

    /// The loop scheme is empty.
    #[error("the loop scheme must not be empty")]
    EmptyLoopScheme,

    /// An output overflows into the dead letter
    /// ([`SlowConsumerPolicy::DeadLetter`](super::SlowConsumerPolicy)) but there is no
    /// dead-letter output, or it is the dead-letter output itself.
    #[error("output {output:?} overflows into the dead letter, which {problem}")]
    InvalidOverflow {
        /// The output.
        output: String,
        /// What is wrong: no dead-letter output, or the output is the dead letter.
        problem: &'static str,
    },
}

/// Longest name or prefix kept in a [`BuildError`].
const MAX_SHOWN: usize = 128;

/// Redacts configuration text, then cuts it to a bounded length, for an error. In this
/// order: a cut could split a credential from the context (the `@` of a URL's userinfo)
/// that redaction recognises it by.
pub(crate) fn shown(text: &str) -> String {
    redact(text).chars().take(MAX_SHOWN).collect()
}

/// A message that [`FanOut::route`](super::FanOut::route) could not deliver. Every variant
/// carries the message back, as tokio's `TrySendError` does, so that nothing is dropped
/// silently: take it with [`into_message`](Self::into_message) and nack, retry or
/// dead-letter it.
///
/// The error's text names the output and the reason, never the message's contents or its
/// destination.
///
/// A message refused by a full or closed dead-letter output already carries the
/// [`DEAD_LETTER_REASON`](super::DEAD_LETTER_REASON) attribute; one refused as
/// [`Unroutable`](Self::Unroutable) does not.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FanOutError {
    /// No route matched and no dead-letter output is configured.
    #[error("message is unroutable ({reason}) and no dead-letter output is configured")]
    Unroutable {
        /// Why no route matched.
        reason: DeadLetterReason,
        /// The message.
        message: Message,
    },

    /// The output is full and its policy is [`SlowConsumerPolicy::Fail`](super::SlowConsumerPolicy).
    #[error("output `{output}` is full")]
    Full {
        /// The output.
        output: Arc<str>,
        /// The message.
        message: Message,
    },

    /// The output stayed full for the whole timeout of
    /// [`SlowConsumerPolicy::BlockFor`](super::SlowConsumerPolicy).
    #[error("output `{output}` stayed full for {after:?}")]
    Timeout {
        /// The output.
        output: Arc<str>,
        /// The timeout that passed.
        after: Duration,
        /// The message.
        message: Message,
    },

    /// The output's receiver is gone.
    #[error("output `{output}` is closed")]
    Closed {
        /// The output.
        output: Arc<str>,
        /// The message.
        message: Message,
    },
}

impl FanOutError {
    /// The message that was not delivered.
    pub fn message(&self) -> &Message {
        match self {
            FanOutError::Unroutable { message, .. }
            | FanOutError::Full { message, .. }
            | FanOutError::Timeout { message, .. }
            | FanOutError::Closed { message, .. } => message,
        }
    }

    /// Takes the message back.
    pub fn into_message(self) -> Message {
        match self {
            FanOutError::Unroutable { message, .. }
            | FanOutError::Full { message, .. }
            | FanOutError::Timeout { message, .. }
            | FanOutError::Closed { message, .. } => message,
        }
    }

    /// The output that refused the message; `None` when no output was chosen.
    pub fn output(&self) -> Option<&str> {
        match self {
            FanOutError::Unroutable { .. } => None,
            FanOutError::Full { output, .. }
            | FanOutError::Timeout { output, .. }
            | FanOutError::Closed { output, .. } => Some(output),
        }
    }

    /// Whether routing the same message again later may succeed: a full output may drain,
    /// a closed output or a missing route will not come back by themselves.
    pub fn is_transient(&self) -> bool {
        match self {
            FanOutError::Full { .. } | FanOutError::Timeout { .. } => true,
            FanOutError::Unroutable { .. } | FanOutError::Closed { .. } => false,
        }
    }

    /// Splits the error into `switchyard-core`'s [`Error`](switchyard_core::Error), for
    /// hooks and reports that speak it, and the message.
    ///
    /// The mapping keeps [`is_transient`](Self::is_transient): `Full` becomes
    /// `QueueFull`, `Timeout` becomes `Timeout`, `Closed` becomes `Closed`, and
    /// `Unroutable` becomes `UnknownDestination` with the destination redacted when shown.
    pub fn into_parts(self) -> (switchyard_core::Error, Message) {
        use switchyard_core::Error;
        match self {
            FanOutError::Unroutable { message, .. } => {
                let destination = message
                    .attributes()
                    .destination()
                    .unwrap_or_default()
                    .to_owned();
                (Error::UnknownDestination { destination }, message)
            }
            FanOutError::Full { output, message } => (
                Error::QueueFull {
                    queue: output.to_string(),
                },
                message,
            ),
            FanOutError::Timeout { after, message, .. } => (
                Error::Timeout {
                    operation: "fan-out send",
                    after,
                },
                message,
            ),
            FanOutError::Closed { message, .. } => (
                Error::Closed {
                    component: "fan-out output",
                },
                message,
            ),
        }
    }
}
