//! The clock follows Tokio's paused clock.

use std::time::{Duration, UNIX_EPOCH};

use super::Clock;

#[tokio::test(start_paused = true)]
async fn advances_with_tokio_and_clones_agree() {
    let start = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let clock = Clock::starting_at(start);
    let clone = clock;
    assert_eq!(clock.now(), start);
    tokio::time::advance(Duration::from_millis(1_500)).await;
    assert_eq!(clock.now(), start + Duration::from_millis(1_500));
    assert_eq!(clone.now(), clock.now());
    assert_eq!(
        clock.after(Duration::from_secs(2)),
        start + Duration::from_millis(3_500)
    );
}

#[tokio::test(start_paused = true)]
async fn a_deadline_past_the_clock_saturates_instead_of_panicking() {
    let start = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let clock = Clock::starting_at(start);
    assert_eq!(
        clock.after(Duration::MAX),
        start + switchyard_core::deadline::FAR_FUTURE
    );
}
