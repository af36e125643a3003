//! Lease expiry: exactly the expired deliveries are redelivered, and dead-lettered after
//! the maximum.

use std::time::Duration;

use switchyard_core::Message;
use switchyard_scanners::{
    DeadLetterReason, Delivery, Lease, LeaseExpiryScanner, MemoryStore, Partition, Supervisor,
    attributes,
};

use crate::support::{clock, config, epoch, wait_until};

fn payload(delivery: &Delivery) -> String {
    String::from_utf8(delivery.message().payload().to_vec()).unwrap()
}

#[tokio::test(start_paused = true)]
async fn lease_expiry_redelivers_exactly_the_expired_and_dead_letters_after_the_maximum() {
    let clock = clock();
    let supervisor = Supervisor::with_clock(config(1).build().unwrap(), clock);
    let store = MemoryStore::builder(1).build().unwrap();
    let p = Partition::new("default", 0, 1).unwrap();
    for text in ["short", "long", "acked"] {
        store
            .publish(&p, "jobs", Message::new(text), clock.now())
            .unwrap();
    }
    let deliver = |lease: Duration| {
        store
            .deliver(&p, "jobs", clock.now(), Lease::new(lease))
            .unwrap()
    };
    let short = deliver(Duration::from_secs(5)).unwrap();
    let long = deliver(Duration::from_secs(60)).unwrap();
    let acked = deliver(Duration::from_secs(5)).unwrap();
    acked.message().ack();
    let scanner = LeaseExpiryScanner::builder(store.clone())
        .interval(Duration::from_secs(1))
        .max_deliveries(3)
        .build()
        .unwrap();
    supervisor.spawn(scanner).unwrap();

    // Only the short lease has run out by the first scan after 5 s.
    let expired_at = epoch() + Duration::from_secs(5);
    wait_until(&supervisor, || {
        supervisor.health_of("lease_expiry").unwrap().last_run >= Some(expired_at)
    })
    .await;
    let again = deliver(Duration::from_secs(5)).unwrap();
    assert_eq!(
        (payload(&again), again.entry(), again.deliveries()),
        ("short".into(), short.entry(), 2)
    );
    assert_eq!(
        again.message().attributes().get(attributes::DELIVERY_COUNT),
        Some("2")
    );
    assert!(
        deliver(Duration::from_secs(5)).is_none(),
        "nothing else expired"
    );
    let short_entry = short.entry();
    // A late nack of the first delivery does not touch the second.
    drop(short);

    // The third delivery's lease expires too: that was the last allowed.
    let mut third = None;
    wait_until(&supervisor, || {
        third = deliver(Duration::from_secs(5));
        third.is_some()
    })
    .await;
    let third = third.unwrap();
    assert_eq!((payload(&third), third.deliveries()), ("short".into(), 3));
    wait_until(&supervisor, || !store.dead_letters().is_empty()).await;
    let dead = store.take_dead_letters();
    assert_eq!(dead.len(), 1);
    assert_eq!(
        (dead[0].entry(), dead[0].reason(), dead[0].deliveries()),
        (short_entry, DeadLetterReason::LeaseExpired, 3)
    );
    assert_eq!(
        dead[0]
            .message()
            .attributes()
            .get(attributes::DEAD_LETTER_REASON),
        Some("lease_expired")
    );
    assert!(
        clock.now() >= epoch() + Duration::from_secs(15),
        "three leases of 5 s ran out before the dead letter"
    );

    // The long lease, never acked, comes back at 60 s; the acked one never does.
    let mut late = None;
    wait_until(&supervisor, || {
        late = deliver(Duration::from_secs(5));
        late.is_some()
    })
    .await;
    let late = late.unwrap();
    assert_eq!((late.entry(), late.deliveries()), (long.entry(), 2));
    assert!(clock.now() >= epoch() + Duration::from_secs(60));
    assert_eq!(
        store.in_flight(&p, "jobs").unwrap(),
        1,
        "only the long one is in flight"
    );
    let health = supervisor.health_of("lease_expiry").unwrap();
    assert_eq!(
        health.processed, 4,
        "three redeliveries and one dead letter"
    );
    assert!(supervisor.shutdown().await.is_clean());
}

