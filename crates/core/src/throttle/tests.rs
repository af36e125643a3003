//! The throttle, on instants given by the test: no clock is read.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use super::Throttle;

const SECOND: Duration = Duration::from_secs(1);

#[test]
fn one_event_per_interval_passes_and_reports_what_it_held_back() {
    let throttle = Throttle::new(SECOND);
    let start = throttle.origin;
    assert_eq!(throttle.admit_at(start), Some(0), "the first passes");
    for millis in [1, 10, 500, 999] {
        assert_eq!(
            throttle.admit_at(start + Duration::from_millis(millis)),
            None
        );
    }
    assert_eq!(
        throttle.admit_at(start + SECOND),
        Some(4),
        "the next interval's first, with the four held back"
    );
    assert_eq!(throttle.admit_at(start + SECOND), None);
    assert_eq!(
        throttle.admit_at(start + 10 * SECOND),
        Some(1),
        "a quiet spell lets the next one through at once"
    );
}

#[test]
fn an_instant_before_its_creation_is_held_back_after_the_first() {
    let throttle = Throttle::new(SECOND);
    let early = throttle
        .origin
        .checked_sub(SECOND)
        .unwrap_or(throttle.origin);
    assert_eq!(throttle.admit_at(early), Some(0));
    assert_eq!(throttle.admit_at(early), None);
}

#[test]
fn a_huge_interval_saturates_instead_of_overflowing() {
    let throttle = Throttle::new(Duration::MAX);
    assert_eq!(throttle.admit_at(throttle.origin), Some(0));
    assert_eq!(throttle.admit_at(throttle.origin + 1000 * SECOND), None);
}

#[test]
fn racing_threads_let_exactly_one_through_and_count_every_other() {
    const THREADS: usize = 8;
    const EACH: u64 = 1_000;
    let throttle = Arc::new(Throttle::new(Duration::from_secs(3600)));
    let now = Instant::now();
    // Each thread's reports: one per event that passed, each with what it said was held back.
    let reports: Vec<u64> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                let throttle = &throttle;
                scope.spawn(move || {
                    (0..EACH)
                        .filter_map(|_| throttle.admit_at(now))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| handle.join().unwrap())
            .collect()
    });
    assert_eq!(reports.len(), 1, "one passed: {reports:?}");
    // The one that passed may report some held back by threads that lost the race to it;
    // the rest are reported by the next one to pass. None is lost or counted twice.
    let later = throttle
        .admit_at(now + Duration::from_secs(3600))
        .expect("the next interval's first passes");
    assert_eq!(reports[0] + later, THREADS as u64 * EACH - 1);
}
