//! `Bus`: the pub/sub, the endpoint registry and request/reply behind one handle, with the
//! message kinds that tell them apart.

use std::{
    pin::pin,
    sync::{Arc, LazyLock},
    task::Poll,
    time::Duration,
};

use switchyard_core::{Attribute, Message, Publisher, Result as CoreResult, deadline::deadline};
use tokio::time::Instant;

use crate::{
    BusConfig,
    batch::BatchingPublisher,
    endpoint::{EndpointError, EndpointRegistry, MonitorError, NotifyReport},
    kind::{MessageKind, REPLY_TO_ATTRIBUTE},
    pubsub::{MemoryPubSub, SubscribeOptions, Subscription},
    request::{Correlator, CorrelatorStats, PendingReply, RequestError},
};

/// The reply-to address of requests made on this bus: their responses are matched in
/// process, by correlation id.
pub const REPLY_INBOX: &str = "bus://replies";

/// Switchyard's in-memory bus: events through pub/sub, notifications to every matching
/// endpoint, and requests answered by one endpoint or subscriber.
///
/// | call | kind | goes to |
/// |---|---|---|
/// | [`publish`](Self::publish) | event | every subscription matching the topic (groups share) |
/// | [`notify`](Self::notify) | notification | every matching, healthy endpoint, concurrently |
/// | [`request`](Self::request) | request | one endpoint (load-balanced, with failover), else the topic's subscribers |
/// | [`respond`](Self::respond) | response | the request that waits for it |
///
/// A cheap `Clone` handle. [`close`](Self::close) stops the health monitor, fails waiting
/// requests, and closes the pub/sub.
///
/// ```
/// use std::{sync::Arc, time::Duration};
/// use switchyard_bus::{Bus, BusConfig, endpoint::Endpoint};
/// use switchyard_core::{Message, handler_fn};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let bus = Bus::new(BusConfig::default())?;
/// let echo = handler_fn(|m: Message| async move { Ok(vec![Message::new(m.payload().clone())]) });
/// bus.endpoints().register(Endpoint::new("echo", "echo.*", Arc::new(echo)))?;
///
/// let reply = bus.request("echo.hello", Message::new("hi"), Duration::from_secs(1)).await?;
/// assert_eq!(reply.payload(), "hi");
/// bus.close(Duration::from_secs(1)).await?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct Bus {
    inner: Arc<Inner>,
}

struct Inner {
    config: BusConfig,
    pubsub: MemoryPubSub,
    endpoints: EndpointRegistry,
    correlator: Correlator,
}

