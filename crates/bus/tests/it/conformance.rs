//! The universal transport conformance suite (`switchyard-conformance`) on
//! [`MemoryPubSub`], with the features it really has, in three configurations: the
//! defaults, an in-flight limit of one (which orders deliveries), and replay for late
//! subscribers.
//!
//! The bus is one in-process instance whose `close` ends everything, so the harness hands
//! out the bus itself as every publisher and subscriber, and claims
//! `require_single_instance`. A group member is the bus subscribing with
//! [`SubscribeOptions::group`](switchyard_bus::pubsub::SubscribeOptionsBuilder::group).
//! Nothing is kept without a subscriber (`persistent: false`), nothing survives the
//! process (`restart_service: false`), and delivery is at least once
//! (`exactly_once: false`).

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use switchyard_bus::pubsub::{
    MemoryPubSub, PubSubConfig, PubSubConfigBuilder, SlowConsumerPolicy, SubscribeOptions,
};
use switchyard_conformance::{Features, Harness};
use switchyard_core::{Error, MessageStream, Publisher, Result, Subscriber};

/// What every configuration below shares: short redelivery backoffs, so that the
/// scenarios that nack a message six times run in milliseconds (the production default
/// starts at 100 ms and doubles), and a block timeout far above any scheduling hiccup
/// of a loaded debug build, so that backpressure never fails a publish.
fn base() -> PubSubConfigBuilder {
    PubSubConfig::builder()
        .redelivery_delay(Duration::from_millis(1))
        .max_redelivery_delay(Duration::from_millis(10))
        .policy(SlowConsumerPolicy::Block {
            timeout: Duration::from_secs(30),
        })
}

/// The conformance harness over one [`MemoryPubSub`].
struct Memory {
    bus: MemoryPubSub,
}

impl Memory {
    fn new(config: PubSubConfigBuilder) -> Self {
        let config = config.build().expect("a valid pub/sub configuration");
        Self {
            bus: MemoryPubSub::new(config),
        }
    }
}

#[async_trait]
impl Harness for Memory {
    async fn publisher(&self) -> Result<Arc<dyn Publisher>> {
        Ok(Arc::new(self.bus.clone()))
    }

    async fn subscriber(&self) -> Result<Arc<dyn Subscriber>> {
        Ok(Arc::new(self.bus.clone()))
    }

    async fn subscriber_in_group(&self, group: &str) -> Result<Arc<dyn Subscriber>> {
        let options = SubscribeOptions::builder()
            .group(group)
            .build()
            .map_err(Error::permanent_transport)?;
        Ok(Arc::new(GroupMember {
            bus: self.bus.clone(),
            options,
        }))
    }
}

/// The bus as a `Subscriber` whose subscriptions join one consumer group. Closing it
/// closes the bus, as closing the bus as a `Subscriber` does.
struct GroupMember {
    bus: MemoryPubSub,
    options: SubscribeOptions,
}

#[async_trait]
impl Subscriber for GroupMember {
    async fn subscribe(&self, topic: &str) -> Result<MessageStream> {
        self.bus
            .subscribe_with(topic, self.options.clone())
            .map(Into::into)
    }

    async fn close(&self) -> Result<()> {
        self.bus.close().await
    }
}

/// What the bus guarantees with every configuration below.
pub(crate) const FEATURES: Features = Features {
    consumer_groups: true,
    exactly_once: false,
    guaranteed_order: false,
    guaranteed_order_single_subscriber: true,
    persistent: false,
    restart_service: false,
    new_subscriber_receives_old_messages: false,
    require_single_instance: true,
};

/// The defaults, but for the backoffs and the block timeout: per-publisher order for a
/// single subscriber, deliveries ahead of acks (up to 1000 in flight).
mod defaults {
    use switchyard_conformance::conformance_tests;

    use super::{FEATURES, Memory, base};

    conformance_tests!(Memory::new(base()), FEATURES);
}

/// One message in flight per subscription: the next is delivered only once the previous
/// one is acked, and a nacked one is redelivered first, so order is guaranteed.
mod in_flight_one {
    use switchyard_conformance::{Features, conformance_tests};

    use super::{FEATURES, Memory, base};

    conformance_tests!(
        Memory::new(base().max_in_flight(1)),
        Features {
            guaranteed_order: true,
            ..FEATURES
        }
    );
}

/// Replay of the last 1000 messages of each topic to every new subscription: a late
/// subscriber receives what was published before it subscribed.
mod replay {
    use switchyard_conformance::{Features, conformance_tests};

    use super::{FEATURES, Memory, base};

    conformance_tests!(
        Memory::new(base().replay(1000).replay_on_subscribe(1000)),
        Features {
            new_subscriber_receives_old_messages: true,
            ..FEATURES
        }
    );
}
