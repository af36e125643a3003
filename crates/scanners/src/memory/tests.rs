//! The in-memory store: deliveries, acks, compare-and-set acts, bounds, trimming and
//! promotion, against the behaviour the store traits document.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::executor::block_on;
use proptest::prelude::*;
use switchyard_core::{Error as CoreError, Message};

use super::{Lease, MemoryStore};
use crate::{
    AttemptStore, DeadLetterReason, DelayedStore, DueEntry, EntryId, LeaseStore, Partition,
    PendingStore, RetentionStore, Trim, attributes,
};

const LEASE: Lease = Lease::new(Duration::from_secs(30));

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs)
}

fn p0() -> Partition {
    Partition::new("default", 0, 1).unwrap()
}

fn store() -> MemoryStore {
    MemoryStore::builder(1).build().unwrap()
}

fn message(text: &str) -> Message {
    Message::builder()
        .id(text)
        .payload(text.to_owned())
        .build()
        .unwrap()
}

fn publish(store: &MemoryStore, texts: &[&str], now: SystemTime) {
    for text in texts {
        store.publish(&p0(), "t", message(text), now).unwrap();
    }
}

fn payload(message: &Message) -> String {
    String::from_utf8(message.payload().to_vec()).unwrap()
}

#[test]
fn delivers_in_order_and_an_ack_ends_the_delivery() {
    let store = store();
    publish(&store, &["a", "b"], at(0));
    let first = store.deliver(&p0(), "t", at(1), LEASE).unwrap().unwrap();
    let second = store.deliver(&p0(), "t", at(1), LEASE).unwrap().unwrap();
    assert_eq!(
        (payload(first.message()), payload(second.message())),
        ("a".into(), "b".into())
    );
    assert!(store.deliver(&p0(), "t", at(1), LEASE).unwrap().is_none());
    assert_eq!(
        first.message().attributes().get(attributes::DELIVERY_COUNT),
        Some("1")
    );
    assert!(first.entry() < second.entry());

    first.message().ack();
    assert_eq!(store.in_flight(&p0(), "t").unwrap(), 1);
    assert_eq!(
        store.len(&p0(), "t").unwrap(),
        2,
        "acked entries stay in the log until trimmed"
    );
    assert!(
        block_on(store.expired_leases(&p0(), at(1_000), 10))
            .unwrap()
            .iter()
            .all(|d| d.entry() == second.entry())
    );
}

#[test]
fn a_nack_or_a_drop_expires_the_lease_at_once() {
    let store = store();
    publish(&store, &["a", "b", "c"], at(0));
    let nacked = store.deliver(&p0(), "t", at(1), LEASE).unwrap().unwrap();
    let dropped = store.deliver(&p0(), "t", at(1), LEASE).unwrap().unwrap();
    let _held = store.deliver(&p0(), "t", at(1), LEASE).unwrap().unwrap();
    nacked.message().nack();
    let dropped_entry = dropped.entry();
    drop(dropped);
    let expired: Vec<_> = block_on(store.expired_leases(&p0(), at(2), 10))
        .unwrap()
        .iter()
        .map(|d| d.entry())
        .collect();
    assert_eq!(expired, [nacked.entry(), dropped_entry]);
}

#[test]
fn redelivery_comes_first_and_counts_one_more() {
    let store = store();
    publish(&store, &["a", "b"], at(0));
    let first = store.deliver(&p0(), "t", at(0), LEASE).unwrap().unwrap();
    let expired = block_on(store.expired_leases(&p0(), at(30), 10)).unwrap();
    assert_eq!(expired.len(), 1);
    assert_eq!(block_on(store.redeliver(&p0(), &expired)).unwrap(), 1);
    assert_eq!(
        block_on(store.redeliver(&p0(), &expired)).unwrap(),
        0,
        "a stale read acts on nothing"
    );

    let again = store.deliver(&p0(), "t", at(31), LEASE).unwrap().unwrap();
    assert_eq!((again.entry(), again.deliveries()), (first.entry(), 2));
    assert_eq!(
        again.message().attributes().get(attributes::DELIVERY_COUNT),
        Some("2")
    );
    // The first delivery's nack comes too late to touch the second.
    first.message().nack();
    assert!(
        block_on(store.expired_leases(&p0(), at(31), 10))
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        payload(
            store
                .deliver(&p0(), "t", at(31), LEASE)
                .unwrap()
                .unwrap()
                .message()
        ),
        "b"
    );
}

