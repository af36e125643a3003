//! The one error type of `switchyard-core`, and its transient/permanent classification.

use std::{error::Error as StdError, fmt, time::Duration};

use crate::redact::redact;

/// A boxed error from outside Switchyard: a transport client, a handler, a codec.
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// A `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in `switchyard-core` and in the traits it defines.
///
/// Every message is safe to log: values that come from outside (transport errors, handler
/// errors, decode errors) are passed through [`redact`] before they are displayed. The
/// wrapped source, reachable through [`std::error::Error::source`], is kept as it was so
/// that it can be downcast; render a whole chain with [`Error::report`], which redacts every
/// level.
///
/// [`Error::is_transient`] tells whether trying the same thing again may succeed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An attribute name breaks the CloudEvents naming rules.
    #[error("invalid attribute name {name:?}: {reason}")]
    InvalidAttributeName {
        /// The rejected name, cut to a bounded length.
        name: String,
        /// Which rule it breaks.
        reason: &'static str,
    },

    /// An attribute value is not valid for its attribute.
    #[error("invalid value for attribute `{name}`: {reason}")]
    InvalidAttributeValue {
        /// The attribute.
        name: String,
        /// Why the value is rejected.
        reason: &'static str,
    },

    /// A required attribute is absent.
    #[error("missing required attribute `{name}`")]
    MissingAttribute {
        /// The attribute.
        name: &'static str,
    },

    /// A message part is larger than the configured [`Limits`](crate::Limits) allow.
    #[error("{field} is {size} bytes, over the limit of {limit} bytes")]
    TooLarge {
        /// The part that is too large.
        field: LimitedField,
        /// Its size in bytes.
        size: usize,
        /// The configured limit in bytes.
        limit: usize,
    },

    /// A value could not be serialized into a payload.
    #[error("cannot encode payload as JSON")]
    Encode(#[source] serde_json::Error),

    /// A payload could not be decoded into the requested type.
    #[error("cannot decode payload into `{target}`: {}", redact(&json_error_text(source)))]
    Decode {
        /// The Rust type that was asked for.
        target: &'static str,
        /// The decoder's error.
        source: serde_json::Error,
    },

    /// The payload's `datacontenttype` is not one that the decoder understands.
    #[error("cannot decode content type {:?} as JSON", redact(content_type))]
    UnsupportedContentType {
        /// The message's `datacontenttype`.
        content_type: String,
    },

    /// No route, publisher or endpoint is known for a destination.
    #[error("unknown destination {}", redact(destination))]
    UnknownDestination {
        /// The destination that matched nothing.
        destination: String,
    },

    /// A bounded queue is full and its policy is to fail rather than wait.
    #[error("queue `{queue}` is full")]
    QueueFull {
        /// The queue's name.
        queue: String,
    },

    /// The component has been closed and takes no more work.
    #[error("{component} is closed")]
    Closed {
        /// The closed component.
        component: &'static str,
    },

    /// An operation did not finish within its deadline.
    #[error("{operation} timed out after {after:?}")]
    Timeout {
        /// What timed out.
        operation: &'static str,
        /// The deadline that passed.
        after: Duration,
    },

    /// A transport (broker client, connection, codec) failed.
    #[error("transport error: {}", redact(&source.to_string()))]
    Transport {
        /// Whether retrying may succeed (a dropped connection) or not (an authorization
        /// failure).
        transient: bool,
        /// The transport's own error.
        source: BoxError,
    },

    /// A handler failed to process a message.
    #[error("handler error: {}", redact(&source.to_string()))]
    Handler {
        /// Whether retrying may succeed.
        transient: bool,
        /// The handler's own error.
        source: BoxError,
    },
}

/// The message part that a [`Error::TooLarge`] names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LimitedField {
    /// The payload bytes.
    Payload,
    /// The attributes: the sum of every name's and value's length.
    Attributes,
}

impl fmt::Display for LimitedField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LimitedField::Payload => "payload",
            LimitedField::Attributes => "attributes",
        })
    }
}

impl Error {
    /// A transport failure that is worth retrying, such as a lost connection.
    pub fn transient_transport(source: impl Into<BoxError>) -> Self {
        Error::Transport {
            transient: true,
            source: source.into(),
        }
    }

    /// A transport failure that retrying will not fix, such as a rejected credential.
    pub fn permanent_transport(source: impl Into<BoxError>) -> Self {
        Error::Transport {
            transient: false,
            source: source.into(),
        }
    }

    /// A handler failure that is worth retrying.
    pub fn transient_handler(source: impl Into<BoxError>) -> Self {
        Error::Handler {
            transient: true,
            source: source.into(),
        }
    }

    /// A handler failure that retrying will not fix: the message should be dead-lettered.
    pub fn permanent_handler(source: impl Into<BoxError>) -> Self {
        Error::Handler {
            transient: false,
            source: source.into(),
        }
    }

