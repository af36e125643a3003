//! `ThrottledError`: a call that would have waited too long for its turn.

use std::time::Duration;

use switchyard_core::Error;

/// A call refused by the [`Throttle`](super::Throttle) because its turn was further away
/// than the configured maximum wait.
///
/// It travels as the source of a *transient* [`Error::Handler`]: later, there is room.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("throttled: the next turn is {wait:?} away, over the {max_wait:?} limit")]
pub struct ThrottledError {
    wait: Duration,
    max_wait: Duration,
}

impl ThrottledError {
    pub(super) fn new(wait: Duration, max_wait: Duration) -> Self {
        Self { wait, max_wait }
    }

    /// How long the call would have had to wait.
    pub fn wait(&self) -> Duration {
        self.wait
    }

    /// The longest wait the throttle allows.
    pub fn max_wait(&self) -> Duration {
        self.max_wait
    }
}

impl From<ThrottledError> for Error {
    fn from(err: ThrottledError) -> Self {
        Error::transient_handler(err)
    }
}
