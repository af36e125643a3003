//! The sliding log against a reference model: a full history of grants, searched naively.

use std::time::Duration;

use proptest::prelude::*;
use tokio::time::Instant;

use super::{SlidingLog, Turn};

fn at(turn: Turn) -> Instant {
    turn.at
}

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
            let granted = log.reserve(now, Duration::MAX).unwrap().at;
            prop_assert_eq!(granted, expected);
            history.push(granted);
        }
        // Any `calls + 1` consecutive grants span at least one period.
        for window in history.windows(calls + 1) {
            prop_assert!(window[calls] - window[0] >= period);
        }
    }

    /// Callers that give up withdraw their reservation: the grants that are kept still
    /// match the reference (built from the kept grants only) and keep the rate.
    #[test]
    fn withdrawn_reservations_free_their_slot_and_never_break_the_rate(
        calls in 1usize..4,
        period_ms in 1u64..50,
        steps in prop::collection::vec((0u64..30, any::<bool>(), any::<prop::sample::Index>()), 1..40),
    ) {
        let period = Duration::from_millis(period_ms);
        let mut log = SlidingLog::new(calls, period);
        let mut kept: Vec<Turn> = Vec::new();
        let mut now = Instant::now();
        for (gap, withdraw, pick) in steps {
            now += Duration::from_millis(gap);
            let waiting: Vec<usize> = (0..kept.len()).filter(|&i| kept[i].at > now).collect();
            if withdraw && !waiting.is_empty() {
                let turn = kept.remove(waiting[pick.index(waiting.len())]);
                log.withdraw(turn);
                continue;
            }
            let history: Vec<Instant> = kept.iter().map(|turn| turn.at).collect();
            let expected = reference(&history, calls, period, now);
            let turn = log.reserve(now, Duration::MAX).unwrap();
            prop_assert_eq!(turn.at, expected);
            kept.push(turn);
        }
        for window in kept.windows(calls + 1) {
            prop_assert!(window[calls].at - window[0].at >= period);
        }
    }
}

#[test]
fn a_withdrawn_last_reservation_goes_to_the_next_caller() {
    let period = Duration::from_secs(1);
    let now = Instant::now();
    let mut log = SlidingLog::new(1, period);
    assert_eq!(log.reserve(now, Duration::ZERO).map(at), Ok(now));
    let cancelled = log.reserve(now, period).unwrap();
    assert_eq!(cancelled.at, now + period);
    log.withdraw(cancelled);
    // Without the withdrawal the next turn would be two periods away.
    assert_eq!(log.reserve(now, period).map(at), Ok(now + period));
}

#[test]
fn a_wait_over_the_limit_reserves_nothing() {
    let period = Duration::from_secs(10);
    let now = Instant::now();
    let mut log = SlidingLog::new(1, period);
    assert_eq!(log.reserve(now, Duration::ZERO).map(at), Ok(now));
    assert_eq!(
        log.reserve(now, Duration::from_secs(5)).map(at),
        Err(period)
    );
    // The refused call took no slot: the next one still waits only one period.
    assert_eq!(log.reserve(now, period).map(at), Ok(now + period));
}

#[test]
fn a_period_the_clock_cannot_add_puts_the_next_turn_far_away_without_panicking() {
    use switchyard_core::deadline::FAR_FUTURE;

    let now = Instant::now();
    let mut log = SlidingLog::new(1, Duration::MAX);
    assert_eq!(log.reserve(now, Duration::ZERO).map(at), Ok(now));
    assert_eq!(
        log.reserve(now, Duration::from_secs(30)).map(at),
        Err(FAR_FUTURE)
    );
    // Even a caller willing to wait for ever gets a turn, not a panic.
    assert_eq!(
        log.reserve(now, Duration::MAX).map(at),
        Ok(now + FAR_FUTURE)
    );
}
