//! Integration tests of the in-memory pub/sub, by area, with the helpers they share.

mod basics;
mod fan_out;
mod groups;
mod lifecycle;
mod ordering;
mod policies;
mod redelivery;
mod replay;

use std::time::Duration;

use futures::StreamExt;
use switchyard_bus::pubsub::{MemoryPubSub, PubSubConfig, PubSubConfigBuilder, Subscription};
use switchyard_core::Message;

/// How long a test waits for something that must happen; in paused-clock tests the clock
/// jumps there as soon as everything is idle, so a hang fails fast.
const DEADLINE: Duration = Duration::from_secs(30);

/// A bus with `config`.
fn bus(config: PubSubConfigBuilder) -> MemoryPubSub {
    MemoryPubSub::new(config.build().expect("valid config"))
}

/// A bus with the default configuration.
fn default_bus() -> MemoryPubSub {
    bus(PubSubConfig::builder())
}

/// A message whose payload is `text`.
fn msg(text: impl Into<String>) -> Message {
    Message::new(text.into())
}

/// The payload of `message`, as text.
fn body(message: &Message) -> String {
    String::from_utf8_lossy(message.payload()).into_owned()
}

/// The next delivery, failing the test if none comes before the deadline.
async fn recv(subscription: &mut Subscription) -> Message {
    tokio::time::timeout(DEADLINE, subscription.next())
        .await
        .expect("a delivery before the deadline")
        .expect("the stream is open")
        .expect("a message, not an error")
}

/// The payloads of the next `count` deliveries, each acked.
async fn recv_acked(subscription: &mut Subscription, count: usize) -> Vec<String> {
    let mut bodies = Vec::with_capacity(count);
    for _ in 0..count {
        let message = recv(subscription).await;
        bodies.push(body(&message));
        message.ack();
    }
    bodies
}

/// Whether nothing is delivered within `wait`.
async fn nothing_within(subscription: &mut Subscription, wait: Duration) -> bool {
    tokio::time::timeout(wait, subscription.next())
        .await
        .is_err()
}

/// Whether the stream ends before the deadline.
async fn ends(subscription: &mut Subscription) -> bool {
    matches!(
        tokio::time::timeout(DEADLINE, subscription.next()).await,
        Ok(None)
    )
}

/// `"0"`, `"1"`, ... up to `count`.
fn numbers(count: usize) -> Vec<String> {
    (0..count).map(|n| n.to_string()).collect()
}

/// The options of [`blocked_behind`]'s subscription outside any group: a queue of one,
/// blocking publishers for an hour at most.
fn one_blocking_slot() -> switchyard_bus::pubsub::SubscribeOptions {
    switchyard_bus::pubsub::SubscribeOptions::builder()
        .buffer(1)
        .policy(switchyard_bus::pubsub::SlowConsumerPolicy::Block {
            timeout: Duration::from_secs(3600),
        })
        .build()
        .unwrap()
}

/// A subscription to `t` with `options` (a queue of one, under the `Block` policy), full,
/// and a publish to it blocked for room: the subscription, and the blocked publish's task.
async fn blocked_behind(
    bus: &MemoryPubSub,
    options: switchyard_bus::pubsub::SubscribeOptions,
) -> (
    Subscription,
    tokio::task::JoinHandle<switchyard_core::Result<()>>,
) {
    let slow = bus.subscribe_with("t", options).unwrap();
    bus.publish("t", msg("fills the queue")).await.unwrap();
    let blocked = {
        let bus = bus.clone();
        tokio::spawn(async move { bus.publish("t", msg("blocked")).await })
    };
    tokio::task::yield_now().await;
    assert!(!blocked.is_finished(), "the queue is full");
    (slow, blocked)
}
