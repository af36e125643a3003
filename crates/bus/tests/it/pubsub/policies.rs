//! Slow consumers: each policy, and memory that stays bounded.

use switchyard_bus::pubsub::{SlowConsumerPolicy, SubscribeOptions};
use switchyard_core::Error;

use super::*;

fn with_policy(policy: SlowConsumerPolicy, buffer: usize) -> SubscribeOptions {
    SubscribeOptions::builder()
        .policy(policy)
        .buffer(buffer)
        .build()
        .unwrap()
}

const BLOCK: SlowConsumerPolicy = SlowConsumerPolicy::Block {
    timeout: Duration::from_millis(500),
};

#[tokio::test(start_paused = true)]
async fn block_waits_for_room_then_times_out_with_a_typed_error() {
    let bus = default_bus();
    let mut slow = bus.subscribe_with("t", with_policy(BLOCK, 2)).unwrap();
    bus.publish("t", msg("0")).await.unwrap();
    bus.publish("t", msg("1")).await.unwrap();

    let started = tokio::time::Instant::now();
    let error = bus.publish("t", msg("2")).await.unwrap_err();
    assert!(matches!(
        error,
        Error::Timeout { after, .. } if after == Duration::from_millis(500)
    ));
    assert!(error.is_transient());
    assert_eq!(started.elapsed(), Duration::from_millis(500));
    assert_eq!(recv_acked(&mut slow, 2).await, ["0", "1"]);
}

#[tokio::test(start_paused = true)]
async fn a_blocked_publisher_goes_on_when_the_consumer_takes_its_queue() {
    let bus = default_bus();
    let mut slow = bus.subscribe_with("t", with_policy(BLOCK, 2)).unwrap();
    let publisher = {
        let bus = bus.clone();
        tokio::spawn(async move {
            for n in 0..6 {
                bus.publish("t", msg(n.to_string())).await?;
            }
            Ok::<_, Error>(())
        })
    };
    assert_eq!(recv_acked(&mut slow, 6).await, numbers(6));
    tokio::time::timeout(DEADLINE, publisher)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(slow.stats().dropped, 0);
}

#[tokio::test(start_paused = true)]
async fn a_block_without_a_time_limit_waits_for_room() {
    // `Duration::MAX` used to overflow the deadline and panic the publisher.
    let unlimited = SlowConsumerPolicy::Block {
        timeout: Duration::MAX,
    };
    let bus = default_bus();
    let mut slow = bus.subscribe_with("t", with_policy(unlimited, 1)).unwrap();
    bus.publish("t", msg("0")).await.unwrap();
    let (published, received) = tokio::join!(
        tokio::time::timeout(DEADLINE, bus.publish("t", msg("1"))),
        recv_acked(&mut slow, 2)
    );
    published.expect("room came").expect("published");
    assert_eq!(received, numbers(2));
}

#[tokio::test]
async fn drop_oldest_keeps_the_newest_and_counts_what_it_drops() {
    let bus = default_bus();
    let mut lossy = bus
        .subscribe_with("t", with_policy(SlowConsumerPolicy::DropOldest, 3))
        .unwrap();
    for n in 0..10 {
        bus.publish("t", msg(n.to_string())).await.unwrap();
    }
    let stats = lossy.stats();
    assert_eq!((stats.dropped, stats.queue_depth), (7, 3));
    assert_eq!(recv_acked(&mut lossy, 3).await, ["7", "8", "9"]);
    assert!(nothing_within(&mut lossy, Duration::from_millis(20)).await);
    assert_eq!(bus.snapshot().subscriptions[0].stats.dropped, 7);
}

