//! [`MemoryPubSub`]: the cheap, cloneable handle to one in-memory bus, and its
//! `Publisher` and `Subscriber` implementations.

use std::{fmt, sync::Arc};

use async_trait::async_trait;
use switchyard_core::{Message, MessageStream, Publisher, Result, Subscriber};

use super::{
    config::PubSubConfig, options::SubscribeOptions, shared::Shared, stats::PubSubSnapshot,
    subscription::Subscription,
};

/// The in-memory pub/sub: Switchyard's embedded default transport. See the
/// [module documentation](super) for its delivery guarantees, bounds and ordering.
///
/// A cheap handle: clones share one bus. When the last handle is dropped the bus closes
/// as by [`close`](Self::close), without waiting for its task; subscriptions do not keep it
/// open.
///
/// ```
/// use futures::StreamExt;
/// use switchyard_bus::pubsub::{MemoryPubSub, PubSubConfig, SubscribeOptions};
/// use switchyard_core::{Message, Publisher, Subscriber};
///
/// # tokio_test_block_on(async {
/// let bus = MemoryPubSub::new(PubSubConfig::default());
///
/// // Two members of one group share the work; an ungrouped subscriber sees everything.
/// let billing = SubscribeOptions::builder().group("billing").build()?;
/// let mut worker_a = bus.subscribe_with("orders.created", billing.clone())?;
/// let mut worker_b = bus.subscribe_with("orders.created", billing)?;
/// let mut audit = bus.subscribe("orders.**").await?;
///
/// for n in 0..4 {
///     bus.publish("orders.created", Message::new(format!("order {n}"))).await?;
/// }
/// for _ in 0..4 {
///     audit.next().await.expect("a delivery")?.ack();
/// }
/// for _ in 0..2 {
///     worker_a.next().await.expect("a delivery")?.ack();
///     worker_b.next().await.expect("a delivery")?.ack();
/// }
/// Publisher::close(&bus).await?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
/// # }
/// ```
#[derive(Clone)]
pub struct MemoryPubSub {
    handle: Arc<Handle>,
}

/// Closes the bus when the last [`MemoryPubSub`] clone is dropped.
struct Handle {
    shared: Arc<Shared>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.shared.shutdown();
    }
}

impl MemoryPubSub {
    /// A new bus with `config`.
    ///
    /// # Panics
    ///
    /// Outside a Tokio runtime, since it starts the bus's redelivery task there (as
    /// `tokio::spawn` does).
    pub fn new(config: PubSubConfig) -> Self {
        Self {
            handle: Arc::new(Handle {
                shared: Shared::start(config),
            }),
        }
    }

    fn shared(&self) -> &Arc<Shared> {
        &self.handle.shared
    }

    /// The bus's configuration.
    pub fn config(&self) -> &PubSubConfig {
        self.shared().config()
    }

    /// Publishes `message` on `topic`, to every matching subscription (one member per
    /// consumer group).
    ///
    /// Returns when every matching subscription has queued it. Publishing to a topic that
    /// nothing matches succeeds and counts the message as unrouted (or only records it for
    /// replay). The message's own acker is released, not settled: publish a
    /// [`detached`](Message::detached) copy of a delivered message whose delivery you settle
    /// yourself.
    ///
    /// # Errors
    ///
    /// - [`Error::TooLarge`](switchyard_core::Error::TooLarge) beyond the configured limits;
    /// - [`Error::Transport`](switchyard_core::Error::Transport) wrapping
    ///   [`TopicError::TooLong`](super::TopicError::TooLong) for a topic over
    ///   [`MAX_TOPIC_LEN`](super::MAX_TOPIC_LEN);
    /// - [`Error::Timeout`](switchyard_core::Error::Timeout) or
    ///   [`Error::QueueFull`](switchyard_core::Error::QueueFull) when a subscription's
    ///   queue is full under its policy; the other matching subscriptions still got the
    ///   message;
    /// - [`Error::Closed`](switchyard_core::Error::Closed) after [`close`](Self::close).
    pub fn publish<'a>(
        &'a self,
        topic: &'a str,
        message: Message,
    ) -> impl Future<Output = Result<()>> + Send + 'a {
        // The shared future itself, not wrapped in another: one less copy of the message.
        self.shared().publish(topic, message)
    }

    /// Subscribes to a topic, or to every topic a pattern matches (see
    /// [`switchyard_routing::pattern`] for the syntax), with `options`.
    ///
    /// # Errors
    ///
    /// - [`Error::Transport`](switchyard_core::Error::Transport) wrapping
    ///   [`TopicError::InvalidPattern`](super::TopicError::InvalidPattern) if `topic` does
    ///   not parse;
    /// - [`Error::QueueFull`](switchyard_core::Error::QueueFull) past
    ///   [`max_subscriptions`](PubSubConfig::max_subscriptions);
    /// - [`Error::Closed`](switchyard_core::Error::Closed) after [`close`](Self::close).
    pub fn subscribe_with(&self, topic: &str, options: SubscribeOptions) -> Result<Subscription> {
        self.shared().subscribe(topic, &options)
    }

    /// Closes the bus: publish and subscribe fail with
    /// [`Error::Closed`](switchyard_core::Error::Closed) from now on, every subscription
    /// stream ends (also one waiting for an in-flight slot), publishers blocked on a full
    /// queue fail, and what was queued or waiting for redelivery is discarded (counted in
    /// [`PubSubStats::discarded`](super::PubSubStats::discarded)). Acking or nacking a
    /// message delivered before is harmless and changes nothing. Idempotent.
    ///
    /// # Errors
    ///
    /// [`Error::Timeout`](switchyard_core::Error::Timeout) if the bus's task did not stop
    /// within [`close_timeout`](PubSubConfig::close_timeout).
    pub async fn close(&self) -> Result<()> {
        self.shared().close().await
    }

    /// Whether the bus is closed.
    pub fn is_closed(&self) -> bool {
        self.shared().is_closed()
    }

    /// The bus's counters and every live subscription's.
    pub fn snapshot(&self) -> PubSubSnapshot {
        self.shared().snapshot()
    }
}

#[async_trait]
impl Publisher for MemoryPubSub {
    async fn publish(&self, topic: &str, message: Message) -> Result<()> {
        MemoryPubSub::publish(self, topic, message).await
    }

    async fn close(&self) -> Result<()> {
        MemoryPubSub::close(self).await
    }
}

#[async_trait]
impl Subscriber for MemoryPubSub {
    /// Subscribes with the bus's default options (no group, the configured
    /// [`replay_on_subscribe`](PubSubConfig::replay_on_subscribe)); patterns are supported.
    async fn subscribe(&self, topic: &str) -> Result<MessageStream> {
        self.subscribe_with(topic, SubscribeOptions::default())
            .map(Into::into)
    }

    async fn close(&self) -> Result<()> {
        MemoryPubSub::close(self).await
    }
}

impl fmt::Debug for MemoryPubSub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryPubSub")
            .field("closed", &self.is_closed())
            .field("subscriptions", &self.shared().registry().len())
            .finish_non_exhaustive()
    }
}
