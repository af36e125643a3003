//! [`CircuitMachine`]: the circuit breaker as a pure state machine, asked before each call
//! and told how it ended. [`CircuitBreakerLayer`](super::CircuitBreakerLayer) wraps it
//! around a handler; a caller that must choose before calling (the bus's endpoint registry,
//! which fails over to the next endpoint) uses it directly.
//!
//! It is pure: the caller passes the current [`Instant`] (tokio's, so that a paused clock
//! drives the cool-down and the time window in tests) and holds it behind its own lock.

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use switchyard_core::deadline::deadline;
use tokio::time::Instant;

use super::{
    CircuitState,
    policy::{CircuitPolicy, RateRule},
    window::{FailureWindow, RecentCalls},
};

/// The proof that a call was admitted, handed back with its outcome to
/// [`CircuitMachine::record`] of the machine that issued it (a ticket of another machine is
/// ignored there).
///
/// # Correctness
///
/// Every ticket must reach `record`, with [`CallOutcome::Abandoned`] for a call that was
/// cancelled: a half-open circuit counts its trial calls by their tickets, and one that is
/// never recorded keeps its trial slot for good. A caller whose call can be cancelled holds
/// the ticket in a guard whose `Drop` records `Abandoned`, as the circuit-breaker
/// middleware does.
#[derive(Debug)]
#[must_use = "an admitted call's outcome must be recorded, or a trial slot stays taken"]
pub struct Ticket {
    machine: u64,
    generation: u64,
}

/// How an admitted call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CallOutcome {
    /// The call succeeded, or failed in a way that does not count against the circuit.
    Success,
    /// The call failed.
    Failure,
    /// The call was cancelled before it ended: neither a success nor a failure. A trial
    /// slot it held is given back.
    Abandoned,
}

/// Why [`CircuitMachine::admit`] refused a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Refusal {
    /// The circuit is open; its cool-down ends in `retry_after`.
    Open {
        /// How long until trial calls are let through.
        retry_after: Duration,
    },
    /// The circuit is half-open and every trial call is already out.
    ProbesTaken,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Closed,
    Open { until: Instant },
    HalfOpen { admitted: u32, succeeded: u32 },
}

/// What the failure rate is measured over.
#[derive(Debug)]
enum Rate {
    Calls {
        ratio: f64,
        recent: RecentCalls,
    },
    Time {
        ratio: f64,
        min_calls: u32,
        window: FailureWindow,
    },
}

/// One circuit: closed, open or half-open, with the rules of its [`CircuitPolicy`].
///
/// Ask [`admit`](Self::admit) before each call and hand its [`Ticket`] back to
/// [`record`](Self::record) with the outcome. An outcome recorded under an older state (a
/// slow call admitted before the circuit opened) is ignored, so it can neither close nor
/// reopen the circuit.
///
/// ```
/// use std::time::Duration;
///
/// use switchyard_routing::middleware::breaker::{
///     CallOutcome, CircuitMachine, CircuitPolicy, CircuitState, Refusal,
/// };
/// use tokio::time::Instant;
///
/// let policy = CircuitPolicy::builder()
///     .consecutive_failures(2)
///     .cool_down(Duration::from_secs(10))
///     .build()?;
/// let mut circuit = CircuitMachine::new(policy);
/// let now = Instant::now();
/// for _ in 0..2 {
///     let ticket = circuit.admit(now).expect("closed");
///     circuit.record(ticket, CallOutcome::Failure, now);
/// }
/// assert_eq!(circuit.state(now), CircuitState::Open);
/// assert_eq!(
///     circuit.admit(now + Duration::from_secs(4)).unwrap_err(),
///     Refusal::Open { retry_after: Duration::from_secs(6) },
/// );
/// assert_eq!(circuit.state(now + Duration::from_secs(10)), CircuitState::HalfOpen);
/// # Ok::<(), switchyard_routing::middleware::ConfigError>(())
/// ```
#[derive(Debug)]
pub struct CircuitMachine {
    /// Unique in the process, so that a ticket of another machine is told apart.
    id: u64,
    policy: CircuitPolicy,
    phase: Phase,
    /// Bumped on every transition. Outcomes of calls admitted under an older generation are
    /// ignored.
    generation: u64,
    consecutive_failures: u32,
    rate: Option<Rate>,
}

impl CircuitMachine {
    /// A closed circuit.
    pub fn new(policy: CircuitPolicy) -> Self {
        let rate = policy.rate.map(|rule| match rule {
            RateRule::OverCalls { ratio, calls } => Rate::Calls {
                ratio,
                recent: RecentCalls::new(calls),
            },
            RateRule::OverTime {
                ratio,
                span,
                min_calls,
            } => Rate::Time {
                ratio,
                min_calls,
                window: FailureWindow::new(span),
            },
        });
        static NEXT_ID: AtomicU64 = AtomicU64::new(0);
        Self {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            policy,
            phase: Phase::Closed,
            generation: 0,
            consecutive_failures: 0,
            rate,
        }
    }

