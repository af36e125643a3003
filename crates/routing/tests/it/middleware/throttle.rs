//! Throttle: calls are spaced to the rate, in order, with bounded waiting, and one layer's
//! rate is shared by every handler it wraps.

use std::{error::Error as _, sync::Arc, time::Duration};

use futures::future::join_all;
use switchyard_core::Handler;
use switchyard_routing::middleware::throttle::{ThrottleLayer, ThrottledError};
use tokio::time::Instant;
use tower_layer::Layer;

use super::support::{assert_between, message, recorded, within};

const SECOND: Duration = Duration::from_secs(1);

/// Asserts that each offset is the expected number of seconds, to tokio's 1 ms resolution.
#[track_caller]
fn assert_schedule(offsets: &[Duration], seconds: &[u32]) {
    assert_eq!(offsets.len(), seconds.len(), "{offsets:?}");
    for (offset, expected) in offsets.iter().zip(seconds) {
        let expected = SECOND * *expected;
        assert_between(*offset, expected, expected + Duration::from_millis(1));
    }
}

#[tokio::test(start_paused = true)]
async fn sequential_calls_are_spaced_to_the_rate() {
    let (handler, calls) = recorded(|_, _| async { Ok(vec![]) });
    let throttle = ThrottleLayer::builder(2, SECOND)
        .build()
        .unwrap()
        .layer(handler);
    let start = Instant::now();
    for _ in 0..6 {
        within(throttle.handle(&message("m"))).await.unwrap();
    }
    assert_schedule(&calls.offsets(start), &[0, 0, 1, 1, 2, 2]);
}

#[tokio::test(start_paused = true)]
async fn concurrent_calls_share_the_rate_in_arrival_order() {
    let (handler, calls) = recorded(|_, _| async { Ok(vec![]) });
    let layer = ThrottleLayer::builder(2, SECOND).build().unwrap();
    // Two handlers from one layer (and its clone) share its rate.
    let handler = Arc::new(handler);
    let handlers = [layer.layer(handler.clone()), layer.clone().layer(handler)];
    let start = Instant::now();
    let message = message("m");
    let calls_in_flight = (0..6).map(|n| handlers[n % 2].handle(&message));
    let results = within(join_all(calls_in_flight)).await;
    assert!(results.iter().all(Result::is_ok));
    assert_schedule(&calls.offsets(start), &[0, 0, 1, 1, 2, 2]);
}

#[tokio::test(start_paused = true)]
async fn a_call_whose_turn_is_too_far_fails_at_once_without_taking_a_turn() {
    let (handler, calls) = recorded(|_, _| async { Ok(vec![]) });
    let period = Duration::from_secs(10);
    let throttle = ThrottleLayer::builder(1, period)
        .max_wait(Duration::from_secs(5))
        .build()
        .unwrap()
        .layer(handler);

    let start = Instant::now();
    within(throttle.handle(&message("m"))).await.unwrap();
    let err = within(throttle.handle(&message("m"))).await.unwrap_err();
    assert_eq!(start.elapsed(), Duration::ZERO, "refused without waiting");
    assert!(err.is_transient());
    let throttled = err
        .source()
        .and_then(|source| source.downcast_ref::<ThrottledError>())
        .unwrap();
    assert_eq!(throttled.wait(), period);
    assert_eq!(throttled.max_wait(), Duration::from_secs(5));

    tokio::time::advance(period).await;
    within(throttle.handle(&message("m"))).await.unwrap();
    assert_eq!(calls.count(), 2);
    assert_eq!(calls.gaps(), [period]);
}

/// Second reading: a configured period that the clock cannot add (here `Duration::MAX`, a
/// "one call, ever" limit) must not panic the caller once the rate is reached; the call over
/// the rate is refused (its turn is past `max_wait`).
#[tokio::test(start_paused = true)]
async fn a_huge_period_refuses_the_call_over_the_rate_instead_of_panicking() {
    let (handler, calls) = recorded(|_, _| async { Ok(vec![]) });
    let throttle = ThrottleLayer::builder(1, Duration::MAX)
        .build()
        .unwrap()
        .layer(Arc::new(handler));
    within(throttle.handle(&message("first"))).await.unwrap();
    let throttle = Arc::new(throttle);
    let second = {
        let throttle = throttle.clone();
        tokio::spawn(async move { within(throttle.handle(&message("second"))).await })
    };
    let outcome = second.await;
    let err = outcome
        .expect("the second call panicked")
        .expect_err("over the rate");
    assert!(
        err.source()
            .and_then(|s| s.downcast_ref::<ThrottledError>())
            .is_some()
    );
    assert_eq!(calls.count(), 1);
}

/// A caller cancelled while it waits (here by a timeout around the throttle) hands its turn
/// back. Kept, each cancelled turn pushed every later one a period further out, so once
/// callers waited longer than their timeout, every call timed out and none ever ran.
#[tokio::test(start_paused = true)]
async fn a_cancelled_waiter_gives_its_turn_back() {
    let (handler, calls) = recorded(|_, _| async { Ok(vec![]) });
    let throttle = ThrottleLayer::builder(1, SECOND)
        .build()
        .unwrap()
        .layer(handler);
    let patience = Duration::from_millis(300);
    let start = Instant::now();

    within(throttle.handle(&message("first"))).await.unwrap();
    let impatient = message("impatient");
    for _ in 0..3 {
        // Its turn is at 1 s: it gives up at 0.3, 0.6 and 0.9 s.
        let gave_up = tokio::time::timeout(patience, throttle.handle(&impatient));
        assert!(within(gave_up).await.is_err(), "should still be waiting");
    }
    // The next turn is still the one a period after the first call, not three periods on.
    within(throttle.handle(&message("next"))).await.unwrap();
    assert_schedule(&calls.offsets(start), &[0, 1]);
}
