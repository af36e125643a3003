//! The pure parts of the scanner task: tick scheduling, and turning failures into text.

use std::time::Duration;

use switchyard_core::Error as CoreError;
use tokio::time::Instant;

use super::{guarded, next_tick, panic_text};
use crate::Jitter;

#[test]
fn missed_ticks_are_skipped_to_the_next_boundary() {
    let start = Instant::now();
    let s = Duration::from_secs;
    // (finished at, next tick at, ticks skipped), for a tick planned at 0 with interval 10.
    let cases = [
        (0, 10, 0),
        (9, 10, 0),
        (10, 10, 0),
        (11, 20, 1),
        (20, 20, 1),
        (21, 30, 2),
        (35, 40, 3),
        (1_000, 1_000, 99),
    ];
    for (finished, next, skipped) in cases {
        let mut rng = fastrand::Rng::with_seed(7);
        let actual = next_tick(start, start + s(finished), s(10), Jitter::NONE, &mut rng);
        assert_eq!(actual, (start + s(next), skipped), "finished at {finished}");
    }
}

#[test]
fn a_huge_interval_does_not_overflow() {
    let start = Instant::now();
    let mut rng = fastrand::Rng::with_seed(7);
    let (next, skipped) = next_tick(start, start, Duration::MAX, Jitter::NONE, &mut rng);
    assert!(next > start + Duration::from_secs(365 * 24 * 3600));
    assert_eq!(skipped, 0);
}

#[test]
fn panic_payloads_become_redacted_text() {
    let cases: [(Box<dyn std::any::Any + Send>, &str); 3] = [
        (Box::new("boom"), "panicked: boom"),
        (
            Box::new(String::from("token=abc123 leaked")),
            "panicked: token=[REDACTED] leaked",
        ),
        (Box::new(42), "panicked: a panic without a message"),
    ];
    for (payload, expected) in cases {
        assert_eq!(panic_text(&*payload), expected);
    }
}

#[tokio::test(start_paused = true)]
async fn guarded_catches_errors_panics_and_timeouts() {
    let limit = Duration::from_secs(5);
    assert_eq!(guarded(async { Ok(7) }, limit, "scan").await, Ok(7));
    let failed = guarded(
        async { Err::<(), _>(CoreError::transient_transport("redis://u:p@h down")) },
        limit,
        "scan",
    );
    assert_eq!(
        failed.await,
        Err("transport error: redis://[REDACTED]@h down".to_owned())
    );
    let panicked = guarded(async { panic!("boom") }, limit, "scan");
    assert_eq!(panicked.await, Err::<(), _>("panicked: boom".to_owned()));
    let hung = guarded(
        std::future::pending::<switchyard_core::Result<()>>(),
        limit,
        "scan",
    );
    assert_eq!(hung.await, Err("scan timed out after 5s".to_owned()));
}

#[test]
fn a_scan_that_ends_within_the_jitter_misses_no_tick() {
    let start = Instant::now();
    let interval = Duration::from_secs(10);
    let finished = start + Duration::from_secs(9);
    let jitter = Jitter::new(0.4).unwrap();
    // The scan took 9 s of a 10 s interval: the jittered tick may fall before its end, but
    // the interval has not passed, so the next tick is at once, not an interval later.
    for seed in 0..64 {
        let mut rng = fastrand::Rng::with_seed(seed);
        let (next, skipped) = next_tick(start, finished, interval, jitter, &mut rng);
        assert!(
            next >= finished && next <= start + interval && skipped == 0,
            "seed {seed}: next at {:?}, {skipped} skipped",
            next - start
        );
    }
}