    /// Whether trying the same operation again may succeed.
    ///
    /// Timeouts and full queues are transient; bad input (names, sizes, payloads) and closed
    /// components are permanent. Transport and handler errors say which they are.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Timeout { .. } | Error::QueueFull { .. } => true,
            Error::Transport { transient, .. } | Error::Handler { transient, .. } => *transient,
            Error::InvalidAttributeName { .. }
            | Error::InvalidAttributeValue { .. }
            | Error::MissingAttribute { .. }
            | Error::TooLarge { .. }
            | Error::Encode(_)
            | Error::Decode { .. }
            | Error::UnsupportedContentType { .. }
            | Error::UnknownDestination { .. }
            | Error::Closed { .. } => false,
        }
    }

    /// The whole error chain on one line, `outer: cause: root cause`, with every level
    /// passed through [`redact`]. Use this, not the raw chain, in logs and stored errors.
    pub fn report(&self) -> String {
        report(self)
    }
}

/// Renders any error and its `source()` chain on one line, redacting every level.
///
/// Levels whose text is already contained in the level above (as
/// [`Error::Transport`] displays its source) are not repeated.
pub fn report(error: &(dyn StdError + 'static)) -> String {
    let mut out = redact(&error.to_string()).into_owned();
    let mut next = error.source();
    while let Some(cause) = next {
        // A JSON decoder's error quotes the input it could not use: shown as
        // [`Error::Decode`] shows it.
        let raw = match cause.downcast_ref::<serde_json::Error>() {
            Some(json) => json_error_text(json),
            None => cause.to_string(),
        };
        let text = redact(&raw);
        if !out.ends_with(&*text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        next = cause.source();
    }
    out
}

/// The longest text of a JSON decoder's error that is shown, before where it broke.
const MAX_JSON_ERROR_LEN: usize = 200;

/// How serde writes a value of the input into an error, and how that value ends.
#[derive(Clone, Copy)]
enum Quoting {
    /// `string "…"`: a Rust string literal, whose quotes inside are escaped.
    Escaped,
    /// `` unknown variant `…`, expected … ``: the raw value, which may hold a backtick, up
    /// to the text that follows it.
    Raw,
    /// `` integer `…` ``: a number, up to the next backtick.
    Number,
    /// `` character `…` ``: one character.
    Char,
}

/// The places where serde's messages put a value of the input.
const VALUES: [(&str, Quoting); 6] = [
    ("string \"", Quoting::Escaped),
    ("unknown variant `", Quoting::Raw),
    ("unknown field `", Quoting::Raw),
    ("integer `", Quoting::Number),
    ("floating point `", Quoting::Number),
    ("character `", Quoting::Char),
];

/// A `serde_json` error as Switchyard shows it. The decoder quotes the payload's values
/// that it could not use (`invalid type: string "hunter2", expected u64`, ``unknown variant
/// `hunter2` ``), with no key by which [`redact`] could recognise a secret, and of any
/// length: each such value is elided (`string "…"`), and the message is cut to a bounded
/// length. What was expected, and where the decoder broke (`at line 1 column 22`), stay.
fn json_error_text(error: &serde_json::Error) -> String {
    let full = error.to_string();
    let location = if error.line() > 0 {
        format!(" at line {} column {}", error.line(), error.column())
    } else {
        String::new()
    };
    let message = full.strip_suffix(&location).unwrap_or(&full);
    let mut out = elide_values(message);
    if out.len() > MAX_JSON_ERROR_LEN {
        let mut cut = MAX_JSON_ERROR_LEN;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push('…');
    }
    out.push_str(&location);
    out
}

/// `message` with every value of the input that serde wrote into it replaced by `…`.
fn elide_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(MAX_JSON_ERROR_LEN + 16));
    let mut rest = message;
    while let Some((at, opener, quoting)) = VALUES
        .iter()
        .filter_map(|&(opener, quoting)| rest.find(opener).map(|at| (at, opener, quoting)))
        .min_by_key(|&(at, ..)| at)
    {
        out.push_str(&rest[..at + opener.len()]);
        rest = &rest[at + opener.len()..];
        // Where the value ends: its closing quote or backtick stays, as the rest does.
        let end = match quoting {
            Quoting::Escaped => {
                let mut escaped = false;
                rest.char_indices()
                    .find(|&(_, c)| {
                        let closes = c == '"' && !escaped;
                        escaped = c == '\\' && !escaped;
                        closes
                    })
                    .map_or(rest.len(), |(at, _)| at)
            }
            Quoting::Raw => ["`, expected ", "`, there are no "]
                .iter()
                .filter_map(|after| rest.find(after))
                .min()
                .unwrap_or(rest.len()),
            Quoting::Number => rest.find('`').unwrap_or(rest.len()),
            Quoting::Char => rest.chars().next().map_or(0, char::len_utf8),
        };
        out.push('…');
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests;
