//! Closing, use after close, and unsubscribing by dropping a stream.

use switchyard_bus::pubsub::SubscribeOptions;
use switchyard_core::Error;

use super::*;

fn is_closed_error(result: Result<(), Error>) -> bool {
    matches!(result, Err(Error::Closed { .. }))
}

#[tokio::test]
async fn close_is_idempotent_and_use_after_close_is_a_typed_error() {
    let bus = default_bus();
    let mut subscription = bus
        .subscribe_with("t", SubscribeOptions::default())
        .unwrap();
    bus.publish("t", msg("queued")).await.unwrap();
    let (first, second) = tokio::join!(bus.close(), bus.close());
    first.unwrap();
    second.unwrap();
    bus.close().await.unwrap();
    assert!(bus.is_closed());

    assert!(ends(&mut subscription).await, "the stream ends");
    assert!(ends(&mut subscription).await, "and stays ended");
    assert!(is_closed_error(bus.publish("t", msg("late")).await));
    let error = bus
        .subscribe_with("t", SubscribeOptions::default())
        .unwrap_err();
    assert!(matches!(error, Error::Closed { .. }));
    assert!(!error.is_transient());
    let stats = bus.snapshot().stats;
    assert_eq!(
        (stats.discarded, stats.subscriptions),
        (1, 0),
        "the queued message"
    );
}

#[tokio::test(start_paused = true)]
async fn close_ends_a_stream_that_waits_for_an_ack() {
    let bus = default_bus();
    let options = SubscribeOptions::builder()
        .max_in_flight(1)
        .build()
        .unwrap();
    let mut subscription = bus.subscribe_with("t", options).unwrap();
    bus.publish("t", msg("held")).await.unwrap();
    bus.publish("t", msg("waiting")).await.unwrap();
    let held = recv(&mut subscription).await;
    let waiter = tokio::spawn(async move {
        // Waits for a slot that the unacked message keeps.
        let next = subscription.next().await;
        next.is_none()
    });
    tokio::task::yield_now().await;
    assert!(!waiter.is_finished());
    bus.close().await.unwrap();
    assert!(
        tokio::time::timeout(DEADLINE, waiter)
            .await
            .unwrap()
            .unwrap()
    );
    assert!(held.ack(), "settling after close is harmless");
}

#[tokio::test(start_paused = true)]
async fn close_fails_a_publisher_blocked_on_a_full_queue() {
    let bus = default_bus();
    let (_slow, blocked) = blocked_behind(&bus, one_blocking_slot()).await;
    bus.close().await.unwrap();
    let result = tokio::time::timeout(DEADLINE, blocked)
        .await
        .unwrap()
        .unwrap();
    assert!(is_closed_error(result));
}

#[tokio::test(start_paused = true)]
async fn dropping_a_stream_unsubscribes_and_its_messages_go_nowhere() {
    let bus = default_bus();
    let mut subscription = bus
        .subscribe_with("t", SubscribeOptions::default())
        .unwrap();
    let mut pattern = bus
        .subscribe_with("t.*", SubscribeOptions::default())
        .unwrap();
    bus.publish("t", msg("unacked")).await.unwrap();
    bus.publish("t", msg("queued")).await.unwrap();
    let unacked = recv(&mut subscription).await;
    assert_eq!(bus.snapshot().subscriptions.len(), 2);
    drop(subscription);
    assert_eq!(bus.snapshot().subscriptions.len(), 1);
    // Outside a group nobody is left for its messages: the queued one is discarded, and so
    // is the unacked one when it is dropped.
    assert_eq!(bus.snapshot().stats.discarded, 1);
    drop(unacked);
    // The dropped delivery is due for redelivery after the backoff, and only then found to
    // have nobody to go to. On the paused clock this sleep takes no real time: it advances
    // virtual time past the backoff once every task is idle.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(bus.snapshot().stats.discarded, 2);

    bus.publish("t", msg("nobody")).await.unwrap();
    assert_eq!(bus.snapshot().stats.unrouted, 1);
    drop(pattern.next());
    drop(pattern);
    bus.publish("t.x", msg("nobody")).await.unwrap();
    assert_eq!(bus.snapshot().stats.unrouted, 2);
    assert_eq!(bus.snapshot().stats.subscriptions, 0);
}

#[tokio::test]
async fn dropping_the_last_handle_closes_the_bus() {
    let bus = default_bus();
    let clone = bus.clone();
    let mut subscription = bus
        .subscribe_with("t", SubscribeOptions::default())
        .unwrap();
    drop(bus);
    clone.publish("t", msg("still open")).await.unwrap();
    assert_eq!(recv_acked(&mut subscription, 1).await, ["still open"]);
    drop(clone);
    assert!(ends(&mut subscription).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_opened_and_dropped_concurrently_leave_a_working_bus() {
    let bus = default_bus();
    let churn: Vec<_> = (0..20)
        .map(|task| {
            let bus = bus.clone();
            tokio::spawn(async move {
                for round in 0..50 {
                    let topic = if round % 2 == 0 { "t" } else { "t.*" };
                    let options = if task % 3 == 0 {
                        SubscribeOptions::builder().group("g").build().unwrap()
                    } else {
                        SubscribeOptions::default()
                    };
                    let subscription = bus.subscribe_with(topic, options).unwrap();
                    bus.publish("t", msg("churn")).await.unwrap();
                    drop(subscription);
                }
            })
        })
        .collect();
    for task in churn {
        tokio::time::timeout(DEADLINE, task).await.unwrap().unwrap();
    }
    assert_eq!(bus.snapshot().stats.subscriptions, 0);
    let mut exact = bus
        .subscribe_with("t.x", SubscribeOptions::default())
        .unwrap();
    let mut pattern = bus
        .subscribe_with("t.*", SubscribeOptions::default())
        .unwrap();
    bus.publish("t.x", msg("after")).await.unwrap();
    assert_eq!(recv_acked(&mut exact, 1).await, ["after"]);
    assert_eq!(recv_acked(&mut pattern, 1).await, ["after"]);
    bus.close().await.unwrap();
}

/// Second reading: a nack waiting out its backoff when the bus closes is discarded, but its
/// in-flight slot is never given back, whereas a nack after close gives it back at once:
/// the subscription reports one message in flight for ever, though nothing is.
#[tokio::test(start_paused = true)]
async fn a_redelivery_discarded_on_close_gives_its_slot_back() {
    let bus = default_bus();
    let mut subscription = bus
        .subscribe_with("t", SubscribeOptions::default())
        .unwrap();
    bus.publish("t", msg("m")).await.unwrap();
    recv(&mut subscription).await.nack();
    tokio::task::yield_now().await;
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