impl Bus {
    /// A bus with `config`. Starts the endpoints' health monitor, so it must be called
    /// within a tokio runtime.
    pub fn new(config: BusConfig) -> Result<Self, MonitorError> {
        let endpoints = EndpointRegistry::new(config.endpoints().clone());
        endpoints.start_health_monitor()?;
        Ok(Self {
            inner: Arc::new(Inner {
                pubsub: MemoryPubSub::new(config.pubsub().clone()),
                correlator: Correlator::new(config.max_pending_requests()),
                endpoints,
                config,
            }),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &BusConfig {
        &self.inner.config
    }

    /// The pub/sub, also usable on its own as a `Publisher` and `Subscriber`.
    pub fn pubsub(&self) -> &MemoryPubSub {
        &self.inner.pubsub
    }

    /// The endpoint registry: register and deregister endpoints while the bus runs.
    pub fn endpoints(&self) -> &EndpointRegistry {
        &self.inner.endpoints
    }

    /// Publishes an event to every subscription matching `topic`.
    pub async fn publish(&self, topic: &str, mut message: Message) -> CoreResult<()> {
        MessageKind::Event.stamp(&mut message);
        self.inner.pubsub.publish(topic, message).await
    }

    /// Subscribes to a topic or pattern with the default options.
    pub fn subscribe(&self, topic: &str) -> CoreResult<Subscription> {
        self.inner
            .pubsub
            .subscribe_with(topic, SubscribeOptions::default())
    }

    /// Subscribes to a topic or pattern with `options` (a consumer group, a policy, ...).
    pub fn subscribe_with(
        &self,
        topic: &str,
        options: SubscribeOptions,
    ) -> CoreResult<Subscription> {
        self.inner.pubsub.subscribe_with(topic, options)
    }

    /// Delivers a notification to every matching, healthy endpoint, concurrently.
    pub async fn notify(&self, topic: &str, mut message: Message) -> NotifyReport {
        MessageKind::Notification.stamp(&mut message);
        self.inner.endpoints.notify(topic, &message).await
    }

    /// Sends a request and waits up to `timeout` for its response.
    ///
    /// The request gets a fresh `correlationid` and `replyto` = [`REPLY_INBOX`]. If an
    /// endpoint serves `topic`, one is chosen (load-balanced, failing over past unhealthy
    /// ones) and its first output is the response; an endpoint that returns nothing may
    /// answer later with [`respond`](Self::respond). With no endpoint for the topic, the
    /// request is published to the topic's subscribers, which answer with `respond`.
    ///
    /// The pending entry is removed on the response, on the timeout and when this future is
    /// dropped. An endpoint whose handler is still running at the timeout has its call
    /// ended and counted as a failure, so that an endpoint that hangs opens its circuit.
    pub async fn request(
        &self,
        topic: &str,
        mut message: Message,
        timeout: Duration,
    ) -> Result<Message, RequestError> {
        let deadline = deadline(Instant::now(), timeout);
        let pending = self.inner.correlator.begin()?;
        // The kind and the reply inbox are the same for every request: validated once. All
        // three are set at once, with one copy of the caller's attributes, in the order of
        // their names, which spares sorting them.
        static REPLY_TO: LazyLock<Attribute> = LazyLock::new(|| {
            Attribute::new(REPLY_TO_ATTRIBUTE, REPLY_INBOX).expect("a valid reply-to attribute")
        });
        message.attributes_mut().insert_all([
            pending.correlation_attribute(),
            MessageKind::Request.attribute(),
            REPLY_TO.clone(),
        ]);

        // With no endpoint registered there is no routing decision to make: the request goes
        // straight to the topic's subscribers, as it would after `NoEndpoint`, without
        // building that error.
        if self.inner.endpoints.routes_nothing() {
            self.publish_request(topic, message, deadline, timeout)
                .await?;
        } else {
            // Boxed: a call to an endpoint is a large future, which would make every
            // request's future as large, endpoint or not, and each is moved whole into
            // whatever polls it (a spawned task, a `FuturesUnordered`).
            Box::pin(self.deliver_request(topic, message, &pending, deadline, timeout)).await?;
        }
        pending.wait_until(deadline, timeout).await
    }

    /// Delivers a request to an endpoint that serves `topic`, or to the topic's subscribers
    /// if none does, and hands the endpoint's first output to `pending` as the response.
    async fn deliver_request(
        &self,
        topic: &str,
        message: Message,
        pending: &PendingReply,
        deadline: Instant,
        timeout: Duration,
    ) -> Result<(), RequestError> {
        // The handler's call ends at the deadline too, as a failure of its endpoint unless it
        // had answered with `respond`, so that an endpoint that hangs opens its circuit like
        // one that fails.
        let answered = || pending.is_answered();
        let delivery =
            self.inner
                .endpoints
                .deliver_until(topic, &message, Some((deadline, &answered)));
        match tokio::time::timeout_at(deadline, delivery).await {
            Ok(Ok(outputs)) => {
                if let Some(response) = outputs.into_iter().next() {
                    self.respond(&message, response).await?;
                }
            }
            // The deadline has passed: the wait that follows returns a response that came in
            // time, or counts the request as timed out.
            Ok(Err(EndpointError::TimedOut { .. })) | Err(_) => {}
            Ok(Err(EndpointError::NoEndpoint { .. })) => {
                self.publish_request(topic, message, deadline, timeout)
                    .await?;
            }
            Ok(Err(err)) => return Err(RequestError::Delivery(err.into())),
        }
        Ok(())
    }

    /// Publishes a request to the topic's subscribers, waiting for room in their queues up
    /// to `deadline`.
    async fn publish_request(
        &self,
        topic: &str,
        message: Message,
        deadline: Instant,
        timeout: Duration,
    ) -> Result<(), RequestError> {
        let mut publish = pin!(self.inner.pubsub.publish(topic, message));
        // Publishing completes at once unless a queue is full under the `Block` policy: only
        // then is the deadline's timer built, boxed, so that the timer of this slow path does
        // not make every request's future larger.
        let published = match futures::poll!(publish.as_mut()) {
            Poll::Ready(published) => published,
            Poll::Pending => Box::pin(tokio::time::timeout_at(deadline, publish))
                .await
                .map_err(|_| RequestError::Timeout { after: timeout })?,
        };
        published.map_err(RequestError::Delivery)
    }

    /// [`request`](Self::request) with the configured
    /// [`correlation_timeout`](BusConfig::correlation_timeout).
    pub async fn call(&self, topic: &str, message: Message) -> Result<Message, RequestError> {
        self.request(topic, message, self.inner.config.correlation_timeout())
            .await
    }

    /// Answers `request` with `response`.
    ///
    /// The response gets the request's `correlationid` and the `response` kind. A request
    /// made on this bus is answered in process; one whose `replyto` names another topic
    /// (it came from another process through a transport) is answered by publishing there.
    /// A request without a correlation id is a [`RequestError::MissingCorrelationId`].
    pub async fn respond(
        &self,
        request: &Message,
        mut response: Message,
    ) -> Result<(), RequestError> {
        let Some(correlation_id) = request.attributes().correlation_id() else {
            let id = request.attributes().id().unwrap_or_default().to_owned();
            return Err(RequestError::MissingCorrelationId { id });
        };
        if MessageKind::of(&response) != MessageKind::Response {
            MessageKind::Response.stamp(&mut response);
        }
        // A response made from the request (an echo, or `detached`) carries its id already:
        // setting it again would copy it for nothing.
        if response.attributes().correlation_id() != Some(correlation_id) {
            response
                .attributes_mut()
                .set_correlation_id(correlation_id)
                .map_err(RequestError::Delivery)?;
        }
        match request.attributes().get(REPLY_TO_ATTRIBUTE) {
            Some(reply_to) if reply_to != REPLY_INBOX => self
                .inner
                .pubsub
                .publish(reply_to, response)
                .await
                .map_err(RequestError::Delivery),
            _ => self.inner.correlator.resolve(response),
        }
    }

    /// The request/reply counters: pending, resolved, timed out, late and unknown responses.
    pub fn request_stats(&self) -> CorrelatorStats {
        self.inner.correlator.stats()
    }

    /// Wraps `publisher` in a batching publisher with the bus's batch settings.
    pub fn batching<P: Publisher + ?Sized + 'static>(
        &self,
        publisher: Arc<P>,
    ) -> BatchingPublisher<P> {
        BatchingPublisher::new(publisher, *self.inner.config.batch())
    }

    /// Closes the bus: fails every waiting request with `Closed`, stops the health monitor
    /// (waiting up to `timeout`), and closes the pub/sub, which ends every subscription.
    /// Idempotent.
    pub async fn close(&self, timeout: Duration) -> CoreResult<()> {
        self.inner.correlator.close();
        let monitor = self.inner.endpoints.shutdown(timeout).await;
        self.inner.pubsub.close().await?;
        monitor.map_err(|stuck| switchyard_core::Error::Timeout {
            operation: "stopping the health monitor",
            after: stuck.after,
        })
    }
}
