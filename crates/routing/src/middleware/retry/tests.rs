//! Unit tests of the retry policy: the backoff it builds and its budget.

use std::time::Duration;

use backon::BackoffBuilder;

use super::RetryLayer;

fn delays(layer: &RetryLayer) -> Vec<Duration> {
    layer.policy.backoff().build().collect()
}

#[test]
fn backoff_doubles_within_jitter_bounds_and_stops_after_the_last_attempt() {
    let layer = RetryLayer::builder()
        .max_attempts(5)
        .min_delay(Duration::from_millis(100))
        .max_delay(Duration::from_millis(400))
        .build()
        .unwrap();
    let delays = delays(&layer);
    assert_eq!(delays.len(), 4, "5 attempts: 4 delays between them");
    for (delay, base_ms) in delays.iter().zip([100, 200, 400, 400]) {
        let base = Duration::from_millis(base_ms);
        assert!(
            *delay >= base && *delay <= base * 2,
            "{delay:?} outside [{base:?}, {:?}]",
            base * 2
        );
    }
}

#[test]
fn each_message_gets_its_own_jitter() {
    let layer = RetryLayer::builder().max_attempts(4).build().unwrap();
    // Identical sequences would mean a shared seed: consumers that failed together would
    // retry together. Three f32 draws colliding by chance is below 2^-60.
    assert_ne!(delays(&layer), delays(&layer));
}

#[test]
fn the_elapsed_budget_is_inclusive() {
    let layer = RetryLayer::builder()
        .max_elapsed(Duration::from_secs(1))
        .build()
        .unwrap();
    assert!(!layer.policy.over_budget(Duration::from_secs(1)));
    assert!(layer.policy.over_budget(Duration::from_millis(1001)));
    let unbounded = RetryLayer::builder().build().unwrap();
    assert!(!unbounded.policy.over_budget(Duration::MAX));
}
