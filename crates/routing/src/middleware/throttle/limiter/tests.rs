//! The sliding log against a reference model: a full history of grants, searched naively.

use std::time::Duration;

use proptest::prelude::*;
use tokio::time::Instant;

use super::SlidingLog;

/// The earliest instant `t >= now` (on the millisecond grid that the inputs use) at which
/// fewer than `calls` of `history` lie in `(t - period, t]`, and no later grant precedes it.
fn reference(history: &[Instant], calls: usize, period: Duration, now: Instant) -> Instant {
    let mut t = now.max(history.last().copied().unwrap_or(now));
    loop {
        let in_window = history
            .iter()
            .filter(|granted| **granted <= t && t - **granted < period)
            .count();
        if in_window < calls {
            return t;
        }
        t += Duration::from_millis(1);
    }
}

proptest! {
    #[test]
    fn grants_match_the_reference_and_never_break_the_rate(
        calls in 1usize..5,
        period_ms in 1u64..50,
        gaps in prop::collection::vec(0u64..30, 1..40),
    ) {
        let period = Duration::from_millis(period_ms);
        let start = Instant::now();
        let mut log = SlidingLog::new(calls, period);
        let mut history = Vec::new();
        let mut now = start;
        for gap in gaps {
            now += Duration::from_millis(gap);
            let expected = reference(&history, calls, period, now);
            let granted = log.reserve(now, Duration::MAX).unwrap();
            prop_assert_eq!(granted, expected);
            history.push(granted);
        }
        // Any `calls + 1` consecutive grants span at least one period.
        for window in history.windows(calls + 1) {
            prop_assert!(window[calls] - window[0] >= period);
        }
    }
}

#[test]
fn a_wait_over_the_limit_reserves_nothing() {
    let period = Duration::from_secs(10);
    let now = Instant::now();
    let mut log = SlidingLog::new(1, period);
    assert_eq!(log.reserve(now, Duration::ZERO), Ok(now));
    assert_eq!(log.reserve(now, Duration::from_secs(5)), Err(period));
    // The refused call took no slot: the next one still waits only one period.
    assert_eq!(log.reserve(now, period), Ok(now + period));
}

#[test]
fn a_period_the_clock_cannot_add_puts_the_next_turn_far_away_without_panicking() {
    use switchyard_core::deadline::FAR_FUTURE;

    let now = Instant::now();
    let mut log = SlidingLog::new(1, Duration::MAX);
    assert_eq!(log.reserve(now, Duration::ZERO), Ok(now));
    assert_eq!(log.reserve(now, Duration::from_secs(30)), Err(FAR_FUTURE));
    // Even a caller willing to wait for ever gets a turn, not a panic.
    assert_eq!(log.reserve(now, Duration::MAX), Ok(now + FAR_FUTURE));
}
