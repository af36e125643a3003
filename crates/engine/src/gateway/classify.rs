//! Classification of errors into the user-facing categories that a gateway reply carries,
//! with a message that is safe to show to whoever sent the request.

use std::{error::Error as StdError, fmt};

use switchyard_core::{Error, redact, report};
use switchyard_routing::router::RouterError;

/// The longest user-facing error message, in characters. Error text can echo request input
/// of any size (an unknown type, a bad attribute), and a reply must stay bounded.
pub const MAX_USER_MESSAGE_CHARS: usize = 256;

/// How deep [`ErrorCategory::of`] looks into handler errors that wrap other Switchyard
/// errors. A bound, so that a pathological chain costs nothing.
const MAX_WRAP_DEPTH: usize = 8;

/// What kind of failure a request met, as the user sees it.
///
/// Each category has a fixed, stable name ([`as_str`](Self::as_str)) that travels in the
/// reply, so clients can branch on it.
///
/// ```
/// use std::time::Duration;
///
/// use switchyard_core::Error;
/// use switchyard_engine::gateway::ErrorCategory;
///
/// let timeout = Error::Timeout { operation: "handler", after: Duration::from_secs(1) };
/// assert_eq!(ErrorCategory::of(&timeout), ErrorCategory::Timeout);
/// assert_eq!(ErrorCategory::of(&Error::MissingAttribute { name: "type" }), ErrorCategory::BadRequest);
/// assert_eq!(ErrorCategory::Unavailable.as_str(), "unavailable");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCategory {
    /// The request itself is wrong (malformed, too large, unknown type): sending it again
    /// unchanged fails again.
    BadRequest,
    /// Something the request needs is temporarily unavailable (overloaded, shutting down,
    /// a transient dependency failure): trying again later may succeed.
    Unavailable,
    /// The request did not finish within its deadline.
    Timeout,
    /// Something went wrong on our side. The details are logged, never shown.
    Internal,
}

impl ErrorCategory {
    /// The category's stable name: `bad_request`, `unavailable`, `timeout` or `internal`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCategory::BadRequest => "bad_request",
            ErrorCategory::Unavailable => "unavailable",
            ErrorCategory::Timeout => "timeout",
            ErrorCategory::Internal => "internal",
        }
    }

    /// The category of a Switchyard error.
    ///
    /// Bad input (attribute names and values, missing attributes, sizes, undecodable
    /// payloads) is [`BadRequest`](Self::BadRequest); a timeout is
    /// [`Timeout`](Self::Timeout); a closed component and every other
    /// [transient](Error::is_transient) error are [`Unavailable`](Self::Unavailable);
    /// the rest is [`Internal`](Self::Internal). A handler error that wraps another
    /// Switchyard error (a handler that failed to decode its input) takes the category of
    /// the wrapped error.
    pub fn of(error: &Error) -> Self {
        Self::of_depth(error, 0)
    }

    fn of_depth(error: &Error, depth: usize) -> Self {
        match error {
            Error::InvalidAttributeName { .. }
            | Error::InvalidAttributeValue { .. }
            | Error::MissingAttribute { .. }
            | Error::TooLarge { .. }
            | Error::Decode { .. }
            | Error::UnsupportedContentType { .. } => ErrorCategory::BadRequest,
            Error::Timeout { .. } => ErrorCategory::Timeout,
            Error::Closed { .. } => ErrorCategory::Unavailable,
            Error::Handler { source, .. } if depth < MAX_WRAP_DEPTH => {
                match wrapped(source.as_ref()) {
                    Some(inner) => Self::of_depth(inner, depth + 1),
                    None => Self::by_transience(error),
                }
            }
            _ => Self::by_transience(error),
        }
    }

    fn by_transience(error: &Error) -> Self {
        if error.is_transient() {
            ErrorCategory::Unavailable
        } else {
            ErrorCategory::Internal
        }
    }

    /// The category of a [`Router`](switchyard_routing::router::Router) error: a message
    /// without a type, or with a type that no handler takes, is a bad request; a handler
    /// failure is classified by [`of`](Self::of).
    pub fn of_router(error: &RouterError) -> Self {
        match error {
            RouterError::MissingType { .. } | RouterError::NoHandler { .. } => {
                ErrorCategory::BadRequest
            }
            RouterError::Handler { source, .. } => Self::of(source),
            // Registration errors cannot happen once a router is built; treat anything new
            // as ours to fix.
            _ => ErrorCategory::Internal,
        }
    }

    /// The fixed text shown for this category when the error's own text must not be.
    pub fn generic_message(self) -> &'static str {
        match self {
            ErrorCategory::BadRequest => "the request is invalid",
            ErrorCategory::Unavailable => "the service is temporarily unavailable, try again later",
            ErrorCategory::Timeout => "the request timed out",
            ErrorCategory::Internal => "internal error",
        }
    }
}

