//! The ack contract: acked messages are forgotten, nacked or dropped ones come back after a
//! growing delay, never in a hot loop; and the in-flight limit.

use switchyard_bus::pubsub::SubscribeOptions;
use tokio::time::Instant;

use super::*;

fn backoff_bus() -> MemoryPubSub {
    bus(PubSubConfig::builder()
        .redelivery_delay(Duration::from_millis(100))
        .max_redelivery_delay(Duration::from_secs(10)))
}

#[tokio::test(start_paused = true)]
async fn a_nack_storm_backs_off_exponentially_up_to_the_cap() {
    let bus = backoff_bus();
    let mut subscription = bus
        .subscribe_with("t", SubscribeOptions::default())
        .unwrap();
    bus.publish("t", msg("poison")).await.unwrap();
    let start = Instant::now();
    let mut times = Vec::new();
    while start.elapsed() < Duration::from_secs(60) {
        let Ok(Some(Ok(message))) =
            tokio::time::timeout(Duration::from_secs(11), subscription.next()).await
        else {
            panic!("redelivered within the cap");
        };
        times.push(start.elapsed());
        message.nack();
    }
    let gaps: Vec<u64> = times
        .windows(2)
        .map(|pair| (pair[1] - pair[0]).as_millis() as u64)
        .collect();
    let expected = [
        100, 200, 400, 800, 1600, 3200, 6400, 10_000, 10_000, 10_000, 10_000, 10_000,
    ];
    assert_eq!(gaps.len(), expected.len(), "{gaps:?}");
    for (gap, want) in gaps.iter().zip(expected) {
        // The timer wheel rounds deadlines up to its millisecond resolution.
        assert!((want..=want + 2).contains(gap), "{gaps:?}");
    }
    let stats = subscription.stats();
    assert_eq!(
        (stats.delivered, stats.nacked, stats.redelivered),
        (13, 13, 12)
    );
}

#[tokio::test(start_paused = true)]
async fn many_nacked_messages_are_redelivered_on_schedule_not_in_a_loop() {
    let bus = backoff_bus();
    let mut subscription = bus
        .subscribe_with("t", SubscribeOptions::default())
        .unwrap();
    for n in 0..100 {
        bus.publish("t", msg(n.to_string())).await.unwrap();
    }
    let start = Instant::now();
    let mut deliveries = 0;
    // Redeliveries at 0.1, 0.3, 0.7, 1.5, 3.1 and 6.3 s: seven deliveries per message in 10 s.
    while let Ok(Some(Ok(message))) = tokio::time::timeout(
        Duration::from_secs(10).saturating_sub(start.elapsed()),
        subscription.next(),
    )
    .await
    {
        deliveries += 1;
        message.nack();
    }
    assert_eq!(deliveries, 700);
}

#[tokio::test(start_paused = true)]
async fn a_dropped_message_is_redelivered_and_an_acked_one_is_not() {
    let bus = backoff_bus();
    let mut subscription = bus
        .subscribe_with("t", SubscribeOptions::default())
        .unwrap();
    bus.publish("t", msg("dropped")).await.unwrap();
    bus.publish("t", msg("acked")).await.unwrap();
    let dropped = recv(&mut subscription).await;
    let acked = recv(&mut subscription).await;
    assert_eq!(body(&acked), "acked");
    assert!(acked.ack());
    let at = Instant::now();
    drop(dropped);
    let again = recv(&mut subscription).await;
    assert_eq!(body(&again), "dropped");
    assert!(at.elapsed() >= Duration::from_millis(100));
    // Its attributes are the original's: same id, so consumers can deduplicate.
    assert!(again.attributes().id().is_some());
    again.ack();
    assert!(nothing_within(&mut subscription, Duration::from_secs(60)).await);
    let stats = subscription.stats();
    assert_eq!(
        (stats.delivered, stats.acked, stats.nacked, stats.in_flight),
        (3, 2, 1, 0)
    );
}

#[tokio::test(start_paused = true)]
async fn with_one_in_flight_the_next_message_waits_for_the_ack() {
    let bus = backoff_bus();
    let options = SubscribeOptions::builder()
        .max_in_flight(1)
        .build()
        .unwrap();
    let mut subscription = bus.subscribe_with("t", options).unwrap();
    for n in 0..3 {
        bus.publish("t", msg(n.to_string())).await.unwrap();
    }
    let first = recv(&mut subscription).await;
    assert_eq!(body(&first), "0");
    assert!(nothing_within(&mut subscription, Duration::from_secs(5)).await);

    // A nack brings the same message back before the next one.
    first.nack();
    let again = recv(&mut subscription).await;
    assert_eq!(body(&again), "0");
    assert!(nothing_within(&mut subscription, Duration::from_secs(5)).await);
    again.ack();
    assert_eq!(recv_acked(&mut subscription, 2).await, ["1", "2"]);
    assert_eq!(subscription.stats().in_flight, 0);
}

