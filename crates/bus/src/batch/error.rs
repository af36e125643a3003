//! The batch module's errors: [`BatchConfigError`] for configuration, and how one batch's
//! failure is handed to every caller of that batch ([`SharedError`]).
//!
//! See the [module documentation](super) for what each copy of a batch's error keeps.

use std::{error::Error as StdError, fmt, sync::Arc, time::Duration};

use switchyard_core::{Error, LimitedField};

/// A [`BatchConfig`](super::BatchConfig) setting that `build()` rejected.
///
/// Messages name the setting and never carry outside text.
///
/// ```
/// use switchyard_bus::batch::{BatchConfig, BatchConfigError};
///
/// let err = BatchConfig::builder().max_pending(0).build().unwrap_err();
/// assert_eq!(err, BatchConfigError::Zero { setting: "max_pending" });
/// assert_eq!(err.to_string(), "`max_pending` must not be zero");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BatchConfigError {
    /// A count or a duration that must be positive is zero.
    #[error("`{setting}` must not be zero")]
    Zero {
        /// The setting, as its builder method is named.
        setting: &'static str,
    },

    /// A setting is outside its valid range.
    #[error("`{setting}` {reason}")]
    OutOfRange {
        /// The setting, as its builder method is named.
        setting: &'static str,
        /// What the valid range is.
        reason: &'static str,
    },
}

/// The source of an error that the [`BatchingPublisher`](super::BatchingPublisher) handed
/// to several callers: one failure of the inner publisher, shared.
///
/// It displays as the error it wraps, and its [`source`](StdError::source) is that error's
/// source, so the chain reads as the original did. Reach the original with
/// [`get`](Self::get) or [`downcast_ref`](Self::downcast_ref).
///
/// ```
/// use std::error::Error as _;
/// use switchyard_bus::batch::SharedError;
///
/// let shared = SharedError::new(std::io::Error::other("broker gone"));
/// assert_eq!(shared.to_string(), "broker gone");
/// assert!(shared.downcast_ref::<std::io::Error>().is_some());
/// assert!(shared.source().is_none());
/// ```
#[derive(Clone)]
pub struct SharedError(Arc<dyn StdError + Send + Sync + 'static>);

impl SharedError {
    /// Wraps `error` to be shared.
    pub fn new(error: impl StdError + Send + Sync + 'static) -> Self {
        Self(Arc::new(error))
    }

    fn from_arc(error: Arc<dyn StdError + Send + Sync + 'static>) -> Self {
        Self(error)
    }

    /// The shared error.
    pub fn get(&self) -> &(dyn StdError + Send + Sync + 'static) {
        &*self.0
    }

    /// The shared error as a `T`, if it is one.
    pub fn downcast_ref<T: StdError + 'static>(&self) -> Option<&T> {
        self.0.downcast_ref()
    }
}

impl fmt::Debug for SharedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for SharedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.0, f)
    }
}

impl StdError for SharedError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.0.source()
    }
}

/// One [`Error`] taken apart so that any number of equivalent copies can be made; see the
/// module documentation for what each copy preserves.
#[derive(Debug, Clone)]
pub(super) struct ErrorTemplate(Template);

#[derive(Debug, Clone)]
enum Template {
    InvalidAttributeName {
        name: String,
        reason: &'static str,
    },
    InvalidAttributeValue {
        name: String,
        reason: &'static str,
    },
    MissingAttribute {
        name: &'static str,
    },
    TooLarge {
        field: LimitedField,
        size: usize,
        limit: usize,
    },
    UnsupportedContentType {
        content_type: String,
    },
    UnknownDestination {
        destination: String,
    },
    QueueFull {
        queue: String,
    },
    Closed {
        component: &'static str,
    },
    Timeout {
        operation: &'static str,
        after: Duration,
    },
    Transport {
        transient: bool,
        source: SharedError,
    },
    Handler {
        transient: bool,
        source: SharedError,
    },
    /// A variant whose fields cannot be copied: shared whole behind a transport error.
    Opaque {
        transient: bool,
        error: SharedError,
    },
}

