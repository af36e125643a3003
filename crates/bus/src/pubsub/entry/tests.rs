//! Unit tests of `entry.rs`: what a publish hands its targets, and a block's slots.

use super::*;

/// Checks that a block for `targets` targets has slots `0..targets` and no other.
fn check_slots(targets: usize) {
    let slots = Slots::new(targets);
    for slot in 0..targets {
        assert!(slots.get(slot).is_some(), "slot {slot} of {targets}");
    }
    for slot in [targets, targets + 1, INLINE_SLOTS, usize::MAX] {
        if slot >= targets {
            assert!(slots.get(slot).is_none(), "slot {slot} of {targets}");
        }
    }
}

#[test]
fn a_block_has_one_slot_per_target() {
    for targets in [0, 1, 3, INLINE_SLOTS, INLINE_SLOTS + 1, 3 * INLINE_SLOTS] {
        check_slots(targets);
    }
}

#[test]
fn a_publish_to_one_target_makes_no_block() {
    let mut entries = Entries::new(Bytes::from_static(b"x"), Attributes::new(), 1);
    assert!(matches!(entries, Entries::One(Some(_))));
    let entry = entries.take(0, true).expect("the one entry");
    assert!(matches!(entry.0, Repr::Single { deliveries: 0, .. }));
    assert!(entries.take(0, true).is_none(), "handed out once");
}

#[test]
fn a_publish_to_several_targets_hands_out_a_slot_each() {
    let mut entries = Entries::new(Bytes::from_static(b"x"), Attributes::new(), 3);
    let taken: Vec<Entry> = (0..3)
        .map(|at| entries.take(at, at == 2).expect("an entry per target"))
        .collect();
    let slots: Vec<usize> = taken
        .iter()
        .map(|entry| match &entry.0 {
            Repr::Slot { slot, block } => {
                assert_eq!(block.slots.len, 3);
                *slot
            }
            Repr::Single { .. } => panic!("a slot of the block"),
        })
        .collect();
    assert_eq!(slots, [0, 1, 2]);
    assert!(
        entries.take(0, true).is_none(),
        "the last target took the block itself"
    );
    assert!(taken.iter().all(|entry| entry.payload().as_ref() == b"x"));
}
