//! One publish to many subscriptions: the deliveries share one block (one allocation per
//! publish), yet each is settled on its own, whatever the others do with theirs.

use switchyard_bus::pubsub::{SlowConsumerPolicy, SubscribeOptions};

use super::*;

/// Subscriptions to `t`, `count` of them, outside any group.
fn subscribe(bus: &MemoryPubSub, count: usize) -> Vec<Subscription> {
    (0..count)
        .map(|_| {
            bus.subscribe_with("t", SubscribeOptions::default())
                .unwrap()
        })
        .collect()
}

/// `(delivered, acked, nacked, redelivered, in_flight)` of `subscription`.
fn counts(subscription: &Subscription) -> (u64, u64, u64, u64, usize) {
    let stats = subscription.stats();
    (
        stats.delivered,
        stats.acked,
        stats.nacked,
        stats.redelivered,
        stats.in_flight,
    )
}

/// Checks, for a fan-out `width` wide (within a block's inline slots and past them), that
/// an ack, a nack and a drop of one publish's deliveries reach only their own
/// subscription: the nacked and the dropped one come back there, and only there.
async fn check_each_delivery_is_settled_alone(width: usize) {
    let bus = default_bus();
    let mut subscriptions = subscribe(&bus, width);
    bus.publish("t", msg("one")).await.unwrap();
    let mut deliveries = Vec::new();
    for subscription in &mut subscriptions {
        deliveries.push(recv(subscription).await);
    }
    let (last, rest) = deliveries.split_last_mut().unwrap();
    let (nacked, acked) = rest.split_first_mut().unwrap();
    assert!(nacked.nack());
    for message in acked.iter() {
        assert!(message.ack(), "each delivery decides on its own");
        assert!(!message.nack());
    }
    // The last subscriber drops its delivery unsettled.
    let dropped = std::mem::replace(last, msg("placeholder"));
    drop(dropped);

    let (first, others) = subscriptions.split_first_mut().unwrap();
    let (final_one, middle) = others.split_last_mut().unwrap();
    for subscription in [&mut *first, &mut *final_one] {
        let again = recv(subscription).await;
        assert_eq!(body(&again), "one");
        assert!(again.ack());
    }
    for subscription in middle.iter_mut() {
        assert!(nothing_within(subscription, Duration::from_secs(60)).await);
        assert_eq!(counts(subscription), (1, 1, 0, 0, 0));
    }
    assert_eq!(counts(first), (2, 1, 1, 1, 0));
    assert_eq!(counts(final_one), (2, 1, 1, 1, 0));
    drop(deliveries);
}

#[tokio::test(start_paused = true)]
async fn each_delivery_of_a_publish_is_settled_alone() {
    check_each_delivery_is_settled_alone(3).await;
}

#[tokio::test(start_paused = true)]
async fn each_delivery_of_a_wide_publish_is_settled_alone() {
    // Past the four slots a block holds inline.
    check_each_delivery_is_settled_alone(7).await;
}

#[tokio::test(start_paused = true)]
async fn a_queued_delivery_handed_to_another_member_is_settled_by_it() {
    let bus = default_bus();
    let group = || {
        SubscribeOptions::builder()
            .group("workers")
            .build()
            .unwrap()
    };
    let mut audit = bus
        .subscribe_with("t", SubscribeOptions::default())
        .unwrap();
    let leaving = bus.subscribe_with("t", group()).unwrap();
    let mut staying = bus.subscribe_with("t", group()).unwrap();
    // Round-robin gives the first publish to the first member, which leaves without
    // taking it: its queued delivery goes to the other member.
    bus.publish("t", msg("handed on")).await.unwrap();
    assert_eq!(
        leaving.stats().queue_depth,
        1,
        "the leaving member holds it"
    );
    drop(leaving);
    let audited = recv(&mut audit).await;
    let handed = recv(&mut staying).await;
    assert_eq!(body(&handed), "handed on");
    assert!(handed.nack());
    assert!(
        audited.ack(),
        "the other target's delivery of the same publish"
    );
    let again = recv(&mut staying).await;
    assert_eq!(body(&again), "handed on");
    assert!(again.ack());
    assert_eq!(counts(&staying), (2, 1, 1, 1, 0));
    assert_eq!(counts(&audit), (1, 1, 0, 0, 0));
    assert!(nothing_within(&mut audit, Duration::from_secs(60)).await);
}

#[tokio::test(start_paused = true)]
async fn a_publish_blocked_behind_an_unsubscribed_pattern_resumes_at_the_blocked_target() {
    let bus = default_bus();
    let blocking = SubscribeOptions::builder()
        .buffer(1)
        .policy(SlowConsumerPolicy::Block {
            timeout: Duration::from_secs(60),
        })
        .build()
        .unwrap();
    let gone = bus
        .subscribe_with("t.*", SubscribeOptions::default())
        .unwrap();
    let mut full = bus.subscribe_with("t.*", blocking).unwrap();
    let mut other = bus
        .subscribe_with("t.*", SubscribeOptions::default())
        .unwrap();
    // On the paused clock this takes no time: the bus's task folds the three patterns into
    // its index, where an unsubscribed one stays until the next fold.
    tokio::time::sleep(Duration::from_secs(2)).await;
    bus.publish("t.x", msg("first")).await.unwrap();
    drop(gone);
    // The first target is gone, the second is full and blocks the publish: it must go on
    // with that one, not with the one after it.
    let publish = async { bus.publish("t.x", msg("second")).await.unwrap() };
    let drain = async {
        assert_eq!(recv_acked(&mut full, 2).await, ["first", "second"]);
    };
    tokio::join!(publish, drain);
    assert_eq!(recv_acked(&mut other, 2).await, ["first", "second"]);
    assert!(nothing_within(&mut other, Duration::from_secs(60)).await);
}
