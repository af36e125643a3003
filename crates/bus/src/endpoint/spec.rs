//! [`Endpoint`]: what to register: an id, a route, a handler, a priority and an optional
//! health check.

use std::{fmt, sync::Arc};

use switchyard_core::Handler;

use super::health::HealthCheck;

/// An endpoint to [`register`](super::EndpointRegistry::register): a handler that serves
/// the topics its route matches.
///
/// - The **id** names it in snapshots, errors, logs and the `endpoint` metrics label: keep
///   it short and fixed (at most [`MAX_ID_LEN`](Self::MAX_ID_LEN) bytes, no control
///   characters), and unique within the registry.
/// - The **route** is a topic pattern in `switchyard-routing`'s syntax (exact, glob or
///   `re:` regex; see [`switchyard_routing::pattern`]).
/// - The **priority** (default 0) orders endpoints whose routes match the same topic:
///   deliveries go to the highest tier that has an available endpoint.
/// - The **health check** (none by default) is run by the registry's health monitor; an
///   endpoint without one is always healthy.
///
/// ```
/// use std::sync::Arc;
/// use switchyard_bus::endpoint::{Endpoint, health_check_fn};
/// use switchyard_core::{Message, handler_fn};
///
/// let endpoint = Endpoint::new(
///     "payments-eu",
///     "payments.eu.*",
///     Arc::new(handler_fn(|_message: Message| async { Ok(Vec::new()) })),
/// )
/// .priority(10)
/// .health_check(Arc::new(health_check_fn(|| async { Ok(()) })));
/// assert_eq!(endpoint.id(), "payments-eu");
/// assert_eq!(endpoint.route(), "payments.eu.*");
/// ```
#[derive(Clone)]
#[must_use = "an endpoint does nothing until it is registered"]
pub struct Endpoint {
    pub(crate) id: String,
    pub(crate) route: String,
    pub(crate) handler: Arc<dyn Handler>,
    pub(crate) priority: u32,
    pub(crate) health_check: Option<Arc<dyn HealthCheck>>,
}

impl Endpoint {
    /// The longest id, in bytes.
    pub const MAX_ID_LEN: usize = 128;

    /// An endpoint `id` that serves the topics `route` matches with `handler`, at priority
    /// 0 and without a health check. The id and route are checked by
    /// [`register`](super::EndpointRegistry::register).
    pub fn new(id: impl Into<String>, route: impl Into<String>, handler: Arc<dyn Handler>) -> Self {
        Self {
            id: id.into(),
            route: route.into(),
            handler,
            priority: 0,
            health_check: None,
        }
    }

    /// Sets the priority: higher wins.
    pub fn priority(mut self, priority: u32) -> Self {
        self.priority = priority;
        self
    }

    /// Sets the health check that the registry's health monitor runs.
    pub fn health_check(mut self, check: Arc<dyn HealthCheck>) -> Self {
        self.health_check = Some(check);
        self
    }

    /// The id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The route.
    pub fn route(&self) -> &str {
        &self.route
    }

    /// Why the id cannot be registered, if it cannot.
    pub(crate) fn id_problem(&self) -> Option<&'static str> {
        if self.id.is_empty() {
            Some("it is empty")
        } else if self.id.len() > Self::MAX_ID_LEN {
            Some("it is longer than 128 bytes")
        } else if self.id.chars().any(char::is_control) {
            Some("it holds a control character")
        } else {
            None
        }
    }
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("id", &self.id)
            .field("route", &self.route)
            .field("priority", &self.priority)
            .field("health_check", &self.health_check.is_some())
            .finish_non_exhaustive()
    }
}
