//! Tests of the scenarios' own logic that needs no transport: the order check.

use super::order::check_order;
use crate::fixture::batch::Batch;

/// Checks the keys `received` (by message index) against the order rule: `None` when in
/// order, or a fragment of the violation message.
fn check(received: &[usize], expected: Option<&str>) {
    let batch = Batch::new("topic", "msg", 64);
    let keys: Vec<String> = received.iter().map(|&i| batch.key(i)).collect();
    match (check_order(&batch, &keys), expected) {
        (Ok(()), None) => {}
        (Err(violation), Some(fragment)) => assert!(
            violation.contains(fragment),
            "{received:?}: {violation:?} does not mention {fragment:?}"
        ),
        (result, expected) => panic!("{received:?}: {result:?}, expected {expected:?}"),
    }
}

#[test]
fn per_key_order() {
    // Message i has partition key 4 * (i % 4) + (i / 4) % 4: 0, 16 and 32 share key0;
    // 1 and 17 share key4; 0 and 1 do not share a key.
    check(&[], None);
    check(&[0, 16, 32], None);
    check(&[1, 0, 17, 16], None);
    check(
        &[16, 0],
        Some("partition key0: `msg-0` arrived after `msg-16`"),
    );
    check(
        &[0, 17, 32, 1],
        Some("partition key4: `msg-1` arrived after `msg-17`"),
    );
    // A gap is not a violation: duplicates and losses are the tally's business.
    check(&[0, 32], None);
    check(&[99], Some("`msg-99` is not a message of this batch"));
}
