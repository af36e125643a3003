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