/// Second reading: with the dead-letter queue full, the expired deliveries that are out of
/// deliveries stay in flight (all or nothing, to be tried again). They must not also stop
/// the redelivery of other expired leases: here `b`'s message, whose lease ran out on its
/// first delivery, is never made deliverable again because the first batch is all dead.
#[tokio::test(start_paused = true)]
async fn a_full_dead_letter_queue_does_not_starve_other_redeliveries() {
    use switchyard_scanners::{LeaseStore, PendingStore};

    let clock = clock();
    let store = MemoryStore::builder(1).max_dead_letters(1).build().unwrap();
    let p = Partition::new("default", 0, 1).unwrap();
    let expired = Lease::new(Duration::ZERO);
    let deliver = |topic: &str| store.deliver(&p, topic, clock.now(), expired).unwrap();
    // Fill the dead-letter queue with one message.
    store
        .publish(&p, "a", Message::new("x"), clock.now())
        .unwrap();
    drop(deliver("a").unwrap());
    let overdue = store.expired_leases(&p, clock.now(), 10).await.unwrap();
    assert_eq!(
        store
            .dead_letter(&p, &overdue, DeadLetterReason::LeaseExpired)
            .await
            .unwrap(),
        1
    );
    // Two messages of `a` on their second (and last) delivery, both expired.
    for text in ["a1", "a2"] {
        store
            .publish(&p, "a", Message::new(text), clock.now())
            .unwrap();
        drop(deliver("a").unwrap());
    }
    let overdue = store.expired_leases(&p, clock.now(), 10).await.unwrap();
    assert_eq!(store.redeliver(&p, &overdue).await.unwrap(), 2);
    for _ in 0..2 {
        assert_eq!(deliver("a").unwrap().deliveries(), 2);
    }
    // One message of `b` on its first delivery, expired: it has deliveries left.
    store
        .publish(&p, "b", Message::new("b1"), clock.now())
        .unwrap();
    let b_entry = deliver("b").unwrap().entry();

    let supervisor = Supervisor::with_clock(config(1).build().unwrap(), clock);
    let scanner = LeaseExpiryScanner::builder(store.clone())
        .interval(Duration::from_secs(1))
        .batch_size(2)
        .max_deliveries(2)
        .build()
        .unwrap();
    supervisor.spawn(scanner).unwrap();
    wait_until(&supervisor, || {
        supervisor.health_of("lease_expiry").unwrap().runs >= 5
    })
    .await;
    let again = deliver("b");
    assert!(supervisor.shutdown().await.is_clean());
    let again = again.expect("b1's lease expired five scans ago and it was never redelivered");
    assert_eq!((again.entry(), again.deliveries()), (b_entry, 2));
}

/// One scan with the dead letter full: the deliveries due for it are held (tried once, then
/// skipped without trying) across as many batches as the scan reads, and the redeliveries
/// behind them go ahead; a scan whose reads are all taken by held deliveries is the limit.
#[tokio::test(start_paused = true)]
async fn a_scan_holds_what_the_full_dead_letter_refuses_and_redelivers_the_rest() {
    use switchyard_scanners::{LeaseStore, PendingStore, ScanContext, Scanner};
    use tokio_util::sync::CancellationToken;

    // The scan's (examined, acted, held, errors), for a `max_batches`.
    let check = |max_batches: u32, expected: (u64, u64, u64, u64)| async move {
        let clock = clock();
        let store = MemoryStore::builder(1).max_dead_letters(1).build().unwrap();
        let p = Partition::new("default", 0, 1).unwrap();
        let expired = Lease::new(Duration::ZERO);
        let publish_and_deliver = |topic: &str, n: usize| {
            for _ in 0..n {
                store
                    .publish(&p, topic, Message::new(topic.to_owned()), clock.now())
                    .unwrap();
                drop(store.deliver(&p, topic, clock.now(), expired).unwrap());
            }
        };
        // Fill the dead letter from a topic that sorts first.
        publish_and_deliver("0", 1);
        let overdue = store.expired_leases(&p, clock.now(), 10).await.unwrap();
        let reason = DeadLetterReason::LeaseExpired;
        assert_eq!(store.dead_letter(&p, &overdue, reason).await.unwrap(), 1);
        // Five of `a` on their last delivery, then three of `b` with deliveries left.
        publish_and_deliver("a", 5);
        let overdue = store.expired_leases(&p, clock.now(), 10).await.unwrap();
        assert_eq!(store.redeliver(&p, &overdue).await.unwrap(), 5);
        for _ in 0..5 {
            drop(store.deliver(&p, "a", clock.now(), expired).unwrap());
        }
        publish_and_deliver("b", 3);

        let scanner = LeaseExpiryScanner::builder(store.clone())
            .batch_size(2)
            .max_batches(max_batches)
            .max_deliveries(2)
            .build()
            .unwrap();
        let ctx = ScanContext::new(clock, 1, CancellationToken::new());
        let report = scanner.scan(&p, &ctx).await.unwrap();
        assert_eq!(
            (
                report.examined(),
                report.acted(),
                report.held(),
                report.errors()
            ),
            expected,
            "max_batches {max_batches}"
        );
        // Nothing held is lost: still in flight, and the dead letter unchanged.
        assert_eq!(
            store.in_flight(&p, "a").unwrap(),
            5,
            "max_batches {max_batches}"
        );
        assert_eq!(store.dead_letters().len(), 1);
        assert_eq!(
            store.in_flight(&p, "b").unwrap(),
            3,
            "redelivered is still pending until delivered again"
        );
        let mut redelivered = 0u64;
        while store
            .deliver(&p, "b", clock.now(), expired)
            .unwrap()
            .is_some()
        {
            redelivered += 1;
        }
        assert_eq!(redelivered, expected.1, "max_batches {max_batches}");
    };
    // Batches: [a1 a2] held after one failed try; [a3 a4] and [a5 b1] held without trying,
    // b1 redelivered; [b2 b3] redelivered; then a short read ends the scan.
    check(10, (8, 3, 5, 1)).await;
    // Two reads, both taken by held deliveries: the `b`s wait for a later scan.
    check(2, (4, 0, 4, 1)).await;
}
