//! The bus issue's hot-path rule, counted: at most one allocation per delivered message.
//!
//! A binary of its own, because `allocation_counter` installs a counting global allocator.
//! It counts per thread, and the bus runs on a current-thread runtime driven by the
//! measuring thread, so that only the allocations of the path under test are counted,
//! whatever else the test harness does meanwhile.

use std::time::Duration;

use futures::StreamExt;
use switchyard_bus::pubsub::{
    MemoryPubSub, PubSubConfig, SlowConsumerPolicy, SubscribeOptions, Subscription,
};
use switchyard_core::Message;
use tokio::runtime::Runtime;

/// Messages published per measured round: many, so that a per-round cost could not pass
/// unnoticed for a per-message one, nor the other way round.
const MESSAGES: u64 = 2_000;

/// Allocations a round may make whatever its length and its number of subscriptions: the
/// join over the subscriptions.
const PER_ROUND: u64 = 4;

fn message() -> Message {
    Message::builder()
        .message_type("orders.created")
        .payload(vec![7u8; 256])
        .build()
        .expect("a valid message")
}

/// Room for a whole round, so that the publisher never waits: a full queue is the slow
/// path, which boxes its wait (two allocations per wait, not per message).
fn options() -> SubscribeOptions {
    SubscribeOptions::builder()
        .buffer(MESSAGES as usize)
        .policy(SlowConsumerPolicy::Block {
            timeout: Duration::from_secs(60),
        })
        .build()
        .expect("valid options")
}

/// Publishes `MESSAGES` clones of one message to `subscribers` subscriptions, each of which
/// receives and acks them, and returns the allocations that the second such round made.
fn allocations_of_a_round(subscribers: usize) -> u64 {
    let runtime: Runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    // The bus starts its redelivery task on the runtime.
    let bus = runtime.block_on(async { MemoryPubSub::new(PubSubConfig::default()) });
    let mut subscriptions: Vec<Subscription> = (0..subscribers)
        .map(|_| bus.subscribe_with("orders", options()))
        .collect::<Result<_, _>>()
        .expect("subscriptions");
    let template = message();
    let mut round = || {
        let publish = async {
            for _ in 0..MESSAGES {
                bus.publish("orders", template.clone())
                    .await
                    .expect("published");
            }
        };
        let receive =
            futures::future::join_all(subscriptions.iter_mut().map(|subscription| async move {
                for _ in 0..MESSAGES {
                    let message = subscription
                        .next()
                        .await
                        .expect("the stream is open")
                        .expect("a message");
                    assert!(message.ack(), "each delivery is settled once");
                }
            }));
        runtime.block_on(async { tokio::join!(publish, receive) });
    };
    // Warm-up rounds grow whatever grows once: the runtime's own state, and each
    // subscription's two buffers, which trade places at each batch (so two rounds).
    round();
    round();
    allocation_counter::measure(round).count_total
}

/// Checks the rule for `subscribers` subscriptions: one allocation per delivered message
/// (its acker), and nothing else that grows with the messages.
fn check(subscribers: usize) {
    let deliveries = MESSAGES * subscribers as u64;
    let made = allocations_of_a_round(subscribers);
    assert!(
        made <= deliveries + PER_ROUND,
        "{made} allocations for {deliveries} deliveries to {subscribers} subscription(s)"
    );
    // And the count is a real one: each delivery's acker is counted.
    assert!(
        made >= deliveries,
        "{made} allocations for {deliveries} deliveries"
    );
}

#[test]
fn one_to_one_allocates_once_per_delivery() {
    check(1);
}

#[test]
fn fan_out_allocates_once_per_delivery() {
    check(4);
}