impl ErrorTemplate {
    /// Takes `error` apart.
    pub(super) fn new(error: Error) -> Self {
        let transient = error.is_transient();
        Self(match error {
            Error::InvalidAttributeName { name, reason } => {
                Template::InvalidAttributeName { name, reason }
            }
            Error::InvalidAttributeValue { name, reason } => {
                Template::InvalidAttributeValue { name, reason }
            }
            Error::MissingAttribute { name } => Template::MissingAttribute { name },
            Error::TooLarge { field, size, limit } => Template::TooLarge { field, size, limit },
            Error::UnsupportedContentType { content_type } => {
                Template::UnsupportedContentType { content_type }
            }
            Error::UnknownDestination { destination } => {
                Template::UnknownDestination { destination }
            }
            Error::QueueFull { queue } => Template::QueueFull { queue },
            Error::Closed { component } => Template::Closed { component },
            Error::Timeout { operation, after } => Template::Timeout { operation, after },
            Error::Transport { transient, source } => Template::Transport {
                transient,
                source: SharedError::from_arc(Arc::from(source)),
            },
            Error::Handler { transient, source } => Template::Handler {
                transient,
                source: SharedError::from_arc(Arc::from(source)),
            },
            // `Encode` and `Decode` own a `serde_json::Error`, which cannot be copied, and
            // `Error` is non-exhaustive: share these whole.
            other => Template::Opaque {
                transient,
                error: SharedError::new(other),
            },
        })
    }

    /// A new copy of the error.
    pub(super) fn make(&self) -> Error {
        match &self.0 {
            Template::InvalidAttributeName { name, reason } => Error::InvalidAttributeName {
                name: name.clone(),
                reason,
            },
            Template::InvalidAttributeValue { name, reason } => Error::InvalidAttributeValue {
                name: name.clone(),
                reason,
            },
            Template::MissingAttribute { name } => Error::MissingAttribute { name },
            Template::TooLarge { field, size, limit } => Error::TooLarge {
                field: *field,
                size: *size,
                limit: *limit,
            },
            Template::UnsupportedContentType { content_type } => Error::UnsupportedContentType {
                content_type: content_type.clone(),
            },
            Template::UnknownDestination { destination } => Error::UnknownDestination {
                destination: destination.clone(),
            },
            Template::QueueFull { queue } => Error::QueueFull {
                queue: queue.clone(),
            },
            Template::Closed { component } => Error::Closed { component },
            Template::Timeout { operation, after } => Error::Timeout {
                operation,
                after: *after,
            },
            Template::Transport { transient, source } => Error::Transport {
                transient: *transient,
                source: Box::new(source.clone()),
            },
            Template::Handler { transient, source } => Error::Handler {
                transient: *transient,
                source: Box::new(source.clone()),
            },
            Template::Opaque { transient, error } => Error::Transport {
                transient: *transient,
                source: Box::new(error.clone()),
            },
        }
    }
}

/// Hands one result to every reply of a batch: the original error to a batch of one,
/// equivalent copies (see [`ErrorTemplate`]) to larger batches.
pub(super) fn fan_out<R>(
    result: Result<(), Error>,
    mut replies: impl ExactSizeIterator<Item = R>,
    mut send: impl FnMut(R, Result<(), Error>),
) {
    match result {
        Ok(()) => replies.for_each(|reply| send(reply, Ok(()))),
        Err(error) if replies.len() == 1 => {
            if let Some(reply) = replies.next() {
                send(reply, Err(error));
            }
        }
        Err(error) => {
            let template = ErrorTemplate::new(error);
            replies.for_each(|reply| send(reply, Err(template.make())));
        }
    }
}

#[cfg(test)]
mod tests;