    /// The policy it follows.
    pub fn policy(&self) -> CircuitPolicy {
        self.policy
    }

    /// The state as stored, without looking at the clock: an open circuit whose cool-down
    /// is over stays `Open` here until a call arrives.
    pub fn stored_state(&self) -> CircuitState {
        match self.phase {
            Phase::Closed => CircuitState::Closed,
            Phase::Open { .. } => CircuitState::Open,
            Phase::HalfOpen { .. } => CircuitState::HalfOpen,
        }
    }

    /// The state that a call arriving at `now` finds: an open circuit whose cool-down is
    /// over counts as half-open.
    pub fn state(&self, now: Instant) -> CircuitState {
        match self.phase {
            Phase::Open { until } if now >= until => CircuitState::HalfOpen,
            _ => self.stored_state(),
        }
    }

    /// Admits a call at `now`, or says why not. The ticket must be handed back to
    /// [`record`](Self::record) (see [`Ticket`]).
    ///
    /// # Errors
    ///
    /// [`Refusal::Open`] during the cool-down, and [`Refusal::ProbesTaken`] when half-open
    /// with every trial call out.
    pub fn admit(&mut self, now: Instant) -> Result<Ticket, Refusal> {
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
        let probes = self.policy.probes;
        match &mut self.phase {
            Phase::Closed => {}
            Phase::HalfOpen { admitted, .. } if *admitted < probes => *admitted += 1,
            // Half-open with every trial out; `Open` was left just above and is kept total
            // rather than asserted.
            Phase::HalfOpen { .. } | Phase::Open { .. } => return Err(Refusal::ProbesTaken),
        }
        Ok(Ticket {
            machine: self.id,
            generation: self.generation,
        })
    }

    /// Records how an admitted call ended, at `now`. A ticket issued under an earlier state,
    /// or by another machine, changes nothing.
    pub fn record(&mut self, ticket: Ticket, outcome: CallOutcome, now: Instant) {
        if ticket.machine != self.id || ticket.generation != self.generation {
            return;
        }
        match (&mut self.phase, outcome) {
            (Phase::Closed, CallOutcome::Success) => {
                self.consecutive_failures = 0;
                self.remember(false, now);
            }
            (Phase::Closed, CallOutcome::Failure) => {
                self.consecutive_failures = self.consecutive_failures.saturating_add(1);
                self.remember(true, now);
                if self.tripped(now) {
                    self.open(now);
                }
            }
            (Phase::HalfOpen { admitted, .. }, CallOutcome::Abandoned) => {
                // Give the trial slot back, or the circuit could stay half-open for good.
                *admitted = admitted.saturating_sub(1);
            }
            (Phase::HalfOpen { succeeded, .. }, CallOutcome::Success) => {
                *succeeded += 1;
                if *succeeded >= self.policy.probes {
                    self.enter(Phase::Closed);
                }
            }
            (Phase::HalfOpen { .. }, CallOutcome::Failure) => self.open(now),
            (Phase::Closed, CallOutcome::Abandoned) | (Phase::Open { .. }, _) => {}
        }
    }

    fn remember(&mut self, failed: bool, now: Instant) {
        match &mut self.rate {
            Some(Rate::Calls { recent, .. }) => recent.record(failed),
            Some(Rate::Time { window, .. }) => window.record(failed, now),
            None => {}
        }
    }

    /// Whether a rule holds, right after a failure.
    fn tripped(&mut self, now: Instant) -> bool {
        if self
            .policy
            .consecutive_failures
            .is_some_and(|threshold| self.consecutive_failures >= threshold)
        {
            return true;
        }
        let (ratio, calls, failures, needed) = match &mut self.rate {
            None => return false,
            Some(Rate::Calls { ratio, recent }) => {
                let (calls, failures) = recent.totals();
                // Judged over a full window only.
                (*ratio, calls, failures, recent.size())
            }
            Some(Rate::Time {
                ratio,
                min_calls,
                window,
            }) => {
                let (calls, failures) = window.totals(now);
                (*ratio, calls, failures, *min_calls)
            }
        };
        calls >= needed && f64::from(failures) >= ratio * f64::from(calls)
    }

    fn open(&mut self, now: Instant) {
        self.enter(Phase::Open {
            until: deadline(now, self.policy.cool_down),
        });
    }

    fn enter(&mut self, phase: Phase) {
        self.phase = phase;
        self.generation += 1;
        self.consecutive_failures = 0;
        match &mut self.rate {
            Some(Rate::Calls { recent, .. }) => recent.clear(),
            Some(Rate::Time { window, .. }) => window.clear(),
            None => {}
        }
    }
}

#[cfg(test)]
mod tests;