#[test]
fn extending_a_lease_defeats_a_stale_expiry() {
    let store = store();
    publish(&store, &["a"], at(0));
    let delivery = store.deliver(&p0(), "t", at(0), LEASE).unwrap().unwrap();
    let expired = block_on(store.expired_leases(&p0(), at(30), 10)).unwrap();
    assert!(
        store
            .extend_lease(&delivery, at(30), Duration::from_secs(30))
            .unwrap()
    );
    assert_eq!(block_on(store.redeliver(&p0(), &expired)).unwrap(), 0);
    assert!(
        block_on(store.expired_leases(&p0(), at(59), 10))
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        block_on(store.expired_leases(&p0(), at(60), 10))
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn a_nacked_delivery_cannot_be_extended_back_into_flight() {
    let store = store();
    publish(&store, &["a"], at(0));
    let delivery = store.deliver(&p0(), "t", at(0), LEASE).unwrap().unwrap();
    delivery.message().nack();
    // A heartbeat still running after the nack must not take the settled delivery back:
    // `extend_lease` refuses a settled delivery, and the nack keeps its lease expired.
    assert!(
        !store
            .extend_lease(&delivery, at(1), Duration::from_secs(30))
            .unwrap()
    );
    assert_eq!(
        block_on(store.expired_leases(&p0(), at(1), 10))
            .unwrap()
            .len(),
        1,
        "the nack expired the lease at once"
    );
}

#[test]
fn attempts_are_overdue_at_their_deadline_whatever_the_lease() {
    let store = store();
    publish(&store, &["a", "b"], at(0));
    let lease = LEASE.with_attempt_timeout(Duration::from_secs(60));
    let long = store.deliver(&p0(), "t", at(0), lease).unwrap().unwrap();
    let _plain = store.deliver(&p0(), "t", at(0), LEASE).unwrap().unwrap();
    assert!(
        store
            .extend_lease(&long, at(50), Duration::from_secs(30))
            .unwrap()
    );
    assert!(
        block_on(store.overdue_attempts(&p0(), at(59), 10))
            .unwrap()
            .is_empty()
    );
    let overdue = block_on(store.overdue_attempts(&p0(), at(60), 10)).unwrap();
    assert_eq!(overdue.len(), 1);
    assert_eq!(
        (overdue[0].entry(), overdue[0].attempt_deadline()),
        (long.entry(), Some(at(60)))
    );
}

#[test]
fn dead_letters_carry_reason_and_count_and_are_all_or_nothing() {
    let store = MemoryStore::builder(1).max_dead_letters(1).build().unwrap();
    publish(&store, &["a", "b"], at(0));
    let _a = store.deliver(&p0(), "t", at(0), LEASE).unwrap().unwrap();
    let _b = store.deliver(&p0(), "t", at(0), LEASE).unwrap().unwrap();
    let expired = block_on(store.expired_leases(&p0(), at(30), 10)).unwrap();
    let err =
        block_on(store.dead_letter(&p0(), &expired, DeadLetterReason::LeaseExpired)).unwrap_err();
    assert!(matches!(err, CoreError::QueueFull { .. }), "{err}");
    assert_eq!(store.in_flight(&p0(), "t").unwrap(), 2, "nothing moved");

    assert_eq!(
        block_on(store.dead_letter(&p0(), &expired[..1], DeadLetterReason::LeaseExpired)).unwrap(),
        1
    );
    let dead = store.take_dead_letters();
    assert_eq!(dead.len(), 1);
    assert_eq!(
        (dead[0].reason(), dead[0].deliveries(), dead[0].topic()),
        (DeadLetterReason::LeaseExpired, 1, "t")
    );
    let attrs = dead[0].message().attributes();
    assert_eq!(
        attrs.get(attributes::DEAD_LETTER_REASON),
        Some("lease_expired")
    );
    assert_eq!(attrs.get(attributes::DELIVERY_COUNT), Some("1"));
    assert!(store.dead_letters().is_empty());
}

#[test]
fn bounds_are_enforced() {
    let store = MemoryStore::builder(1)
        .max_entries(2)
        .max_topics(1)
        .build()
        .unwrap();
    store.publish(&p0(), "t", message("a"), at(0)).unwrap();
    let full =
        |result: switchyard_core::Result<()>| matches!(result, Err(CoreError::QueueFull { .. }));
    assert!(
        full(store.publish(&p0(), "other", message("b"), at(0)).map(drop)),
        "one topic only"
    );
    store.schedule(&p0(), "t", message("b"), at(10)).unwrap();
    assert!(full(
        store.publish(&p0(), "t", message("c"), at(0)).map(drop)
    ));
    assert!(full(store.schedule(&p0(), "t", message("c"), at(10))));
    // Scheduling the same id again moves it, and takes no more room.
    store.schedule(&p0(), "t", message("b"), at(20)).unwrap();
    assert_eq!(store.scheduled(&p0()).unwrap(), 1);
    assert_eq!(
        block_on(store.trim(&p0(), "t", Trim::MaxLen(0))).unwrap(),
        1
    );
    store.publish(&p0(), "t", message("c"), at(0)).unwrap();
}

#[test]
fn a_partition_of_another_shape_is_refused() {
    let store = MemoryStore::builder(4).build().unwrap();
    let cases = [
        Partition::new("default", 0, 8).unwrap(),
        Partition::new("default", 0, 1).unwrap(),
    ];
    for partition in cases {
        let err = store
            .publish(&partition, "t", message("a"), at(0))
            .unwrap_err();
        assert!(matches!(err, CoreError::UnknownDestination { .. }), "{err}");
    }
    assert!(
        store
            .publish(
                &Partition::new("default", 3, 4).unwrap(),
                "t",
                message("a"),
                at(0)
            )
            .is_ok()
    );
}

#[test]
fn trimming_counts_and_drops_deliveries_in_flight() {
    let store = store();
    for (i, text) in ["a", "b", "c", "d", "e"].iter().enumerate() {
        store
            .publish(&p0(), "t", message(text), at(i as u64 * 10))
            .unwrap();
    }
    let first = store.deliver(&p0(), "t", at(50), LEASE).unwrap().unwrap();
    let cases = [
        (Trim::MaxLen(4), 1, 4),
        (Trim::MinTime(at(25)), 2, 2),
        (Trim::MinTime(at(25)), 0, 2),
        (Trim::MaxLen(10), 0, 2),
    ];
    for (trim, dropped, left) in cases {
        assert_eq!(
            block_on(store.trim(&p0(), "t", trim)).unwrap(),
            dropped,
            "{trim:?}"
        );
        assert_eq!(store.len(&p0(), "t").unwrap(), left, "{trim:?}");
    }
    assert_eq!(
        store.in_flight(&p0(), "t").unwrap(),
        0,
        "the trimmed delivery is gone"
    );
    first.message().ack();
    assert_eq!(
        block_on(store.trim(&p0(), "missing", Trim::MaxLen(1))).unwrap(),
        0
    );
    assert_eq!(block_on(store.topics(&p0())).unwrap(), ["t"]);
}

#[test]
fn entry_ids_grow_within_one_millisecond() {
    let store = store();
    publish(&store, &["a", "b"], at(0));
    publish(&store, &["c"], at(1));
    let millis = 1_700_000_000_000;
    assert_eq!(
        store.entries(&p0(), "t").unwrap(),
        [
            EntryId::new(millis, 0),
            EntryId::new(millis, 1),
            EntryId::new(millis + 1_000, 0)
        ]
    );
}

#[test]
fn entry_ids_parse_and_print_as_redis_does() {
    let cases = [
        ("1700000000000-3", Some(EntryId::new(1_700_000_000_000, 3))),
        ("5", Some(EntryId::new(5, 0))),
        ("0-0", Some(EntryId::new(0, 0))),
        ("", None),
        ("-1", None),
        ("1-", None),
        ("1-2-3", None),
        ("+1-2", None),
        ("18446744073709551616-0", None),
    ];
    for (text, expected) in cases {
        assert_eq!(text.parse::<EntryId>().ok(), expected, "{text:?}");
    }
    assert_eq!(EntryId::new(7, 9).to_string(), "7-9");
}

#[test]
fn promotion_moves_only_what_is_still_scheduled_for_that_time() {
    let store = store();
    store.schedule(&p0(), "t", message("a"), at(10)).unwrap();
    let due = block_on(store.due(&p0(), at(10), 10)).unwrap();
    assert_eq!(due, [DueEntry::new("a", "t", at(10))]);
    // Rescheduled between the read and the promotion: the stale entry moves nothing.
    store.schedule(&p0(), "t", message("a"), at(20)).unwrap();
    assert_eq!(block_on(store.promote(&p0(), &due, at(10))).unwrap(), 0);
    assert!(block_on(store.due(&p0(), at(19), 10)).unwrap().is_empty());
    let due = block_on(store.due(&p0(), at(20), 10)).unwrap();
    assert_eq!(block_on(store.promote(&p0(), &due, at(20))).unwrap(), 1);
    assert_eq!(
        block_on(store.promote(&p0(), &due, at(20))).unwrap(),
        0,
        "promoted once"
    );
    assert_eq!(store.len(&p0(), "t").unwrap(), 1);
}

/// Second reading: scheduled messages were keyed by id alone within a partition, so the
/// same message scheduled for two topics (a fan-out) replaced the first: that topic never
/// got it. They are keyed by topic and id: rescheduling moves a message within its topic.
#[test]
fn the_same_id_scheduled_for_two_topics_is_two_scheduled_messages() {
    let store = store();
    store.schedule(&p0(), "a", message("m"), at(10)).unwrap();
    store.schedule(&p0(), "b", message("m"), at(20)).unwrap();
    assert_eq!(store.scheduled(&p0()).unwrap(), 2);
    // Rescheduling `m` for `a` moves that one only.
    store.schedule(&p0(), "a", message("m"), at(15)).unwrap();
    assert_eq!(store.scheduled(&p0()).unwrap(), 2);
    let due = block_on(store.due(&p0(), at(20), 10)).unwrap();
    assert_eq!(
        due,
        [
            DueEntry::new("m", "a", at(15)),
            DueEntry::new("m", "b", at(20))
        ]
    );
    // A stale entry (for `a` at its old time) moves nothing.
    let stale = [DueEntry::new("m", "a", at(10))];
    assert_eq!(block_on(store.promote(&p0(), &stale, at(20))).unwrap(), 0);
    assert_eq!(block_on(store.promote(&p0(), &due, at(20))).unwrap(), 2);
    assert_eq!(store.scheduled(&p0()).unwrap(), 0);
    for topic in ["a", "b"] {
        let delivery = store.deliver(&p0(), topic, at(20), LEASE).unwrap().unwrap();
        assert_eq!(payload(delivery.message()), "m", "{topic}");
    }
}

proptest! {
    /// Against a reference model: whatever the schedule and whenever the promoter runs,
    /// each message becomes visible exactly once, and only once it is due.
    #[test]
    fn promotion_matches_the_model(
        dues in proptest::collection::vec(0u64..100, 1..30),
        scans in proptest::collection::vec(0u64..120, 1..10),
        batch in 1usize..8,
    ) {
        let store = store();
        for (i, due) in dues.iter().enumerate() {
            store.schedule(&p0(), "t", message(&format!("m{i}")), at(*due)).unwrap();
        }
        let mut scans = scans;
        scans.sort_unstable();
        let mut visible = 0usize;
        for now in scans {
            loop {
                let due = block_on(store.due(&p0(), at(now), batch)).unwrap();
                prop_assert!(due.iter().all(|entry| entry.due() <= at(now)));
                if due.is_empty() {
                    break;
                }
                visible += usize::try_from(block_on(store.promote(&p0(), &due, at(now))).unwrap()).unwrap();
            }
            let expected = dues.iter().filter(|due| **due <= now).count();
            prop_assert_eq!(visible, expected);
            prop_assert_eq!(store.len(&p0(), "t").unwrap(), expected);
        }
    }
}
