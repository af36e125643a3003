//! Unit tests of `replay.rs`: ring bounds, eviction, and pattern snapshots.

use bytes::Bytes;
use switchyard_core::Attributes;

use super::*;

fn record(store: &mut ReplayStore, topic: &str, n: u8) {
    store.record(topic, &Bytes::from(vec![n]), &Attributes::new());
}

fn snapshot(store: &ReplayStore, pattern: &str, count: usize) -> Vec<u8> {
    let pattern = Pattern::parse(pattern).unwrap();
    let found = store.snapshot(&pattern, count).entries;
    assert!(
        found.iter().all(|entry| entry.deliveries() == 0),
        "replays are new deliveries"
    );
    found.iter().map(|entry| entry.payload()[0]).collect()
}

#[test]
fn a_ring_keeps_the_last_messages_of_its_topic() {
    let mut store = ReplayStore::new(3, 10);
    for n in 1..=5 {
        record(&mut store, "a", n);
    }
    record(&mut store, "b", 9);
    assert_eq!(snapshot(&store, "a", 10), [3, 4, 5]);
    assert_eq!(snapshot(&store, "a", 2), [4, 5]);
    assert_eq!(snapshot(&store, "a", 0), Vec::<u8>::new());
    assert_eq!(snapshot(&store, "c", 5), Vec::<u8>::new());
}

#[test]
fn a_pattern_replays_the_last_messages_across_its_topics_in_publish_order() {
    let mut store = ReplayStore::new(10, 10);
    record(&mut store, "orders.eu", 1);
    record(&mut store, "orders.us", 2);
    record(&mut store, "payments.eu", 3);
    record(&mut store, "orders.eu", 4);
    assert_eq!(snapshot(&store, "orders.*", 10), [1, 2, 4]);
    assert_eq!(snapshot(&store, "orders.*", 2), [2, 4]);
    assert_eq!(snapshot(&store, "*.eu", 10), [1, 3, 4]);
}

#[test]
fn the_topic_published_least_recently_loses_its_ring() {
    let mut store = ReplayStore::new(2, 2);
    record(&mut store, "a", 1);
    record(&mut store, "b", 2);
    record(&mut store, "a", 3);
    record(&mut store, "c", 4);
    assert_eq!(store.topics(), 2);
    assert_eq!(
        snapshot(&store, "b", 10),
        Vec::<u8>::new(),
        "b was the least recent"
    );
    assert_eq!(snapshot(&store, "a", 10), [1, 3]);
    assert_eq!(snapshot(&store, "c", 10), [4]);
}
