//! Tests of the scenarios' own logic that needs no transport: the order check.

use super::order::{Order, check_order};
use crate::fixture::batch::Batch;

/// Checks the keys `received` (by message index) against the order rule `order`: `None`
/// when in order, or a fragment of the violation message.
fn check(received: &[usize], order: Order, expected: Option<&str>) {
    let batch = Batch::new("topic", "msg", 100);
    let keys: Vec<String> = received.iter().map(|&i| batch.key(i)).collect();
    match (check_order(&batch, &keys, order), expected) {
        (Ok(()), None) => {}
        (Err(violation), Some(fragment)) => assert!(
            violation.contains(fragment),
            "{received:?}: {violation:?} does not mention {fragment:?}"
        ),
        (result, expected) => panic!("{received:?} {order:?}: {result:?}, expected {expected:?}"),
    }
}

#[test]
fn per_key_order() {
    // Message i comes from publisher i % 4, as its (i / 4)-th message, with partition key
    // 4 * (i % 4) + (i / 16) % 4: 0, 4, 8 and 12 share key0, 16 has key1, and 64 key0
    // again; 1 and 5 share key4.
    let per_key = Order::PerKey;
    check(&[], per_key, None);
    check(&[0, 4, 8, 12, 64], per_key, None);
    check(&[1, 0, 5, 4], per_key, None);
    check(
        &[4, 0],
        per_key,
        Some("partition key0: `msg-0` arrived after `msg-4`"),
    );
    // Two adjacent messages of one publisher that swap places, within a run of one key.
    check(
        &[0, 8, 4, 12],
        per_key,
        Some("partition key0: `msg-4` arrived after `msg-8`"),
    );
    check(
        &[0, 5, 9, 1],
        per_key,
        Some("partition key4: `msg-1` arrived after `msg-9`"),
    );
    // Keys of one publisher have no order among them.
    check(&[16, 0], per_key, None);
    // A gap is not a violation: duplicates and losses are the tally's business.
    check(&[0, 8], per_key, None);
    check(
        &[100],
        per_key,
        Some("`msg-100` is not a message of this batch"),
    );
}

#[test]
fn per_publisher_order() {
    let per_publisher = Order::PerPublisher;
    check(&[0, 1, 4, 16, 5, 64], per_publisher, None);
    // Publishers have no order among them.
    check(&[1, 0], per_publisher, None);
    check(
        &[16, 0],
        per_publisher,
        Some("publisher 0: `msg-0` arrived after `msg-16`"),
    );
    check(
        &[1, 5, 13, 9],
        per_publisher,
        Some("publisher 1: `msg-9` arrived after `msg-13`"),
    );
    check(&[0, 8], per_publisher, None);
}
