//! [`EndpointSnapshot`] and [`RegistrySnapshot`]: what an
//! [`EndpointRegistry`](super::EndpointRegistry) looks like at one moment.

use std::sync::Arc;

use switchyard_routing::middleware::breaker::CircuitState;

/// One endpoint's state at one moment; see
/// [`EndpointRegistry::endpoint`](super::EndpointRegistry::endpoint).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EndpointSnapshot {
    /// The endpoint's id.
    pub id: Arc<str>,
    /// Its route, as registered.
    pub route: String,
    /// Its priority.
    pub priority: u32,
    /// Whether its last health check passed (or it has none, or none has run yet).
    pub healthy: bool,
    /// The state a delivery arriving now would find its circuit in: an open circuit whose
    /// cool-down is over shows as half-open.
    pub circuit: CircuitState,
    /// Deliveries routed to it that have not ended yet (including those waiting for a
    /// delivery slot).
    pub in_flight: usize,
    /// Calls of its handler that succeeded.
    pub deliveries: u64,
    /// Calls of its handler that returned an error.
    pub failures: u64,
    /// Deliveries that passed it over because it was unhealthy or its circuit refused.
    pub refusals: u64,
}

/// The whole registry at one moment; see
/// [`EndpointRegistry::snapshot`](super::EndpointRegistry::snapshot).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RegistrySnapshot {
    /// Every endpoint, in registration order.
    pub endpoints: Vec<EndpointSnapshot>,
    /// Routing decisions that took at least the
    /// [`slow_routing_threshold`](super::EndpointConfig::slow_routing_threshold).
    pub slow_routing_decisions: u64,
    /// Deliveries holding one of the `max_concurrent_deliveries` slots.
    pub running_deliveries: usize,
    /// Whether the health monitor is running.
    pub health_monitor_running: bool,
}

impl RegistrySnapshot {
    /// The endpoint with this id, if it is registered.
    pub fn endpoint(&self, id: &str) -> Option<&EndpointSnapshot> {
        self.endpoints.iter().find(|endpoint| &*endpoint.id == id)
    }
}
