//! The circuit breaker's state machine: closed, open, half-open, and the rules between them.
//!
//! It is pure: the caller passes the current [`Instant`] (tokio's, so that a paused clock
//! drives the cool-down in tests) and the outcome of each call it admitted.

use std::{collections::VecDeque, fmt, time::Duration};

use tokio::time::Instant;

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

/// When a closed circuit opens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Trip {
    /// After this many failures in a row.
    Consecutive(u32),
    /// When at least `ratio` of the last `window` calls failed, judged after each failure
    /// once `window` calls were made since the circuit closed.
    Ratio { ratio: f64, window: u32 },
}

/// The validated settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Settings {
    pub(super) trip: Trip,
    pub(super) cool_down: Duration,
    pub(super) probes: u32,
}

/// The proof that a call was admitted, to hand back with its outcome.
#[derive(Debug)]
pub(super) struct Ticket {
    generation: u64,
}

/// How an admitted call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Outcome {
    Success,
    Failure,
    /// Cancelled before it ended: neither a success nor a failure.
    Abandoned,
}

/// Why a call was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refusal {
    /// Open: the cool-down ends in this long.
    Open { retry_after: Duration },
    /// Half-open, and every probe is already out.
    ProbesTaken,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Closed,
    Open { until: Instant },
    HalfOpen { admitted: u32, succeeded: u32 },
}

/// The breaker's state and counters.
#[derive(Debug)]
pub(super) struct Machine {
    settings: Settings,
    phase: Phase,
    /// Bumped on every transition; outcomes of calls admitted under an older generation
    /// are ignored, so a slow call from before the circuit opened cannot close it.
    generation: u64,
    consecutive_failures: u32,
    /// The last outcomes while closed (true = failure), for [`Trip::Ratio`] only.
    recent: VecDeque<bool>,
    recent_failures: u32,
}

impl Machine {
    pub(super) fn new(settings: Settings) -> Self {
        Self {
            settings,
            phase: Phase::Closed,
            generation: 0,
            consecutive_failures: 0,
            recent: VecDeque::new(),
            recent_failures: 0,
        }
    }

    /// The state as stored, without looking at the clock.
    pub(super) fn stored_state(&self) -> CircuitState {
        match self.phase {
            Phase::Closed => CircuitState::Closed,
            Phase::Open { .. } => CircuitState::Open,
            Phase::HalfOpen { .. } => CircuitState::HalfOpen,
        }
    }

    /// The state that a call arriving at `now` finds: an open circuit whose cool-down is
    /// over counts as half-open.
    pub(super) fn state(&self, now: Instant) -> CircuitState {
        match self.phase {
            Phase::Open { until } if now >= until => CircuitState::HalfOpen,
            _ => self.stored_state(),
        }
    }

    /// Admits a call at `now`, or says why not.
    pub(super) fn admit(&mut self, now: Instant) -> Result<Ticket, Refusal> {
        if let Phase::Open { until } = self.phase {
            if now < until {
                return Err(Refusal::Open {
                    retry_after: until - now,
                });
            }
            self.enter(Phase::HalfOpen {
                admitted: 0,
                succeeded: 0,
            });
        }
        let probes = self.settings.probes;
        match &mut self.phase {
            Phase::Closed => {}
            Phase::HalfOpen { admitted, .. } if *admitted < probes => *admitted += 1,
            Phase::HalfOpen { .. } => return Err(Refusal::ProbesTaken),
            // Left just above; kept total rather than asserted.
            Phase::Open { .. } => return Err(Refusal::ProbesTaken),
        }
        Ok(Ticket {
            generation: self.generation,
        })
    }

    /// Records how an admitted call ended, at `now`.
    pub(super) fn record(&mut self, ticket: Ticket, outcome: Outcome, now: Instant) {
        if ticket.generation != self.generation {
            return;
        }
        match (&mut self.phase, outcome) {
            (Phase::Closed, Outcome::Success) => {
                self.consecutive_failures = 0;
                self.remember(false);
            }
            (Phase::Closed, Outcome::Failure) => {
                self.consecutive_failures = self.consecutive_failures.saturating_add(1);
                self.remember(true);
                if self.tripped() {
                    self.open(now);
                }
            }
            (Phase::HalfOpen { admitted, .. }, Outcome::Abandoned) => {
                // Give the probe back, or the circuit could stay half-open for good.
                *admitted = admitted.saturating_sub(1);
            }
            (Phase::HalfOpen { succeeded, .. }, Outcome::Success) => {
                *succeeded += 1;
                if *succeeded >= self.settings.probes {
                    self.enter(Phase::Closed);
                }
            }
            (Phase::HalfOpen { .. }, Outcome::Failure) => self.open(now),
            (Phase::Closed, Outcome::Abandoned) | (Phase::Open { .. }, _) => {}
        }
    }

    fn remember(&mut self, failed: bool) {
        let Trip::Ratio { window, .. } = self.settings.trip else {
            return;
        };
        if self.recent.len() >= window as usize
            && let Some(true) = self.recent.pop_front()
        {
            self.recent_failures -= 1;
        }
        self.recent.push_back(failed);
        self.recent_failures += u32::from(failed);
    }

    fn tripped(&self) -> bool {
        match self.settings.trip {
            Trip::Consecutive(threshold) => self.consecutive_failures >= threshold,
            Trip::Ratio { ratio, window } => {
                self.recent.len() >= window as usize
                    && f64::from(self.recent_failures) >= ratio * f64::from(window)
            }
        }
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
        self.recent.clear();
        self.recent_failures = 0;
    }
}

#[cfg(test)]
mod tests;
