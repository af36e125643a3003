//! `PanicError`: a handler panic, recovered.

use std::any::Any;

use switchyard_core::{Error, redact};

use crate::middleware::truncate;

/// The longest panic message kept, in bytes; the rest is cut.
pub const MAX_PANIC_MESSAGE: usize = 512;

/// A panic in a handler, caught by the [`Recoverer`](super::Recoverer).
///
/// The panic message is [redacted](switchyard_core::redact) and cut to
/// [`MAX_PANIC_MESSAGE`] bytes. It travels as the source of a *permanent*
/// [`Error::Handler`]: a handler that panics on a message is likely to panic on it again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("handler panicked: {message}")]
pub struct PanicError {
    message: String,
}

impl PanicError {
    /// Builds the error from what `catch_unwind` returned.
    pub(super) fn from_payload(payload: &(dyn Any + Send)) -> Self {
        let raw = if let Some(text) = payload.downcast_ref::<&'static str>() {
            text
        } else if let Some(text) = payload.downcast_ref::<String>() {
            text.as_str()
        } else {
            "a panic payload that is not text"
        };
        let redacted = redact(raw);
        Self {
            message: truncate(&redacted, MAX_PANIC_MESSAGE).to_owned(),
        }
    }

    /// The panic message, redacted and bounded.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl From<PanicError> for Error {
    fn from(err: PanicError) -> Self {
        Error::permanent_handler(err)
    }
}
