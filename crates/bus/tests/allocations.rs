//! The bus issue's hot-path rule, counted: at most one allocation per delivered message
//! (in a fan-out, one per published message); and what a request/reply round trip
//! allocates.
//!
//! A binary of its own, because `allocation_counter` installs a counting global allocator.
//! It counts per thread, and the bus runs on a current-thread runtime driven by the
//! measuring thread, so that only the allocations of the path under test are counted,
//! whatever else the test harness does meanwhile.

use std::time::Duration;

use futures::StreamExt;
use switchyard_bus::{
    Bus, BusConfig,
    pubsub::{MemoryPubSub, PubSubConfig, SlowConsumerPolicy, SubscribeOptions, Subscription},
};
use switchyard_core::{Acker, Message};
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

/// Checks the rule for `subscribers` subscriptions: one allocation per published message,
/// however many subscriptions it goes to (its acker for one; for several, the block that
/// their deliveries share), and nothing else that grows with the messages.
fn check(subscribers: usize) {
    let made = allocations_of_a_round(subscribers);
    assert!(
        made <= MESSAGES + PER_ROUND,
        "{made} allocations for {MESSAGES} messages to {subscribers} subscription(s)"
    );
    // And the count is a real one: each message's acker or block is counted.
    assert!(
        made >= MESSAGES,
        "{made} allocations for {MESSAGES} messages"
    );
}

#[test]
fn one_to_one_allocates_once_per_message() {
    check(1);
}

#[test]
fn fan_out_allocates_once_per_message() {
    check(4);
}

/// Request/reply round trips per measured round.
const ROUND_TRIPS: u64 = 1_000;

/// What one round trip on the bus allocates: the request's copy of the caller's attributes,
/// with its kind, correlation id and reply-to set at once; the text of its correlation id;
/// the acker of its delivery to the subscriber; and the response's copy of the attributes,
/// with its kind. The response comes back through the correlator's slot for the request,
/// which reuses the room of finished requests: no channel per request.
const PER_ROUND_TRIP: u64 = 4;

/// Runs `ROUND_TRIPS` requests, `in_flight` at a time, to a subscriber task that answers
/// each with the request itself, and returns the allocations that the second such round
/// made. The answers take no allocation of their own: each shares one acker.
fn allocations_of_round_trips(in_flight: usize) -> u64 {
    // Paused, so that no timer of the bus (its health monitor, its redelivery) fires
    // during a round: the runtime is never idle while requests are in flight.
    let runtime: Runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("a runtime");
    let bus = runtime.block_on(async {
        let bus = Bus::new(BusConfig::default()).expect("inside a runtime");
        let mut requests = bus.subscribe("echo").expect("a subscription");
        let responder = bus.clone();
        let answers = Acker::noop();
        tokio::spawn(async move {
            while let Some(Ok(request)) = requests.next().await {
                let response = request.clone().with_acker(answers.clone());
                responder
                    .respond(&request, response)
                    .await
                    .expect("answered");
                request.ack();
            }
        });
        bus
    });
    let template = message();
    let round = || {
        runtime.block_on(async {
            let request = || bus.request("echo", template.clone(), Duration::from_secs(60));
            for _ in 0..ROUND_TRIPS / in_flight as u64 {
                if in_flight == 1 {
                    let response = request().await.expect("a response");
                    assert_eq!(response.payload(), template.payload());
                    continue;
                }
                for response in futures::future::join_all((0..in_flight).map(|_| request())).await {
                    assert_eq!(response.expect("a response").payload(), template.payload());
                }
            }
        });
    };
    // Warm-up rounds grow whatever grows once: the runtime, the subscription's buffers and
    // the correlator's map.
    round();
    round();
    allocation_counter::measure(round).count_total
}

/// Checks what round trips allocate, `in_flight` at a time: `PER_ROUND_TRIP` each, and
/// nothing else but the test's own vectors of each batch (of its futures, of its outputs)
/// and what any round may make.
fn check_round_trips(in_flight: usize) {
    let made = allocations_of_round_trips(in_flight);
    let batches = ROUND_TRIPS / in_flight as u64;
    let vectors = if in_flight == 1 { 0 } else { 2 };
    let expected = ROUND_TRIPS * PER_ROUND_TRIP;
    assert!(
        (expected..=expected + vectors * batches + PER_ROUND).contains(&made),
        "{made} allocations for {ROUND_TRIPS} round trips, {in_flight} at a time"
    );
}

#[test]
fn a_round_trip_allocates_four_times() {
    check_round_trips(1);
}

#[test]
fn round_trips_in_flight_together_allocate_four_times_each() {
    // Up to 30 futures, `join_all` keeps them in one vector, not one node each.
    check_round_trips(25);
}
