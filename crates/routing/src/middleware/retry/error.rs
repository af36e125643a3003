//! `RetryError`: how a retried handler failed for good, and after how many attempts.

use std::{error::Error as StdError, fmt, time::Duration};

use switchyard_core::Error;

/// The failure of a handler wrapped in [`Retry`](super::Retry): the last error and the
/// number of attempts it took.
///
/// It travels as the source of an [`Error::Handler`] that keeps the last error's
/// [transience](Error::is_transient): retries being spent does not change whether a later
/// redelivery may succeed. Read it back with [`RetryError::find`].
#[derive(Debug, thiserror::Error)]
#[error("gave up after {attempts} attempt(s): {reason}")]
pub struct RetryError {
    attempts: u32,
    reason: GiveUp,
    elapsed: Duration,
    #[source]
    last: Error,
}

/// Why [`Retry`](super::Retry) stopped trying.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GiveUp {
    /// The last error is not one that is retried.
    NotRetryable,
    /// Every attempt was used.
    AttemptsExhausted,
    /// The next retry would have started past the elapsed-time budget.
    ElapsedExhausted,
}

impl fmt::Display for GiveUp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            GiveUp::NotRetryable => "the error is not retried",
            GiveUp::AttemptsExhausted => "no attempt left",
            GiveUp::ElapsedExhausted => "out of time",
        })
    }
}

impl RetryError {
    pub(super) fn new(attempts: u32, reason: GiveUp, elapsed: Duration, last: Error) -> Self {
        Self {
            attempts,
            reason,
            elapsed,
            last,
        }
    }

    /// How many times the handler ran.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Why the retries stopped.
    pub fn reason(&self) -> GiveUp {
        self.reason
    }

    /// The time from the first attempt to the end of the last one, on tokio's clock.
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }

    /// The error of the last attempt.
    pub fn last_error(&self) -> &Error {
        &self.last
    }

    /// Takes the error of the last attempt.
    pub fn into_last_error(self) -> Error {
        self.last
    }

    /// The outermost `RetryError` in `err`'s source chain, if a retry layer produced it.
    pub fn find<'a>(err: &'a (dyn StdError + 'static)) -> Option<&'a RetryError> {
        let mut next = Some(err);
        while let Some(level) = next {
            if let Some(found) = level.downcast_ref::<RetryError>() {
                return Some(found);
            }
            next = level.source();
        }
        None
    }

    /// The attempt count recorded in `err`, if a retry layer produced it.
    pub fn attempts_of(err: &Error) -> Option<u32> {
        Self::find(err).map(RetryError::attempts)
    }
}

impl From<RetryError> for Error {
    fn from(err: RetryError) -> Self {
        Error::Handler {
            transient: err.last.is_transient(),
            source: Box::new(err),
        }
    }
}
