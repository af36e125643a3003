//! Unit tests of the memory of topics seen: second sight, and generations.

use super::*;

/// Distinct, well-spread hashes.
fn hash(i: u64) -> u64 {
    let mut z = i.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[test]
fn a_topic_is_seen_on_its_second_sight() {
    let mut seen = Seen::new();
    assert!(!seen.check_and_insert(hash(0)));
    assert!(seen.check_and_insert(hash(0)));
}

#[test]
fn a_topic_is_remembered_across_a_change_of_generation() {
    let mut seen = Seen::new();
    // The last topic of a generation, then a whole generation of others.
    for i in 1..GENERATION as u64 {
        seen.check_and_insert(hash(i));
    }
    assert!(!seen.check_and_insert(hash(0)));
    for i in 0..GENERATION as u64 {
        seen.check_and_insert(hash(1_000_000 + i));
    }
    assert!(seen.check_and_insert(hash(0)));
}
