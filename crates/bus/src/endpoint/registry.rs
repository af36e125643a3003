//! [`EndpointRegistry`]: the endpoints, their routes and health, registration while
//! running, snapshots and the health monitor's lifecycle. Delivery lives in
//! `deliver.rs` and `notify.rs`.

use std::{
    collections::HashMap,
    fmt,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use arc_swap::ArcSwap;
use switchyard_core::Throttle;
use switchyard_routing::pattern::{EntryId, Pattern, PatternError, PatternIndex};
use tokio::{
    sync::{Semaphore, watch},
    time::Instant,
};
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use super::{
    config::EndpointConfig,
    error::{MonitorError, RegistryError, ShutdownTimedOut, echo},
    lock, monitor,
    snapshot::{EndpointSnapshot, RegistrySnapshot},
    spec::Endpoint,
    state::EndpointState,
};

/// Endpoints that serve topics, with load balancing, failover, health checks and a circuit
/// breaker each.
///
/// A cheap [`Clone`] handle: every clone is the same registry.
///
/// - **Registration.** [`register`](Self::register) and [`deregister`](Self::deregister)
///   work while deliveries run. Each rebuilds the routing table copy-on-write (O(endpoints))
///   and swaps it in; deliveries read the table without a lock and are never blocked by a
///   registration. A delivery already routed to an endpoint when it is deregistered ends
///   normally; no later delivery goes to it.
/// - **Delivery.** [`deliver`](Self::deliver) calls *one* endpoint whose route matches the
///   topic: within the best priority tier, spread by the [`LoadBalancing`] policy, failing
///   over to the next endpoint of the tier and then to the next tier while a candidate is
///   unhealthy or its circuit refuses. [`deliver_to`](Self::deliver_to) calls one endpoint
///   by id. [`notify`](Self::notify) calls every available matching endpoint concurrently.
///   At most [`max_concurrent_deliveries`](EndpointConfig::max_concurrent_deliveries)
///   handler calls run at once across the registry; the others wait up to the
///   [`acquire_timeout`](EndpointConfig::acquire_timeout).
/// - **Health.** The health monitor, started by
///   [`start_health_monitor`](Self::start_health_monitor) and stopped by
///   [`shutdown`](Self::shutdown), runs every endpoint's health check on an interval. An
///   unhealthy endpoint is passed over without being called.
/// - **Circuit breaker.** Each endpoint's circuit opens after
///   [`consecutive_failures`](EndpointConfig::consecutive_failures) failures in a row, or
///   when the failure rate in a sliding time window passes a threshold; after a cool-down it
///   lets a few trial calls through, whose successes close it and whose failure opens it
///   again. Every error a handler returns counts as a failure, and so does a call still
///   running when the [`Bus::request`](crate::Bus::request) that made it times out; a
///   call whose caller gave up otherwise counts as neither.
/// - **Slow routing.** A routing decision (matching and choosing, not the handler call)
///   that takes at least the
///   [`slow_routing_threshold`](EndpointConfig::slow_routing_threshold) is logged at warn
///   level and counted in the [snapshot](Self::snapshot) and in the
///   `switchyard_bus_endpoint_slow_routing_total` counter.
///
/// Time is tokio's: a paused clock drives health checks, cool-downs and windows in tests.
///
/// # Metrics
///
/// `switchyard_bus_endpoint_calls_total{endpoint, outcome}`,
/// `switchyard_bus_endpoint_refusals_total{endpoint, reason}`,
/// `switchyard_bus_endpoint_slow_routing_total`,
/// `switchyard_bus_endpoint_saturated_total`, and the gauges
/// `switchyard_bus_endpoint_healthy{endpoint}` (1 or 0) and
/// `switchyard_bus_endpoint_circuit_state{endpoint}` (0 closed, 1 half-open, 2 open). The
/// per-endpoint call counters are registered with the recorder installed when the endpoint
/// registers.
///
/// ```
/// use std::{sync::Arc, time::Duration};
/// use switchyard_bus::endpoint::{Endpoint, EndpointConfig, EndpointError, EndpointRegistry};
/// use switchyard_core::{Message, handler_fn};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let registry = EndpointRegistry::new(EndpointConfig::default());
/// let echo = handler_fn(|message: Message| async move {
///     Ok(vec![Message::new(message.payload().clone())])
/// });
/// registry.register(Endpoint::new("echo-1", "echo.*", Arc::new(echo.clone())))?;
/// registry.register(Endpoint::new("echo-2", "echo.*", Arc::new(echo)))?;
/// registry.start_health_monitor()?;
///
/// let reply = registry.deliver("echo.hello", &Message::new("hi")).await?;
/// assert_eq!(reply[0].payload(), "hi");
/// assert!(matches!(
///     registry.deliver("nothing.here", &Message::new("hi")).await,
///     Err(EndpointError::NoEndpoint { .. })
/// ));
///
/// registry.shutdown(Duration::from_secs(1)).await?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// [`LoadBalancing`]: super::LoadBalancing
#[derive(Clone)]
pub struct EndpointRegistry {
    pub(crate) inner: Arc<Inner>,
}

/// The routing table: swapped whole on every registration.
pub(crate) struct Table {
    pub(crate) index: PatternIndex<Arc<EndpointState>>,
    pub(crate) by_id: HashMap<Arc<str>, (EntryId, Arc<EndpointState>)>,
}

/// Where the health monitor stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MonitorPhase {
    Idle,
    Running,
    Closed,
}

