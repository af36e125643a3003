//! One registered endpoint's live state (health, breaker, counters) and the [`Admission`]
//! that a delivery holds while it calls the endpoint.

use std::{
    fmt,
    panic::AssertUnwindSafe,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
    },
};

use futures::FutureExt;
use switchyard_core::{Handler, Message};
use switchyard_routing::middleware::breaker::{
    self, CallOutcome, CircuitMachine, CircuitPolicy, CircuitState, Ticket,
};
use tokio::time::Instant;
use tracing::Instrument;

use super::{
    error::{EndpointError, EndpointRefusal, Refusal},
    health::HealthCheck,
    lock,
    snapshot::EndpointSnapshot,
    spec::Endpoint,
};

/// Admissions so far, in every registry of the process: the clock of
/// [`EndpointState::last_admitted`]. One counter for all, rather than one per tier, so that
/// tiers that share endpoints (routes that overlap) are spread fairly too.
static ADMISSIONS: AtomicU64 = AtomicU64::new(0);

/// A registered endpoint, shared by the registry's table and the deliveries under way.
pub(crate) struct EndpointState {
    pub(crate) id: Arc<str>,
    pub(crate) route: String,
    pub(crate) priority: u32,
    handler: Arc<dyn Handler>,
    pub(crate) health_check: Option<Arc<dyn HealthCheck>>,
    healthy: AtomicBool,
    /// Set by `deregister`: a delivery that found the endpoint in an older table passes it
    /// over.
    removed: AtomicBool,
    breaker: Mutex<CircuitMachine>,
    in_flight: AtomicUsize,
    /// When this endpoint was last admitted, as a number of [`ADMISSIONS`] (0: never):
    /// the least recently admitted endpoint of a tier is tried first.
    last_admitted: AtomicU64,
    deliveries: AtomicU64,
    failures: AtomicU64,
    refusals: AtomicU64,
    // Registered once, so that a delivery does not build label sets.
    succeeded_total: metrics::Counter,
    failed_total: metrics::Counter,
    /// By [`refusal_slot`].
    refused_total: [metrics::Counter; 3],
}

