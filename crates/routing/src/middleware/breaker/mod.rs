//! Circuit breaker: after repeated failures, stop calling the handler for a cool-down and
//! fail fast with a transient [`CircuitOpenError`]; then let a few probe calls decide
//! whether it has recovered.
//!
//! [`CircuitBreakerLayer`] wraps handlers. Its rules live in [`CircuitMachine`], a pure
//! state machine that is public too, for callers that must ask before they call: the bus's
//! endpoint registry asks it to fail over to another endpoint without calling this one.

mod error;
mod layer;
mod machine;
mod policy;
mod state;
mod window;

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicU64, Ordering},
};

use async_trait::async_trait;
use switchyard_core::{Error, Handler, Message, Result};
use tokio::time::Instant;

pub use self::{
    error::CircuitOpenError,
    layer::{CircuitBreakerLayer, CircuitBreakerLayerBuilder},
    machine::{CallOutcome, CircuitMachine, Refusal, Ticket},
    policy::{CircuitPolicy, CircuitPolicyBuilder},
    state::CircuitState,
};
use crate::middleware::{ErrorFilter, lock};

/// A handler behind a circuit breaker; made by [`CircuitBreakerLayer`].
#[derive(Clone, Debug)]
pub struct CircuitBreaker<H> {
    inner: H,
    shared: Arc<Shared>,
}

impl<H> CircuitBreaker<H> {
    /// The wrapped handler.
    pub fn get_ref(&self) -> &H {
        &self.inner
    }

    /// The state that a call arriving now would find.
    pub fn state(&self) -> CircuitState {
        self.shared.state()
    }
}

#[async_trait]
impl<H: Handler> Handler for CircuitBreaker<H> {
    async fn handle(&self, message: &Message) -> Result<Vec<Message>> {
        let ticket = self.shared.admit()?;
        let call = Call {
            shared: &self.shared,
            ticket: Some(ticket),
        };
        let result = self.inner.handle(message).await;
        call.finish(match &result {
            Err(err) if self.shared.is_failure(err) => CallOutcome::Failure,
            // An error the breaker does not count means the handler did answer.
            _ => CallOutcome::Success,
        });
        result
    }
}

/// The breaker, shared by every handler that one layer wraps.
pub(super) struct Shared {
    name: String,
    machine: Mutex<CircuitMachine>,
    failure_if: Option<ErrorFilter>,
    rejected: AtomicU64,
}

impl Shared {
    fn new(name: String, machine: CircuitMachine, failure_if: Option<ErrorFilter>) -> Self {
        metrics::gauge!("switchyard_middleware_circuit_state", "breaker" => name.clone())
            .set(CircuitState::Closed.gauge());
        Self {
            name,
            machine: Mutex::new(machine),
            failure_if,
            rejected: AtomicU64::new(0),
        }
    }

    fn state(&self) -> CircuitState {
        lock(&self.machine).state(Instant::now())
    }

    fn rejected(&self) -> u64 {
        self.rejected.load(Ordering::Relaxed)
    }

    fn is_failure(&self, err: &Error) -> bool {
        self.failure_if
            .as_ref()
            .is_none_or(|predicate| predicate(err))
    }

    fn admit(&self) -> Result<Ticket, CircuitOpenError> {
        let admitted = self.transition(|machine, now| machine.admit(now));
        admitted.map_err(|refusal| {
            self.rejected.fetch_add(1, Ordering::Relaxed);
            metrics::counter!("switchyard_middleware_circuit_rejections_total", "breaker" => self.name.clone())
                .increment(1);
            match refusal {
                Refusal::Open { retry_after } => CircuitOpenError::open(&self.name, retry_after),
                Refusal::ProbesTaken => CircuitOpenError::probing(&self.name),
            }
        })
    }

    fn record(&self, ticket: Ticket, outcome: CallOutcome) {
        self.transition(|machine, now| machine.record(ticket, outcome, now));
    }

    /// Runs `step` on the machine under the lock, and reports a change of state.
    fn transition<T>(&self, step: impl FnOnce(&mut CircuitMachine, Instant) -> T) -> T {
        let (from, to, out) = {
            let mut machine = lock(&self.machine);
            let from = machine.stored_state();
            let out = step(&mut machine, Instant::now());
            (from, machine.stored_state(), out)
        };
        if from != to {
            metrics::gauge!("switchyard_middleware_circuit_state", "breaker" => self.name.clone())
                .set(to.gauge());
            tracing::info!(breaker = %self.name, %from, %to, "circuit breaker changed state");
        }
        out
    }
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("name", &self.name)
            .field("machine", &self.machine)
            .field("custom_failure_if", &self.failure_if.is_some())
            .field("rejected", &self.rejected)
            .finish()
    }
}

/// An admitted call. Dropped without [`finish`](Call::finish), it was cancelled (its probe
/// slot, if any, is given back) or it is unwinding from a panic (a failure).
struct Call<'a> {
    shared: &'a Shared,
    ticket: Option<Ticket>,
}

impl Call<'_> {
    fn finish(mut self, outcome: CallOutcome) {
        if let Some(ticket) = self.ticket.take() {
            self.shared.record(ticket, outcome);
        }
    }
}

impl Drop for Call<'_> {
    fn drop(&mut self) {
        if let Some(ticket) = self.ticket.take() {
            let outcome = if std::thread::panicking() {
                CallOutcome::Failure
            } else {
                CallOutcome::Abandoned
            };
            self.shared.record(ticket, outcome);
        }
    }
}
