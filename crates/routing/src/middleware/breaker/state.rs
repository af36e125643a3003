//! [`CircuitState`]: where a circuit breaker stands.

use std::fmt;

/// Where a circuit breaker stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CircuitState {
    /// Calls go through; failures are counted.
    Closed,
    /// Calls are refused without reaching the handler until the cool-down ends.
    Open,
    /// The cool-down has ended: a limited number of probe calls go through; their success
    /// closes the circuit, a failure opens it again.
    HalfOpen,
}

impl CircuitState {
    /// The state's name: `closed`, `open` or `half-open`.
    pub fn as_str(self) -> &'static str {
        match self {
            CircuitState::Closed => "closed",
            CircuitState::Open => "open",
            CircuitState::HalfOpen => "half-open",
        }
    }

    /// The value of the `switchyard_middleware_circuit_state` gauge: 0 closed, 1 half-open,
    /// 2 open.
    pub(super) fn gauge(self) -> f64 {
        match self {
            CircuitState::Closed => 0.0,
            CircuitState::HalfOpen => 1.0,
            CircuitState::Open => 2.0,
        }
    }
}

impl fmt::Display for CircuitState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