#[tokio::test]
async fn fail_rejects_the_publish_with_queue_full_and_other_subscribers_still_get_it() {
    let bus = default_bus();
    let mut strict = bus
        .subscribe_with("t", with_policy(SlowConsumerPolicy::Fail, 1))
        .unwrap();
    let mut relaxed = bus
        .subscribe_with("t", SubscribeOptions::default())
        .unwrap();
    bus.publish("t", msg("0")).await.unwrap();
    let error = bus.publish("t", msg("1")).await.unwrap_err();
    let Error::QueueFull { queue } = &error else {
        panic!("unexpected {error:?}");
    };
    assert!(queue.starts_with("pub/sub subscription"));
    assert!(error.is_transient());
    assert_eq!(recv_acked(&mut relaxed, 2).await, ["0", "1"]);
    assert_eq!(recv_acked(&mut strict, 1).await, ["0"]);
    bus.publish("t", msg("2")).await.unwrap();
    assert_eq!(recv_acked(&mut strict, 1).await, ["2"]);
}

#[tokio::test(start_paused = true)]
async fn memory_stays_bounded_under_a_slow_consumer_with_each_policy() {
    for policy in [
        BLOCK,
        SlowConsumerPolicy::DropOldest,
        SlowConsumerPolicy::Fail,
    ] {
        let bus = default_bus();
        let options = SubscribeOptions::builder()
            .policy(policy)
            .buffer(8)
            .max_in_flight(4)
            .build()
            .unwrap();
        let mut slow = bus.subscribe_with("t", options).unwrap();
        // The consumer takes what it may and never acks: it holds 4 and has taken a batch.
        let mut held = Vec::new();
        for round in 0..200 {
            let _ = bus.publish("t", msg(round.to_string())).await;
            if let Ok(Some(Ok(message))) =
                tokio::time::timeout(Duration::from_millis(1), slow.next()).await
            {
                held.push(message);
            }
            let stats = slow.stats();
            assert!(stats.in_flight <= 4, "{policy}: {stats:?}");
            assert!(stats.queue_depth <= 2 * 8, "{policy}: {stats:?}");
        }
        assert_eq!(held.len(), 4, "{policy}");
        bus.close().await.unwrap();
    }
}

#[tokio::test(start_paused = true)]
async fn memory_stays_bounded_when_the_consumer_nacks_everything() {
    let bus = bus(PubSubConfig::builder()
        .redelivery_delay(Duration::from_millis(10))
        .max_redelivery_delay(Duration::from_millis(20)));
    let options = SubscribeOptions::builder()
        .policy(SlowConsumerPolicy::DropOldest)
        .buffer(16)
        .max_in_flight(4)
        .build()
        .unwrap();
    let mut nacker = bus.subscribe_with("t", options).unwrap();
    for round in 0..500 {
        bus.publish("t", msg(round.to_string())).await.unwrap();
        if let Ok(Some(Ok(message))) =
            tokio::time::timeout(Duration::from_millis(5), nacker.next()).await
        {
            message.nack();
        }
        let stats = nacker.stats();
        assert!(stats.in_flight <= 4, "{stats:?}");
        assert!(stats.queue_depth <= 2 * 16 + 4, "{stats:?}");
    }
    let stats = nacker.stats();
    assert!(stats.nacked > 100 && stats.redelivered > 100, "{stats:?}");
    assert!(stats.dropped > 0, "new messages were dropped, not piled up");
}

/// A publish blocked on a subscription that then leaves is taken by no live subscription:
/// it must be counted (as unrouted, or discarded), not vanish.
#[tokio::test(start_paused = true)]
async fn a_blocked_publish_whose_subscription_leaves_is_counted() {
    let bus = default_bus();
    let (slow, blocked) = blocked_behind(&bus, one_blocking_slot()).await;
    drop(slow);
    let result = tokio::time::timeout(DEADLINE, blocked)
        .await
        .unwrap()
        .unwrap();
    assert!(result.is_ok() || matches!(result, Err(Error::Closed { .. })));
    let stats = bus.snapshot().stats;
    // One queued message discarded with the subscription; the blocked one went nowhere.
    assert_eq!(
        stats.discarded + stats.unrouted,
        2,
        "a published message was neither delivered nor counted: {stats:?}"
    );
}
