//! The window against a reference model: the list of every mark ever made.

use std::time::Duration;

use proptest::prelude::*;
use tokio::time::Instant;

use super::{Key, Seen, Window};

#[derive(Debug, Clone)]
enum Op {
    Observe(Key),
    Advance(u64),
    /// Forget the n-th mark made so far (modulo their number), as a failed handler does.
    Forget(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u128..6).prop_map(Op::Observe),
        2 => (0u64..40).prop_map(Op::Advance),
        1 => any::<usize>().prop_map(Op::Forget),
    ]
}

struct Mark {
    key: Key,
    generation: u64,
    at: Instant,
    forgotten: bool,
}

proptest! {
    #[test]
    fn matches_the_reference_and_stays_bounded(
        max_entries in 1usize..5,
        max_age_ms in 1u64..100,
        ops in prop::collection::vec(op(), 1..80),
    ) {
        let max_age = Duration::from_millis(max_age_ms);
        let mut window = Window::new(max_entries, max_age);
        let mut marks: Vec<Mark> = Vec::new();
        let mut now = Instant::now();
        for op in ops {
            match op {
                Op::Observe(key) => {
                    // A key is a duplicate if one of the last `max_entries` marks is for it,
                    // younger than `max_age`, and not forgotten.
                    let recent = &marks[marks.len().saturating_sub(max_entries)..];
                    let duplicate = recent
                        .iter()
                        .any(|m| m.key == key && !m.forgotten && now - m.at < max_age);
                    match window.observe(key, now) {
                        Seen::Duplicate => prop_assert!(duplicate),
                        Seen::First(generation) => {
                            prop_assert!(!duplicate);
                            marks.push(Mark { key, generation, at: now, forgotten: false });
                        }
                    }
                }
                Op::Advance(ms) => now += Duration::from_millis(ms),
                Op::Forget(n) => {
                    if !marks.is_empty() {
                        let index = n % marks.len();
                        let mark = &mut marks[index];
                        window.forget(mark.key, mark.generation);
                        mark.forgotten = true;
                    }
                }
            }
            prop_assert!(window.slots() <= max_entries);
            prop_assert!(window.len() <= window.slots());
        }
    }
}

#[test]
fn memory_is_bounded_by_count_whatever_the_input() {
    let mut window = Window::new(100, Duration::from_secs(3600));
    let now = Instant::now();
    for key in 0..100_000u128 {
        assert_eq!(window.observe(key, now), Seen::First(key as u64));
    }
    assert_eq!(window.len(), 100);
    assert_eq!(window.slots(), 100);
    assert_eq!(window.observe(99_999, now), Seen::Duplicate);
    assert!(
        matches!(window.observe(0, now), Seen::First(_)),
        "evicted by count"
    );
}