impl EndpointState {
    pub(crate) fn new(endpoint: Endpoint, policy: CircuitPolicy) -> Self {
        let id: Arc<str> = endpoint.id.into();
        let calls = |outcome: &'static str| {
            metrics::counter!(
                "switchyard_bus_endpoint_calls_total",
                "endpoint" => id.to_string(),
                "outcome" => outcome,
            )
        };
        let (succeeded_total, failed_total) = (calls("success"), calls("failure"));
        let refused = |reason: Refusal| {
            metrics::counter!(
                "switchyard_bus_endpoint_refusals_total",
                "endpoint" => id.to_string(),
                "reason" => reason.as_str(),
            )
        };
        let refused_total = [
            Refusal::Unhealthy,
            Refusal::CircuitOpen {
                retry_after: Default::default(),
            },
            Refusal::CircuitHalfOpen,
        ]
        .map(refused);
        metrics::gauge!("switchyard_bus_endpoint_healthy", "endpoint" => id.to_string()).set(1.0);
        set_circuit_gauge(&id, CircuitState::Closed);
        Self {
            route: endpoint.route,
            priority: endpoint.priority,
            handler: endpoint.handler,
            health_check: endpoint.health_check,
            // Healthy until a check says otherwise, so that an endpoint serves at once.
            healthy: AtomicBool::new(true),
            removed: AtomicBool::new(false),
            breaker: Mutex::new(CircuitMachine::new(policy)),
            in_flight: AtomicUsize::new(0),
            last_admitted: AtomicU64::new(0),
            deliveries: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            refusals: AtomicU64::new(0),
            succeeded_total,
            failed_total,
            refused_total,
            id,
        }
    }

    pub(crate) fn is_removed(&self) -> bool {
        self.removed.load(Ordering::Acquire)
    }

    pub(crate) fn mark_removed(&self) {
        self.removed.store(true, Ordering::Release);
    }

    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// When this endpoint was last admitted, in admissions counted process-wide; 0 if never.
    pub(crate) fn last_admitted(&self) -> u64 {
        self.last_admitted.load(Ordering::Relaxed)
    }

    /// Records a health check's verdict; returns whether it changed the endpoint's health.
    pub(crate) fn set_healthy(&self, healthy: bool) -> bool {
        let changed = self.healthy.swap(healthy, Ordering::AcqRel) != healthy;
        if changed {
            metrics::gauge!("switchyard_bus_endpoint_healthy", "endpoint" => self.id.to_string())
                .set(if healthy { 1.0 } else { 0.0 });
        }
        changed
    }

    /// Lets a delivery call this endpoint now, or says why not. Counts a refusal.
    pub(crate) fn try_admit(self: &Arc<Self>, now: Instant) -> Result<Admission, Refusal> {
        let admitted = if self.healthy.load(Ordering::Acquire) {
            self.breaker_step(|breaker| breaker.admit(now))
                .map_err(|refusal| match refusal {
                    breaker::Refusal::Open { retry_after } => Refusal::CircuitOpen { retry_after },
                    _ => Refusal::CircuitHalfOpen,
                })
        } else {
            Err(Refusal::Unhealthy)
        };
        match admitted {
            Ok(ticket) => {
                self.in_flight.fetch_add(1, Ordering::Relaxed);
                let now = ADMISSIONS.fetch_add(1, Ordering::Relaxed) + 1;
                self.last_admitted.store(now, Ordering::Relaxed);
                Ok(Admission {
                    endpoint: self.clone(),
                    ticket: Some(ticket),
                })
            }
            Err(refusal) => {
                self.refusals.fetch_add(1, Ordering::Relaxed);
                self.refused_total[refusal_slot(refusal)].increment(1);
                Err(refusal)
            }
        }
    }

    /// The refusal of this endpoint for `reason`, for an error or a report.
    pub(crate) fn refusal(&self, reason: Refusal) -> EndpointRefusal {
        EndpointRefusal {
            endpoint: self.id.clone(),
            priority: self.priority,
            reason,
        }
    }

    pub(crate) fn snapshot(&self, now: Instant) -> EndpointSnapshot {
        EndpointSnapshot {
            id: self.id.clone(),
            route: self.route.clone(),
            priority: self.priority,
            healthy: self.healthy.load(Ordering::Acquire),
            circuit: lock(&self.breaker).state(now),
            in_flight: self.in_flight(),
            deliveries: self.deliveries.load(Ordering::Relaxed),
            failures: self.failures.load(Ordering::Relaxed),
            refusals: self.refusals.load(Ordering::Relaxed),
        }
    }

    fn record(&self, ticket: Ticket, outcome: CallOutcome) {
        let now = Instant::now();
        self.breaker_step(|breaker| breaker.record(ticket, outcome, now));
    }

    /// Runs `step` on the breaker under its lock, and reports a change of state.
    fn breaker_step<T>(&self, step: impl FnOnce(&mut CircuitMachine) -> T) -> T {
        let (from, to, out) = {
            let mut breaker = lock(&self.breaker);
            let from = breaker.stored_state();
            let out = step(&mut breaker);
            (from, breaker.stored_state(), out)
        };
        if from != to {
            set_circuit_gauge(&self.id, to);
            if to == CircuitState::Open {
                tracing::warn!(endpoint = %self.id, %from, %to, "endpoint circuit changed state");
            } else {
                tracing::info!(endpoint = %self.id, %from, %to, "endpoint circuit changed state");
            }
        }
        out
    }
}

impl fmt::Debug for EndpointState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EndpointState")
            .field("id", &self.id)
            .field("route", &self.route)
            .field("priority", &self.priority)
            .field("healthy", &self.healthy)
            .field("in_flight", &self.in_flight)
            .finish_non_exhaustive()
    }
}

/// A delivery's hold on the endpoint chosen for it: counted in its in-flight number and, in
/// a half-open circuit, holding a trial slot. Dropped without [`call`](Self::call) (the
/// delivery was cancelled, or timed out waiting for a slot) it gives both back.
#[derive(Debug)]
pub(crate) struct Admission {
    endpoint: Arc<EndpointState>,
    ticket: Option<Ticket>,
}

impl Admission {
    #[cfg(test)]
    pub(crate) fn endpoint(&self) -> &Arc<EndpointState> {
        &self.endpoint
    }