/// The registry's shared state.
pub(crate) struct Inner {
    pub(crate) config: EndpointConfig,
    pub(crate) table: ArcSwap<Table>,
    /// Serializes registrations, so that none is lost between load and store.
    writer: Mutex<()>,
    /// The `max_concurrent_deliveries` slots; closed on shutdown.
    pub(crate) permits: Semaphore,
    pub(crate) slow_routing: AtomicU64,
    /// Lets one slow-routing warning a second through.
    slow_routing_warnings: Throttle,
    /// Counts health transitions; see [`EndpointRegistry::health_changes`].
    pub(crate) health_changes: watch::Sender<u64>,
    tasks: TaskTracker,
    pub(crate) cancel: CancellationToken,
    monitor: Mutex<MonitorPhase>,
}

impl Inner {
    pub(crate) fn is_closed(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// Counts and logs a routing decision that started at `started`, if it was slow.
    pub(crate) fn observe_routing(&self, started: std::time::Instant, candidates: usize) {
        // Real time, not tokio's: this measures work done, which a paused clock ignores.
        let elapsed = started.elapsed();
        let threshold = self.config.slow_routing_threshold();
        if elapsed >= threshold {
            self.slow_routing.fetch_add(1, Ordering::Relaxed);
            metrics::counter!("switchyard_bus_endpoint_slow_routing_total").increment(1);
            // Counted every time; logged at most once a second, with how many were left
            // out: a slow machine would otherwise log every request.
            if let Some(suppressed) = self.slow_routing_warnings.admit() {
                tracing::warn!(
                    elapsed_us = elapsed.as_micros() as u64,
                    threshold_us = threshold.as_micros() as u64,
                    candidates,
                    suppressed,
                    "slow endpoint routing decision",
                );
            }
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // The monitor holds only a weak reference; tell it to stop now rather than at its
        // next tick.
        self.cancel.cancel();
    }
}

impl EndpointRegistry {
    /// An empty registry with `config`. Needs no runtime; the health monitor starts with
    /// [`start_health_monitor`](Self::start_health_monitor).
    pub fn new(config: EndpointConfig) -> Self {
        let permits = Semaphore::new(config.max_concurrent_deliveries());
        Self {
            inner: Arc::new(Inner {
                table: ArcSwap::from_pointee(Table {
                    index: PatternIndex::default(),
                    by_id: HashMap::new(),
                }),
                writer: Mutex::new(()),
                permits,
                slow_routing: AtomicU64::new(0),
                slow_routing_warnings: Throttle::default(),
                health_changes: watch::Sender::new(0),
                tasks: TaskTracker::new(),
                cancel: CancellationToken::new(),
                monitor: Mutex::new(MonitorPhase::Idle),
                config,
            }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &EndpointConfig {
        &self.inner.config
    }

    /// Registers `endpoint`. It serves at once, healthy until its first health check says
    /// otherwise, with a closed circuit.
    ///
    /// # Errors
    ///
    /// [`RegistryError::DuplicateId`] if its id is taken, [`RegistryError::InvalidId`] or
    /// [`RegistryError::InvalidRoute`] if they cannot be used, [`RegistryError::Full`] at
    /// [`max_endpoints`](EndpointConfig::max_endpoints), and [`RegistryError::Closed`] after
    /// [`shutdown`](Self::shutdown). The registry is then unchanged.
    pub fn register(&self, endpoint: Endpoint) -> Result<(), RegistryError> {
        if self.inner.is_closed() {
            return Err(RegistryError::Closed);
        }
        if let Some(reason) = endpoint.id_problem() {
            return Err(RegistryError::InvalidId { reason });
        }
        let invalid_route = |source: PatternError| RegistryError::InvalidRoute {
            route: echo(&endpoint.route),
            source,
        };
        let _writer = lock(&self.inner.writer);
        let table = self.inner.table.load();
        if table.by_id.contains_key(endpoint.id.as_str()) {
            return Err(RegistryError::DuplicateId {
                id: echo(&endpoint.id),
            });
        }
        let max = self.inner.config.max_endpoints();
        if table.by_id.len() >= max {
            return Err(RegistryError::Full { max });
        }
        let pattern = Pattern::parse_with_limits(&endpoint.route, table.index.limits())
            .map_err(invalid_route)?;
        let priority = endpoint.priority;
        let state = Arc::new(EndpointState::new(endpoint, self.inner.config.policy));
        let mut builder = table.index.to_builder();
        let entry = builder
            .insert_pattern(pattern, priority, state.clone())
            .map_err(|_| RegistryError::Full { max })?;
        let mut by_id = table.by_id.clone();
        by_id.insert(state.id.clone(), (entry, state.clone()));
        self.inner.table.store(Arc::new(Table {
            index: builder.build(),
            by_id,
        }));
        tracing::info!(endpoint = %state.id, priority, "endpoint registered");
        Ok(())
    }

    /// Deregisters the endpoint `id` and returns its last snapshot. No delivery that starts
    /// afterwards goes to it; the deliveries already routed to it end normally.
    ///
    /// # Errors
    ///
    /// [`RegistryError::UnknownId`] if no endpoint has this id.
    pub fn deregister(&self, id: &str) -> Result<EndpointSnapshot, RegistryError> {
        let _writer = lock(&self.inner.writer);
        let table = self.inner.table.load();
        let Some((entry, state)) = table.by_id.get(id) else {
            return Err(RegistryError::UnknownId { id: echo(id) });
        };
        let mut builder = table.index.to_builder();
        builder.remove(*entry);
        let mut by_id = table.by_id.clone();
        by_id.remove(id);
        let state = state.clone();
        self.inner.table.store(Arc::new(Table {
            index: builder.build(),
            by_id,
        }));
        state.mark_removed();
        tracing::info!(endpoint = %state.id, "endpoint deregistered");
        Ok(state.snapshot(Instant::now()))
    }

    /// The number of registered endpoints.
    pub fn len(&self) -> usize {
        self.inner.table.load().by_id.len()
    }

    /// Whether no endpoint is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The endpoint `id`'s state now, if it is registered.
    pub fn endpoint(&self, id: &str) -> Option<EndpointSnapshot> {
        let table = self.inner.table.load();
        table
            .by_id
            .get(id)
            .map(|(_, state)| state.snapshot(Instant::now()))
    }

    /// The whole registry's state now.
    pub fn snapshot(&self) -> RegistrySnapshot {
        let now = Instant::now();
        let table = self.inner.table.load_full();
        let limit = self.inner.config.max_concurrent_deliveries();
        RegistrySnapshot {
            endpoints: table
                .index
                .iter()
                .map(|entry| entry.value.snapshot(now))
                .collect(),
            slow_routing_decisions: self.inner.slow_routing.load(Ordering::Relaxed),
            running_deliveries: limit.saturating_sub(self.inner.permits.available_permits()),
            health_monitor_running: *lock(&self.inner.monitor) == MonitorPhase::Running,
        }
    }

    /// A receiver of the number of health transitions (an endpoint marked unhealthy, or
    /// healthy again) the monitor has made so far: `changed().await` wakes on the next one.
    /// For readiness probes and tests.
    pub fn health_changes(&self) -> watch::Receiver<u64> {
        self.inner.health_changes.subscribe()
    }

    /// Starts the health monitor on the current tokio runtime. Its first round of checks
    /// runs at once, then one every
    /// [`health_check_interval`](EndpointConfig::health_check_interval). It is owned by the
    /// registry: [`shutdown`](Self::shutdown) stops it, and so does dropping the last handle.
    ///
    /// # Errors
    ///
    /// [`MonitorError::AlreadyRunning`], [`MonitorError::Closed`] after
    /// [`shutdown`](Self::shutdown), or [`MonitorError::NoRuntime`] outside a runtime.
    pub fn start_health_monitor(&self) -> Result<(), MonitorError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| MonitorError::NoRuntime)?;
        let mut phase = lock(&self.inner.monitor);
        match *phase {
            MonitorPhase::Running => return Err(MonitorError::AlreadyRunning),
            MonitorPhase::Closed => return Err(MonitorError::Closed),
            MonitorPhase::Idle => {}
        }
        let task = monitor::run(
            Arc::downgrade(&self.inner),
            self.inner.cancel.clone(),
            self.inner.health_changes.clone(),
            self.inner.config.health_check_interval(),
            self.inner.config.health_check_timeout(),
        );
        self.inner.tasks.spawn_on(task, &runtime);
        *phase = MonitorPhase::Running;
        Ok(())
    }

    /// Shuts the registry down: stops the health monitor and waits up to `timeout` for it to
    /// end, and makes every later delivery, and every delivery waiting for a slot, fail with
    /// [`EndpointError::Closed`](super::EndpointError::Closed). Handler calls already
    /// running are not interrupted: they belong to their callers. Calling it again is
    /// harmless.
    ///
    /// # Errors
    ///
    /// [`ShutdownTimedOut`] if the monitor did not end within `timeout`.
    pub async fn shutdown(&self, timeout: Duration) -> Result<(), ShutdownTimedOut> {
        *lock(&self.inner.monitor) = MonitorPhase::Closed;
        self.inner.cancel.cancel();
        self.inner.permits.close();
        self.inner.tasks.close();
        match tokio::time::timeout(timeout, self.inner.tasks.wait()).await {
            Ok(()) => {
                tracing::debug!("endpoint registry shut down");
                Ok(())
            }
            Err(_) => {
                tracing::warn!(?timeout, "endpoint health monitor did not stop in time");
                Err(ShutdownTimedOut { after: timeout })
            }
        }
    }
}

impl fmt::Debug for EndpointRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EndpointRegistry")
            .field("endpoints", &self.len())
            .field("closed", &self.inner.is_closed())
            .finish_non_exhaustive()
    }
}
