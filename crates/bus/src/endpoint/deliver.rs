//! Delivering one message to one endpoint: [`EndpointRegistry::deliver`] by topic, with
//! load balancing and failover, and [`EndpointRegistry::deliver_to`] by id; both bounded by
//! the registry's delivery slots.

use switchyard_core::Message;
use tokio::{
    sync::{SemaphorePermit, TryAcquireError},
    time::Instant,
};

use super::{
    error::{EndpointError, echo},
    registry::EndpointRegistry,
    select::{Choice, choose},
    state::Admission,
};

impl EndpointRegistry {
    /// Delivers `message` to one endpoint whose route matches `topic`, and returns what its
    /// handler produced (a request/reply layer takes the first output as the response).
    ///
    /// The endpoint is chosen in the best priority tier that has an available one, spread
    /// by the [`LoadBalancing`](super::LoadBalancing) policy. An endpoint that is unhealthy
    /// or whose circuit refuses is passed over without being called, for the next one in
    /// its tier, then for the next tier. A handler error is returned as it is, not retried
    /// elsewhere: the handler may have had effects.
    ///
    /// # Errors
    ///
    /// - [`EndpointError::NoEndpoint`] at once if no route matches;
    /// - [`EndpointError::Unavailable`] at once, listing every endpoint and why, if every
    ///   match is unhealthy or behind an open circuit;
    /// - [`EndpointError::Saturated`] if no delivery slot came free within the
    ///   [`acquire_timeout`](super::EndpointConfig::acquire_timeout);
    /// - [`EndpointError::Handler`] if the handler failed;
    /// - [`EndpointError::Closed`] after [`shutdown`](Self::shutdown).
    pub async fn deliver(
        &self,
        topic: &str,
        message: &Message,
    ) -> Result<Vec<Message>, EndpointError> {
        self.deliver_until(topic, message, None).await
    }

    /// [`deliver`](Self::deliver), ending the handler's call at the deadline of `until` with
    /// [`EndpointError::TimedOut`], which counts as a failure of the endpoint unless
    /// `until`'s check says the request was answered meanwhile.
    pub(crate) async fn deliver_until(
        &self,
        topic: &str,
        message: &Message,
        until: Option<(Instant, &(dyn Fn() -> bool + Sync))>,
    ) -> Result<Vec<Message>, EndpointError> {
        let admission = self.route(topic)?;
        let _slot = self.acquire_slot().await?;
        admission.call(message, until).await
    }

    /// Delivers `message` to the endpoint `id`, whatever its route.
    ///
    /// # Errors
    ///
    /// [`EndpointError::UnknownEndpoint`] if no endpoint has this id,
    /// [`EndpointError::Refused`] at once, without calling it, if it is unhealthy or its
    /// circuit refuses, and otherwise as [`deliver`](Self::deliver).
    pub async fn deliver_to(
        &self,
        id: &str,
        message: &Message,
    ) -> Result<Vec<Message>, EndpointError> {
        if self.inner.is_closed() {
            return Err(EndpointError::Closed);
        }
        let endpoint = self
            .inner
            .table
            .load()
            .by_id
            .get(id)
            .map(|(_, endpoint)| endpoint.clone())
            .ok_or_else(|| EndpointError::UnknownEndpoint { endpoint: echo(id) })?;
        let admission =
            endpoint
                .try_admit(Instant::now())
                .map_err(|reason| EndpointError::Refused {
                    refusal: endpoint.refusal(reason),
                })?;
        let _slot = self.acquire_slot().await?;
        admission.call(message, None).await
    }

    /// Whether [`deliver`](Self::deliver) would fail with [`EndpointError::NoEndpoint`]
    /// whatever the topic: the registry is open and holds no endpoint. It reads a snapshot
    /// of the table and makes no routing decision and no error, so that request/reply over
    /// pub/sub pays little for the registry it does not use.
    pub(crate) fn routes_nothing(&self) -> bool {
        !self.inner.is_closed() && self.inner.table.load().by_id.is_empty()
    }

    /// Makes the routing decision for `topic`: admits the endpoint to call, or says why
    /// there is none.
    fn route(&self, topic: &str) -> Result<Admission, EndpointError> {
        if self.inner.is_closed() {
            return Err(EndpointError::Closed);
        }
        let started = std::time::Instant::now();
        let table = self.inner.table.load();
        let matches = table.index.find_all(topic);
        let choice = choose(&matches, self.inner.config.load_balancing(), Instant::now());
        self.inner.observe_routing(started, matches.len());
        match choice {
            Choice::Admitted(admission) => Ok(admission),
            Choice::NoneMatched => Err(EndpointError::NoEndpoint { topic: echo(topic) }),
            Choice::AllRefused(refusals) => Err(EndpointError::Unavailable {
                topic: echo(topic),
                refusals,
            }),
        }
    }

    /// Takes one of the `max_concurrent_deliveries` slots, waiting up to the acquire
    /// timeout.
    pub(crate) async fn acquire_slot(&self) -> Result<SemaphorePermit<'_>, EndpointError> {
        let permits = &self.inner.permits;
        // The common case takes no timer.
        match permits.try_acquire() {
            Ok(permit) => return Ok(permit),
            Err(TryAcquireError::Closed) => return Err(EndpointError::Closed),
            Err(TryAcquireError::NoPermits) => {}
        }
        let waited = self.inner.config.acquire_timeout();
        match tokio::time::timeout(waited, permits.acquire()).await {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(_closed)) => Err(EndpointError::Closed),
            Err(_elapsed) => {
                metrics::counter!("switchyard_bus_endpoint_saturated_total").increment(1);
                Err(EndpointError::Saturated {
                    limit: self.inner.config.max_concurrent_deliveries(),
                    waited,
                })
            }
        }
    }
}