impl fmt::Display for ErrorCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The Switchyard error that a handler error wraps, if it wraps one directly.
fn wrapped<'a>(source: &'a (dyn StdError + Send + Sync + 'static)) -> Option<&'a Error> {
    source.downcast_ref::<Error>()
}

/// An error as the user sees it: a [category](ErrorCategory) and a message that is safe to
/// show.
///
/// For a [`BadRequest`](ErrorCategory::BadRequest) the message explains what is wrong with
/// the request, passed through [`redact`] and cut to [`MAX_USER_MESSAGE_CHARS`]: it only
/// describes what the user sent. For every other category it is the category's
/// [generic message](ErrorCategory::generic_message): internals stay in the logs.
///
/// ```
/// use switchyard_core::Error;
/// use switchyard_engine::gateway::{ErrorCategory, UserError};
///
/// let leaky = Error::permanent_handler("db at postgres://app:hunter2@db failed");
/// let shown = UserError::from_error(&leaky);
/// assert_eq!(shown.category(), ErrorCategory::Internal);
/// assert_eq!(shown.message(), "internal error");
///
/// let bad = UserError::from_error(&Error::MissingAttribute { name: "type" });
/// assert_eq!(bad.category(), ErrorCategory::BadRequest);
/// assert_eq!(bad.message(), "missing required attribute `type`");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserError {
    category: ErrorCategory,
    message: String,
}

impl UserError {
    /// A bad request, explained by `detail` (which is redacted and bounded).
    pub fn bad_request(detail: &str) -> Self {
        Self {
            category: ErrorCategory::BadRequest,
            message: bounded(&redact(detail)),
        }
    }

    /// An error of `category` with a fixed message. Only a `'static` text is accepted, so
    /// that no outside text reaches the user unredacted.
    pub fn new(category: ErrorCategory, message: &'static str) -> Self {
        Self {
            category,
            message: message.to_owned(),
        }
    }

    /// An error of `category` with its generic message.
    pub fn generic(category: ErrorCategory) -> Self {
        Self {
            category,
            message: category.generic_message().to_owned(),
        }
    }

    /// The user-facing form of a Switchyard error.
    pub fn from_error(error: &Error) -> Self {
        match ErrorCategory::of(error) {
            ErrorCategory::BadRequest => Self::bad_request(&detail(error, 0)),
            other => Self::generic(other),
        }
    }

    /// The user-facing form of a router error.
    pub fn from_router_error(error: &RouterError) -> Self {
        match (ErrorCategory::of_router(error), error) {
            (ErrorCategory::BadRequest, RouterError::Handler { source, .. }) => {
                Self::bad_request(&detail(source, 0))
            }
            (ErrorCategory::BadRequest, RouterError::MissingType { .. }) => {
                Self::bad_request("the message has no `type` attribute")
            }
            (ErrorCategory::BadRequest, other) => Self::bad_request(&other.to_string()),
            (category, _) => Self::generic(category),
        }
    }

    /// The category.
    pub fn category(&self) -> ErrorCategory {
        self.category
    }

    /// The message, safe to show to the user.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for UserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.category, self.message)
    }
}

/// What a bad request's user is told: the error's own text, without the Rust type names and
/// wrapper prefixes that only mean something to us.
fn detail(error: &Error, depth: usize) -> String {
    match error {
        Error::Decode { source, .. } => format!("cannot decode payload: {source}"),
        Error::Handler { source, .. } if depth < MAX_WRAP_DEPTH => match wrapped(source.as_ref()) {
            Some(inner) => detail(inner, depth + 1),
            None => report(error),
        },
        other => report(other),
    }
}

fn bounded(text: &str) -> String {
    match text.char_indices().nth(MAX_USER_MESSAGE_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests;