#[tokio::test(start_paused = true)]
async fn settling_after_close_changes_nothing() {
    let bus = backoff_bus();
    let mut subscription = bus
        .subscribe_with("t", SubscribeOptions::default())
        .unwrap();
    bus.publish("t", msg("a")).await.unwrap();
    bus.publish("t", msg("b")).await.unwrap();
    let a = recv(&mut subscription).await;
    let b = recv(&mut subscription).await;
    bus.close().await.unwrap();
    assert!(a.ack());
    assert!(b.nack());
    drop(b);
    assert!(ends(&mut subscription).await);
}

#[tokio::test(start_paused = true)]
async fn an_uncapped_backoff_stops_at_the_cap_and_redelivery_goes_on() {
    // `Duration::MAX` says "no cap"; the 31st nack of one message asks for 100 ms * 2^30,
    // past the range of the redelivery timer, which used to kill the bus's task and with it
    // every later redelivery.
    let bus = bus(PubSubConfig::builder()
        .redelivery_delay(Duration::from_millis(100))
        .max_redelivery_delay(Duration::MAX));
    let mut poison = bus
        .subscribe_with("poison", SubscribeOptions::default())
        .unwrap();
    let mut healthy = bus
        .subscribe_with("healthy", SubscribeOptions::default())
        .unwrap();
    bus.publish("poison", msg("p")).await.unwrap();
    let start = Instant::now();
    for _ in 0..32 {
        let message = tokio::time::timeout(PubSubConfig::MAX_REDELIVERY_DELAY * 2, poison.next())
            .await
            .expect("redelivered within the cap")
            .expect("the stream is open")
            .expect("a message");
        message.nack();
    }
    assert!(
        start.elapsed() > PubSubConfig::MAX_REDELIVERY_DELAY,
        "the backoff reached the cap"
    );

    bus.publish("healthy", msg("h")).await.unwrap();
    recv(&mut healthy).await.nack();
    let again = tokio::time::timeout(Duration::from_secs(1), healthy.next()).await;
    assert!(
        matches!(again, Ok(Some(Ok(_)))),
        "another subscription's nacked message comes back: {:?}",
        healthy.stats()
    );
}

/// The redelivery timer's range (2^36 ms, about 795 days) is counted from the last time
/// its wheel moved, not from now, and the wheel does not move while it is empty: on a bus
/// that redelivered nothing for 800 days, even a backoff at the cap used to be out of range,
/// and `DelayQueue::insert` panicked in the bus's only task, losing the nacked message (and
/// every later one) with its in-flight slot.
#[tokio::test(start_paused = true)]
async fn a_long_backoff_after_a_long_idle_time_is_still_redelivered() {
    const DAY: Duration = Duration::from_secs(24 * 60 * 60);
    let bus = bus(PubSubConfig::builder()
        .redelivery_delay(Duration::MAX)
        .max_redelivery_delay(Duration::MAX));
    let mut subscription = bus
        .subscribe_with("t", SubscribeOptions::default())
        .unwrap();
    // The bus's task starts, then the bus is idle for 800 days: no nack, so its timer
    // wheel never moves.
    tokio::task::yield_now().await;
    tokio::time::advance(800 * DAY).await;
    bus.publish("t", msg("m")).await.unwrap();
    recv(&mut subscription).await.nack();
    // The backoff is at the cap: the message comes back within it and a day.
    let again = tokio::time::timeout(
        PubSubConfig::MAX_REDELIVERY_DELAY + DAY,
        subscription.next(),
    )
    .await;
    let stats = subscription.stats();
    assert!(
        matches!(again, Ok(Some(Ok(_)))),
        "the nacked message was never redelivered (in_flight {}, redelivered {})",
        stats.in_flight,
        stats.redelivered
    );
}

/// A redelivery already placed in the retry lane when the bus closes is discarded; its
/// in-flight slot must be given back, as one still waiting out its backoff gives it back.
#[tokio::test(start_paused = true)]
async fn a_queued_redelivery_discarded_on_close_gives_its_slot_back() {
    let bus = bus(PubSubConfig::builder().redelivery_delay(Duration::from_millis(10)));
    let mut subscription = bus
        .subscribe_with("t", SubscribeOptions::default())
        .unwrap();
    bus.publish("t", msg("m")).await.unwrap();
    recv(&mut subscription).await.nack();
    // The backoff ends and the bus's task puts the message in the retry lane; the stream
    // is not polled, so it stays there.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let before = subscription.stats();
    assert_eq!(
        (before.redelivered, before.queue_depth, before.in_flight),
        (1, 1, 1)
    );
    bus.close().await.unwrap();
    assert_eq!(
        bus.snapshot().stats.discarded,
        1,
        "the redelivery was discarded"
    );
    assert_eq!(
        subscription.stats().in_flight,
        0,
        "{:?}",
        subscription.stats()
    );
}
