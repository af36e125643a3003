//! `CircuitOpenError`: a call refused by an open (or fully probing) circuit breaker.

use std::time::Duration;

use switchyard_core::Error;

use super::CircuitState;

/// A call that the [`CircuitBreaker`](super::CircuitBreaker) refused without running the
/// handler.
///
/// It travels as the source of a *transient* [`Error::Handler`]: the circuit will let calls
/// through again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("circuit breaker `{breaker}` is {state}: call refused")]
pub struct CircuitOpenError {
    breaker: String,
    state: CircuitState,
    retry_after: Option<Duration>,
}

impl CircuitOpenError {
    pub(super) fn open(breaker: &str, retry_after: Duration) -> Self {
        Self {
            breaker: breaker.to_owned(),
            state: CircuitState::Open,
            retry_after: Some(retry_after),
        }
    }

    pub(super) fn probing(breaker: &str) -> Self {
        Self {
            breaker: breaker.to_owned(),
            state: CircuitState::HalfOpen,
            retry_after: None,
        }
    }

    /// The breaker's name.
    pub fn breaker(&self) -> &str {
        &self.breaker
    }

    /// The state that refused the call: [`CircuitState::Open`], or
    /// [`CircuitState::HalfOpen`] when every probe was already out.
    pub fn state(&self) -> CircuitState {
        self.state
    }

    /// When open, how long until the cool-down ends and probes are let through.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }
}

impl From<CircuitOpenError> for Error {
    fn from(err: CircuitOpenError) -> Self {
        Error::transient_handler(err)
    }
}
