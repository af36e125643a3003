//! The endpoint registry: handlers that serve topic routes, with priorities, load
//! balancing, failover, health checks and a circuit breaker per endpoint.
//!
//! An [`Endpoint`] is a [`Handler`](switchyard_core::Handler) registered under an id, a
//! route (a topic pattern in [`switchyard_routing::pattern`]'s syntax), a priority and an
//! optional [`HealthCheck`]. The [`EndpointRegistry`] routes to them:
//!
//! - [`deliver`](EndpointRegistry::deliver) a message to **one** endpoint whose route
//!   matches the topic: the best priority tier first, spread by [`LoadBalancing`] within
//!   it, failing over past endpoints that are unhealthy or whose circuit is open;
//! - [`deliver_to`](EndpointRegistry::deliver_to) one endpoint by id;
//! - [`notify`](EndpointRegistry::notify) **every** available matching endpoint at once,
//!   with a [`NotifyReport`] of each one's outcome.
//!
//! An endpoint that is unhealthy or behind an open circuit is never called: delivering to
//! it is a typed error at once ([`EndpointError::Refused`], or
//! [`EndpointError::Unavailable`] when no candidate is left). Settings, with their
//! defaults, are on [`EndpointConfig`].
//!
//! # Architecture
//!
//! - **Lock-free routing.** The routing table (a
//!   [`PatternIndex`](switchyard_routing::pattern::PatternIndex) of endpoints and a map by
//!   id) is swapped whole through `arc-swap` on every registration; a delivery reads it with
//!   an atomic load. Per endpoint, health and counters are atomics; the breaker is a small
//!   mutex held for a few instructions.
//! - **Owned task.** The only task is the health monitor, tracked by a `TaskTracker`,
//!   stopped by a `CancellationToken` on [`shutdown`](EndpointRegistry::shutdown) (awaited
//!   with a timeout) or when the last handle is dropped. Deliveries run in the caller's
//!   task.
//! - **Routing's breaker.** Each endpoint's circuit is a
//!   [`CircuitMachine`](switchyard_routing::middleware::breaker::CircuitMachine), the state
//!   machine behind routing's circuit-breaker middleware, asked before a call so that a
//!   refusal fails over without calling. It opens on consecutive failures *and* on a failure
//!   rate over a time window.
mod config;
mod deliver;
mod error;
mod health;
mod monitor;
mod notify;
mod registry;
mod select;
mod snapshot;
mod spec;
mod state;

pub use self::{
    config::{EndpointConfig, EndpointConfigBuilder, LoadBalancing},
    error::{
        ConfigError, EndpointError, EndpointRefusal, MonitorError, Refusal, RegistryError,
        ShutdownTimedOut,
    },
    health::{HealthCheck, HealthCheckFn, health_check_fn},
    notify::{NotifyOutcome, NotifyReport, NotifyResult},
    registry::EndpointRegistry,
    snapshot::{EndpointSnapshot, RegistrySnapshot},
    spec::Endpoint,
};
pub use switchyard_routing::middleware::breaker::CircuitState;

/// Locks `mutex`, even if a panic poisoned it: everything the module guards with a mutex is
/// only ever changed whole under the lock, so a poisoned one is still consistent.
fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
