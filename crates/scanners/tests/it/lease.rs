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
