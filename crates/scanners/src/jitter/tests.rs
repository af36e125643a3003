//! Jitter stays within its bounds and backoff grows as documented.

use std::time::Duration;

use proptest::prelude::*;

use super::{Backoff, Jitter, first_tick_offset};

#[test]
fn jitter_ratio_is_validated() {
    let cases = [
        (0.0, true),
        (0.1, true),
        (0.499, true),
        (0.5, false),
        (-0.1, false),
        (f64::NAN, false),
        (1.0, false),
    ];
    for (ratio, valid) in cases {
        assert_eq!(Jitter::new(ratio).is_ok(), valid, "ratio {ratio}");
    }
}

#[test]
fn backoff_doubles_up_to_its_cap() {
    let backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(1)).unwrap();
    let cases = [
        (0, 0),
        (1, 100),
        (2, 200),
        (3, 400),
        (4, 800),
        (5, 1_000),
        (40, 1_000),
        (u32::MAX, 1_000),
    ];
    for (failures, millis) in cases {
        assert_eq!(
            backoff.delay(failures),
            Duration::from_millis(millis),
            "{failures} failures"
        );
    }
}

#[test]
fn backoff_is_validated() {
    let ms = Duration::from_millis;
    assert!(Backoff::new(Duration::ZERO, ms(1)).is_err());
    assert!(Backoff::new(ms(2), ms(1)).is_err());
    assert!(Backoff::new(ms(1), ms(1)).is_ok());
}

#[test]
fn huge_delays_do_not_panic() {
    let mut rng = fastrand::Rng::with_seed(1);
    assert!(Jitter::new(0.3).unwrap().apply(Duration::MAX, &mut rng) <= Duration::MAX);
    assert!(first_tick_offset(Duration::MAX, &mut rng) <= Duration::MAX);
}

proptest! {
    #[test]
    fn jitter_shortens_by_at_most_its_ratio(ratio in 0.0f64..0.5, millis in 1u64..10_000_000, seed: u64) {
        let jitter = Jitter::new(ratio).unwrap();
        let delay = Duration::from_millis(millis);
        let mut rng = fastrand::Rng::with_seed(seed);
        let jittered = jitter.apply(delay, &mut rng);
        prop_assert!(jittered <= delay);
        prop_assert!(jittered >= delay.mul_f64(1.0 - ratio) - Duration::from_nanos(1));
    }

    #[test]
    fn first_tick_falls_within_one_interval(millis in 1u64..10_000_000, seed: u64) {
        let interval = Duration::from_millis(millis);
        let offset = first_tick_offset(interval, &mut fastrand::Rng::with_seed(seed));
        prop_assert!(offset < interval);
    }

    #[test]
    fn jittered_backoff_still_grows(ratio in 0.0f64..0.5, failures in 1u32..20, seed: u64) {
        // The longest the n-th delay can be is shorter than the shortest the (n+1)-th can be,
        // as long as neither is capped.
        let backoff = Backoff::new(Duration::from_millis(10), Duration::from_secs(1_000_000)).unwrap();
        let jitter = Jitter::new(ratio).unwrap();
        let mut rng = fastrand::Rng::with_seed(seed);
        let this = jitter.apply(backoff.delay(failures), &mut rng);
        let next = jitter.apply(backoff.delay(failures + 1), &mut rng);
        prop_assert!(next > this);
    }
}
