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

/// A mark made so far, as the test remembers it to forget it later.
struct Mark {
    key: Key,
    generation: u64,
}

/// The reference: the live marks, oldest first, as a plain list. A mark leaves when it is
/// `max_age` old, when it is forgotten, or when it is the oldest live mark and a new mark
/// needs room among `max_entries` live ones.
#[derive(Default)]
struct Model {
    live: Vec<(Key, u64, Instant)>,
}

impl Model {
    fn observe(&mut self, key: Key, now: Instant, max_entries: usize, max_age: Duration) -> bool {
        self.live.retain(|&(_, _, at)| now - at < max_age);
        if self.live.iter().any(|&(k, _, _)| k == key) {
            return true;
        }
        if self.live.len() >= max_entries {
            self.live.remove(0);
        }
        false
    }
}

proptest! {
    #[test]
    fn matches_the_reference_and_stays_bounded(
        max_entries in 1usize..5,
        max_age_ms in 1u64..100,
        ops in prop::collection::vec(op(), 1..120),
    ) {
        let max_age = Duration::from_millis(max_age_ms);
        let mut window = Window::new(max_entries, max_age);
        let mut model = Model::default();
        let mut marks: Vec<Mark> = Vec::new();
        let mut now = Instant::now();
        for op in ops {
            match op {
                Op::Observe(key) => {
                    let duplicate = model.observe(key, now, max_entries, max_age);
                    match window.observe(key, now) {
                        Seen::Duplicate => prop_assert!(duplicate),
                        Seen::First(generation) => {
                            prop_assert!(!duplicate);
                            model.live.push((key, generation, now));
                            marks.push(Mark { key, generation });
                        }
                    }
                }
                Op::Advance(ms) => now += Duration::from_millis(ms),
                Op::Forget(n) => {
                    if !marks.is_empty() {
                        let mark = &marks[n % marks.len()];
                        window.forget(mark.key, mark.generation);
                        model
                            .live
                            .retain(|&(k, g, _)| (k, g) != (mark.key, mark.generation));
                    }
                }
            }
            prop_assert!(window.len() <= max_entries);
            prop_assert!(window.len() <= window.slots());
            prop_assert!(window.slots() <= window.max_slots());
        }
    }
}

/// The second reader's case, in the window: one key failing over and over (observed, then
/// forgotten) takes no room from the keys that were handled, and its slots do not pile up.
#[test]
fn failed_attempts_take_no_room_and_their_slots_stay_bounded() {
    let mut window = Window::new(3, Duration::from_secs(3600));
    let now = Instant::now();
    assert!(matches!(window.observe(1, now), Seen::First(_)));
    for _ in 0..1000 {
        let Seen::First(generation) = window.observe(666, now) else {
            panic!("a forgotten key is not a duplicate");
        };
        window.forget(666, generation);
        assert!(window.slots() <= window.max_slots());
    }
    assert_eq!(window.len(), 1);
    assert_eq!(window.observe(1, now), Seen::Duplicate);
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
