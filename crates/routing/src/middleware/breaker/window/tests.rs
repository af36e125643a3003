//! The windows: the last calls, and the sliding span of time against a list of every
//! outcome with its time.

use proptest::prelude::*;

use super::*;

const SPAN: Duration = Duration::from_millis(1000);

#[test]
fn recent_calls_keep_the_last_outcomes_only() {
    let mut recent = RecentCalls::new(3);
    for failed in [true, true, false] {
        recent.record(failed);
    }
    assert_eq!(recent.totals(), (3, 2));
    recent.record(false);
    assert_eq!(recent.totals(), (3, 1), "the oldest failure left");
    recent.clear();
    assert_eq!(recent.totals(), (0, 0));
}

#[test]
fn counts_within_the_span_and_forgets_after_it() {
    let start = Instant::now();
    let mut window = FailureWindow::new(SPAN);
    window.record(true, start);
    window.record(false, start + Duration::from_millis(500));
    assert_eq!(window.totals(start + Duration::from_millis(999)), (2, 1));
    // The first bucket started a span ago: its failure is forgotten.
    assert_eq!(window.totals(start + SPAN), (1, 0));
    assert_eq!(window.totals(start + Duration::from_millis(1500)), (0, 0));
    window.record(true, start + Duration::from_millis(1600));
    window.clear();
    assert_eq!(window.totals(start + Duration::from_millis(1600)), (0, 0));
}

#[test]
fn calls_at_one_instant_share_a_bucket() {
    let now = Instant::now();
    let mut window = FailureWindow::new(Duration::from_nanos(3));
    for _ in 0..1000 {
        window.record(true, now);
    }
    assert_eq!(window.buckets.len(), 1);
    assert_eq!(window.totals(now), (1000, 1000));
}

proptest! {
    /// An outcome at `t` is counted while `t` is within the span, possibly up to one
    /// bucket less; memory stays at about `BUCKETS` buckets whatever the rate.
    #[test]
    fn totals_stay_between_the_exact_bounds(
        steps in prop::collection::vec((0u64..300, any::<bool>()), 1..200),
    ) {
        let start = Instant::now();
        let bucket = SPAN / BUCKETS;
        let mut window = FailureWindow::new(SPAN);
        let mut log: Vec<(Instant, bool)> = Vec::new();
        let mut now = start;
        for (advance, failed) in steps {
            now += Duration::from_millis(advance);
            window.record(failed, now);
            log.push((now, failed));
            prop_assert!(window.buckets.len() <= BUCKETS as usize + 2);

            let count = |oldest: Instant| {
                let kept = log.iter().filter(|(at, _)| *at >= oldest);
                let calls = kept.clone().count() as u32;
                let failures = kept.filter(|(_, failed)| *failed).count() as u32;
                (calls, failures)
            };
            // Upper: everything after `now - SPAN` (exclusive). Lower: everything at or
            // after `now - SPAN + bucket`.
            let upper = count(
                now.checked_sub(SPAN).map_or(start, |at| at + Duration::from_nanos(1)),
            );
            let lower = count(now.checked_sub(SPAN - bucket).unwrap_or(start));
            let (calls, failures) = window.totals(now);
            prop_assert!(lower.0 <= calls && calls <= upper.0, "{lower:?} {calls} {upper:?}");
            prop_assert!(lower.1 <= failures && failures <= upper.1);
        }
    }
}