    /// Calls the endpoint's handler with `message` and records the outcome. Every error
    /// counts as a failure of the endpoint, and so does a handler still running at the
    /// deadline of `until`, which ends the call with [`EndpointError::TimedOut`], unless
    /// the request was answered by then (`until`'s check: the handler answered with
    /// `respond` and went on working), which counts as neither. Without a deadline, a call
    /// cancelled by its caller counts as neither. A handler that panics fails, and its
    /// panic goes on to the caller.
    pub(crate) async fn call(
        mut self,
        message: &Message,
        until: Option<(Instant, &(dyn Fn() -> bool + Sync))>,
    ) -> Result<Vec<Message>, EndpointError> {
        let endpoint = &self.endpoint;
        let span = tracing::debug_span!("endpoint", endpoint = %endpoint.id);
        // The call is made inside the guard, so that a handler that panics before it
        // returns its future is caught as well.
        let handled = AssertUnwindSafe(async { endpoint.handler.handle(message).await })
            .catch_unwind()
            .instrument(span);
        let handled = match until {
            None => handled.await,
            Some((deadline, answered)) => match tokio::time::timeout_at(deadline, handled).await {
                Ok(handled) => handled,
                Err(_elapsed) => {
                    let outcome = if answered() {
                        CallOutcome::Abandoned
                    } else {
                        endpoint.failures.fetch_add(1, Ordering::Relaxed);
                        endpoint.failed_total.increment(1);
                        CallOutcome::Failure
                    };
                    if let Some(ticket) = self.ticket.take() {
                        endpoint.record(ticket, outcome);
                    }
                    return Err(EndpointError::TimedOut {
                        endpoint: endpoint.id.clone(),
                    });
                }
            },
        };
        let result = match handled {
            Ok(result) => result,
            Err(panic) => {
                // The handler panicked: a failure of this endpoint, recorded here. Guessing
                // it in `Drop` from `thread::panicking()` blamed every other endpoint whose
                // call the same panic dropped (a `notify`, a `join!`), and missed a panic
                // caught around the delivery, which drops the call after unwinding. The
                // panic goes on to the caller, as it would without the registry.
                endpoint.failures.fetch_add(1, Ordering::Relaxed);
                endpoint.failed_total.increment(1);
                if let Some(ticket) = self.ticket.take() {
                    endpoint.record(ticket, CallOutcome::Failure);
                }
                std::panic::resume_unwind(panic);
            }
        };
        let outcome = match &result {
            Ok(_) => {
                endpoint.deliveries.fetch_add(1, Ordering::Relaxed);
                endpoint.succeeded_total.increment(1);
                CallOutcome::Success
            }
            Err(_) => {
                endpoint.failures.fetch_add(1, Ordering::Relaxed);
                endpoint.failed_total.increment(1);
                CallOutcome::Failure
            }
        };
        if let Some(ticket) = self.ticket.take() {
            endpoint.record(ticket, outcome);
        }
        result.map_err(|source| EndpointError::Handler {
            endpoint: endpoint.id.clone(),
            source,
        })
    }
}

impl Drop for Admission {
    fn drop(&mut self) {
        self.endpoint.in_flight.fetch_sub(1, Ordering::Relaxed);
        if let Some(ticket) = self.ticket.take() {
            // A delivery dropped before its end (cancelled, or unwound by a panic elsewhere)
            // neither succeeded nor failed; a handler's own panic was recorded by `call`.
            self.endpoint.record(ticket, CallOutcome::Abandoned);
        }
    }
}

/// Where a refusal's counter is in `refused_total`.
fn refusal_slot(refusal: Refusal) -> usize {
    match refusal {
        Refusal::Unhealthy => 0,
        Refusal::CircuitOpen { .. } => 1,
        Refusal::CircuitHalfOpen => 2,
    }
}

fn set_circuit_gauge(id: &str, state: CircuitState) {
    let value = match state {
        CircuitState::Closed => 0.0,
        CircuitState::HalfOpen => 1.0,
        _ => 2.0,
    };
    metrics::gauge!("switchyard_bus_endpoint_circuit_state", "endpoint" => id.to_owned())
        .set(value);
}
