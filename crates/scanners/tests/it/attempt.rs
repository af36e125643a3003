//! Attempt timeout: an attempt running past its deadline is failed and retried, then
//! dead-lettered, even while its lease is kept alive.

use std::time::Duration;

use switchyard_core::Message;
use switchyard_scanners::{
    AttemptTimeoutScanner, DeadLetterReason, Lease, LeaseExpiryScanner, MemoryStore, Partition,
    Supervisor, attributes,
};

use crate::support::{clock, config, epoch, wait_until};

#[tokio::test(start_paused = true)]
async fn attempts_past_their_deadline_are_retried_then_dead_lettered() {
    let clock = clock();
    let supervisor = Supervisor::with_clock(config(1).build().unwrap(), clock);
    let store = MemoryStore::builder(1).build().unwrap();
    let p = Partition::new("default", 0, 1).unwrap();
    store
        .publish(&p, "jobs", Message::new("slow"), clock.now())
        .unwrap();
    store
        .publish(&p, "jobs", Message::new("quick"), clock.now())
        .unwrap();
    // A short lease that the consumer keeps extending, inside a 25 s attempt deadline.
    let lease = Lease::new(Duration::from_secs(10)).with_attempt_timeout(Duration::from_secs(25));
    let slow = store
        .deliver(&p, "jobs", clock.now(), lease)
        .unwrap()
        .unwrap();
    let quick = store
        .deliver(&p, "jobs", clock.now(), lease)
        .unwrap()
        .unwrap();
    quick.message().ack();
    let attempts = AttemptTimeoutScanner::builder(store.clone())
        .max_deliveries(2)
        .build()
        .unwrap();
    let leases = LeaseExpiryScanner::builder(store.clone()).build().unwrap();
    supervisor.spawn(attempts).unwrap();
    supervisor.spawn(leases).unwrap();

    // Heartbeat at every tick of either scanner: the lease never runs out.
    let heartbeat = |delivery: &switchyard_scanners::Delivery| {
        store
            .extend_lease(delivery, clock.now(), Duration::from_secs(10))
            .unwrap()
    };
    let mut second = None;
    wait_until(&supervisor, || {
        assert!(
            heartbeat(&slow) || clock.now() >= epoch() + Duration::from_secs(25),
            "failed before its deadline"
        );
        second = store.deliver(&p, "jobs", clock.now(), lease).unwrap();
        second.is_some()
    })
    .await;
    let second = second.unwrap();
    let failed_at = clock.now().duration_since(epoch()).unwrap();
    assert!(
        failed_at >= Duration::from_secs(25) && failed_at <= Duration::from_secs(27),
        "retried at {failed_at:?}"
    );
    assert_eq!((second.entry(), second.deliveries()), (slow.entry(), 2));
    assert!(
        !heartbeat(&slow),
        "the failed attempt's lease cannot be extended"
    );

    wait_until(&supervisor, || {
        heartbeat(&second);
        !store.dead_letters().is_empty()
    })
    .await;
    let dead = store.take_dead_letters();
    assert_eq!(
        (dead[0].entry(), dead[0].reason(), dead[0].deliveries()),
        (slow.entry(), DeadLetterReason::AttemptTimedOut, 2)
    );
    assert_eq!(
        dead[0]
            .message()
            .attributes()
            .get(attributes::DEAD_LETTER_REASON),
        Some("attempt_timed_out")
    );
    assert_eq!(store.in_flight(&p, "jobs").unwrap(), 0);
    assert_eq!(
        supervisor.health_of("lease_expiry").unwrap().processed,
        0,
        "no lease ever expired"
    );
    assert!(supervisor.shutdown().await.is_clean());
}

/// The attempt timeout scanner shares the lease expiry scanner's loop, and had its bug: with
/// the dead-letter queue full, attempts on their last delivery at the head of the overdue
/// list stopped every scan, so the attempts behind them (here `b1`, with deliveries left)
/// were never retried. Now the held attempts stay in flight, counted, and go to the dead
/// letter once it has room.
#[tokio::test(start_paused = true)]
async fn a_full_dead_letter_queue_does_not_starve_other_attempt_retries() {
    use switchyard_scanners::{AttemptStore, PendingStore};

    let clock = clock();
    let store = MemoryStore::builder(1).max_dead_letters(2).build().unwrap();
    let p = Partition::new("default", 0, 1).unwrap();
    let timed_out = Lease::new(Duration::from_secs(3_600)).with_attempt_timeout(Duration::ZERO);
    let deliver = |topic: &str, at| store.deliver(&p, topic, at, timed_out).unwrap().unwrap();
    let publish = |topic: &str, text: &'static str| {
        store
            .publish(&p, topic, Message::new(text), clock.now())
            .unwrap()
    };
    // Fill the dead-letter queue.
    for text in ["x1", "x2"] {
        publish("a", text);
        drop(deliver("a", clock.now()));
    }
    let overdue = store.overdue_attempts(&p, clock.now(), 10).await.unwrap();
    let reason = DeadLetterReason::AttemptTimedOut;
    assert_eq!(store.dead_letter(&p, &overdue, reason).await.unwrap(), 2);
    // Two attempts of `a` on their second (and last) delivery, both past their deadline.
    let mut last = Vec::new();
    for text in ["a1", "a2"] {
        publish("a", text);
        drop(deliver("a", clock.now()));
    }
    let overdue = store.overdue_attempts(&p, clock.now(), 10).await.unwrap();
    assert_eq!(store.redeliver(&p, &overdue).await.unwrap(), 2);
    for _ in 0..2 {
        let delivery = deliver("a", clock.now());
        assert_eq!(delivery.deliveries(), 2);
        last.push(delivery.entry());
    }
    // One attempt of `b` on its first delivery, whose deadline comes a second later.
    publish("b", "b1");
    let b1 = deliver("b", clock.now() + Duration::from_secs(1)).entry();

    let supervisor = Supervisor::with_clock(config(1).build().unwrap(), clock);
    let scanner = AttemptTimeoutScanner::builder(store.clone())
        .interval(Duration::from_secs(1))
        .batch_size(2)
        .max_deliveries(2)
        .build()
        .unwrap();
    supervisor.spawn(scanner).unwrap();
    let patient =
        Lease::new(Duration::from_secs(3_600)).with_attempt_timeout(Duration::from_secs(3_600));
    let mut again = None;
    wait_until(&supervisor, || {
        again = store.deliver(&p, "b", clock.now(), patient).unwrap();
        again.is_some()
    })
    .await;
    let again = again.unwrap();
    assert_eq!((again.entry(), again.deliveries()), (b1, 2));
    // `a1` and `a2` are still in flight, not lost, and counted as held.
    assert_eq!(store.in_flight(&p, "a").unwrap(), 2);
    assert_eq!(store.dead_letters().len(), 2);
    let health = supervisor.health_of("attempt_timeout").unwrap();
    assert!(health.held >= 2, "{health:?}");
    assert!(health.item_errors >= 1, "{health:?}");

    // Once the dead letter has room, they go there.
    assert_eq!(store.take_dead_letters().len(), 2);
    wait_until(&supervisor, || store.dead_letters().len() == 2).await;
    let dead = store.take_dead_letters();
    assert_eq!(
        dead.iter()
            .map(|d| (d.entry(), d.reason(), d.deliveries()))
            .collect::<Vec<_>>(),
        last.iter()
            .map(|&entry| (entry, reason, 2))
            .collect::<Vec<_>>()
    );
    assert_eq!(store.in_flight(&p, "a").unwrap(), 0);
    assert!(supervisor.shutdown().await.is_clean());
}
