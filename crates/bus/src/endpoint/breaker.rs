//! The per-endpoint circuit breaker: a pure state machine that the registry asks before
//! each call ("may I call?") and tells after it ("it failed").
//!
//! `switchyard-routing` has a breaker too, but only as a handler wrapper: admission happens
//! inside the wrapped call, and a refusal comes back as an opaque `switchyard_core::Error`,
//! so a caller cannot ask first and fail over to another endpoint without calling. It also
//! opens on *either* a consecutive-failure count *or* a failure ratio, not both, and its
//! ratio window counts calls rather than time. The registry needs all three, so it has this
//! small machine; it reuses routing's public [`CircuitState`] so that both breakers speak
//! the same vocabulary.
//!
//! It is pure: the caller passes the current [`Instant`] (tokio's, so that a paused clock
//! drives the cool-down and the window in tests).

mod window;

use std::time::Duration;

use switchyard_routing::middleware::breaker::CircuitState;
use tokio::time::Instant;

use self::window::FailureWindow;
use super::error::Refusal;

/// The validated settings of every endpoint's breaker; see
/// [`EndpointConfigBuilder`](super::EndpointConfigBuilder).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct BreakerSettings {
    /// Opens after this many failures in a row.
    pub(crate) consecutive_failures: u32,
    /// Opens when at least this share of the calls in the window failed...
    pub(crate) failure_rate: f64,
    /// ...over the calls that ended within this long...
    pub(crate) window: Duration,
    /// ...once at least this many calls ended in the window.
    pub(crate) min_calls: u32,
    /// How long the circuit stays open.
    pub(crate) cool_down: Duration,
    /// How many trial calls half-open lets through; that many successes close it.
    pub(crate) trial_calls: u32,
}

/// The proof that a call was admitted, handed back with its outcome.
#[derive(Debug)]
pub(crate) struct Ticket {
    generation: u64,
}

/// How an admitted call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Success,
    Failure,
    /// Cancelled before it ended: neither a success nor a failure.
    Abandoned,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Closed,
    Open { until: Instant },
    HalfOpen { admitted: u32, succeeded: u32 },
}

/// One endpoint's breaker.
#[derive(Debug)]
pub(crate) struct Breaker {
    settings: BreakerSettings,
    phase: Phase,
    /// Bumped on every transition. Outcomes of calls admitted under an older generation are
    /// ignored, so that a slow call from before the circuit opened cannot close it.
    generation: u64,
    consecutive_failures: u32,
    window: FailureWindow,
}

impl Breaker {
    pub(crate) fn new(settings: BreakerSettings) -> Self {
        Self {
            settings,
            phase: Phase::Closed,
            generation: 0,
            consecutive_failures: 0,
            window: FailureWindow::new(settings.window),
        }
    }

    /// The state as stored, without looking at the clock: an open circuit whose cool-down
    /// is over stays `Open` here until a call arrives.
    pub(crate) fn stored_state(&self) -> CircuitState {
        match self.phase {
            Phase::Closed => CircuitState::Closed,
            Phase::Open { .. } => CircuitState::Open,
            Phase::HalfOpen { .. } => CircuitState::HalfOpen,
        }
    }

    /// The state that a call arriving at `now` finds: an open circuit whose cool-down is
    /// over counts as half-open.
    pub(crate) fn state(&self, now: Instant) -> CircuitState {
        match self.phase {
            Phase::Open { until } if now >= until => CircuitState::HalfOpen,
            _ => self.stored_state(),
        }
    }

    /// Admits a call at `now`, or says why not.
    pub(crate) fn try_admit(&mut self, now: Instant) -> Result<Ticket, Refusal> {
        if let Phase::Open { until } = self.phase {
            if now < until {
                return Err(Refusal::CircuitOpen {
                    retry_after: until - now,
                });
            }
            self.enter(Phase::HalfOpen {
                admitted: 0,
                succeeded: 0,
            });
        }
        let trial_calls = self.settings.trial_calls;
        match &mut self.phase {
            Phase::Closed => {}
            Phase::HalfOpen { admitted, .. } if *admitted < trial_calls => *admitted += 1,
            // Half-open with every trial out; `Open` was left just above and is kept total
            // rather than asserted.
            Phase::HalfOpen { .. } | Phase::Open { .. } => return Err(Refusal::CircuitHalfOpen),
        }
        Ok(Ticket {
            generation: self.generation,
        })
    }

    /// Records how an admitted call ended, at `now`.
    pub(crate) fn record(&mut self, ticket: Ticket, outcome: Outcome, now: Instant) {
        if ticket.generation != self.generation {
            return;
        }
        match (&mut self.phase, outcome) {
            (Phase::Closed, Outcome::Success) => {
                self.consecutive_failures = 0;
                self.window.record(false, now);
            }
            (Phase::Closed, Outcome::Failure) => {
                self.consecutive_failures = self.consecutive_failures.saturating_add(1);
                self.window.record(true, now);
                if self.tripped(now) {
                    self.open(now);
                }
            }
            (Phase::HalfOpen { admitted, .. }, Outcome::Abandoned) => {
                // Give the trial slot back, or the circuit could stay half-open for good.
                *admitted = admitted.saturating_sub(1);
            }
            (Phase::HalfOpen { succeeded, .. }, Outcome::Success) => {
                *succeeded += 1;
                if *succeeded >= self.settings.trial_calls {
                    self.enter(Phase::Closed);
                }
            }
            (Phase::HalfOpen { .. }, Outcome::Failure) => self.open(now),
            (Phase::Closed, Outcome::Abandoned) | (Phase::Open { .. }, _) => {}
        }
    }

    fn tripped(&mut self, now: Instant) -> bool {
        if self.consecutive_failures >= self.settings.consecutive_failures {
            return true;
        }
        let (calls, failures) = self.window.totals(now);
        calls >= self.settings.min_calls
            && f64::from(failures) >= self.settings.failure_rate * f64::from(calls)
    }

    fn open(&mut self, now: Instant) {
        self.enter(Phase::Open {
            until: now + self.settings.cool_down,
        });
    }

    fn enter(&mut self, phase: Phase) {
        self.phase = phase;
        self.generation += 1;
        self.consecutive_failures = 0;
        self.window.clear();
    }
}

#[cfg(test)]
mod tests;
