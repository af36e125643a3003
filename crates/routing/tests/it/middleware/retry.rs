//! Retry: attempt counts, exponential spacing within the jitter bounds, the elapsed budget,
//! and which errors are retried.

use std::time::Duration;

use switchyard_core::{Error, Handler, Message};
use switchyard_routing::middleware::{
    retry::{GiveUp, RetryError, RetryLayer},
    timeout::TimeoutLayer,
};
use tokio::time::Instant;
use tower_layer::Layer;

use super::support::{assert_between, message, recorded, within};

const BASE: Duration = Duration::from_millis(100);
/// Tokio's timer has millisecond resolution: a sleep may end up to 1 ms late.
const TICK: Duration = Duration::from_millis(1);

fn always_transient() -> Error {
    Error::transient_handler("database busy")
}

#[tokio::test(start_paused = true)]
async fn retries_transient_errors_until_success() {
    let (handler, calls) = recorded(|call, message: Message| async move {
        if call < 3 {
            Err(always_transient())
        } else {
            Ok(vec![message])
        }
    });
    let retry = RetryLayer::builder()
        .max_attempts(5)
        .min_delay(BASE)
        .build()
        .unwrap()
        .layer(handler);

    let outputs = within(retry.handle(&message("m"))).await.unwrap();
    assert_eq!(outputs.len(), 1);
    assert_eq!(calls.count(), 3);
}

#[tokio::test(start_paused = true)]
async fn gives_up_after_max_attempts_with_exponential_spacing() {
    let (handler, calls) = recorded(|_, _| async { Err(always_transient()) });
    let retry = RetryLayer::builder()
        .max_attempts(5)
        .min_delay(BASE)
        .max_delay(Duration::from_secs(10))
        .build()
        .unwrap()
        .layer(handler);

    let start = Instant::now();
    let err = within(retry.handle(&message("m"))).await.unwrap_err();
    let elapsed = start.elapsed();

    assert_eq!(calls.count(), 5);
    assert_eq!(RetryError::attempts_of(&err), Some(5));
    let retry_err = RetryError::find(&err).unwrap();
    assert_eq!(retry_err.reason(), GiveUp::AttemptsExhausted);
    assert!(err.is_transient(), "the last error's class is kept");
    assert!(
        err.report().contains("database busy"),
        "the report keeps the cause: {}",
        err.report()
    );
    assert_eq!(retry_err.elapsed(), elapsed);

    // Gap n is BASE * 2^(n-1) plus a jitter of up to as much again.
    let gaps = calls.gaps();
    for (n, gap) in gaps.iter().enumerate() {
        let base = BASE * 2u32.pow(u32::try_from(n).unwrap());
        assert_between(*gap, base, base * 2 + TICK);
    }
    // So the whole run took between 100+200+400+800 ms and twice that.
    assert_between(elapsed, BASE * 15, BASE * 30 + TICK * 4);
}

#[tokio::test(start_paused = true)]
async fn delays_stop_growing_at_max_delay() {
    let (handler, calls) = recorded(|_, _| async { Err(always_transient()) });
    let retry = RetryLayer::builder()
        .max_attempts(6)
        .min_delay(BASE)
        .max_delay(BASE * 2)
        .build()
        .unwrap()
        .layer(handler);
    within(retry.handle(&message("m"))).await.unwrap_err();
    let gaps = calls.gaps();
    assert_eq!(gaps.len(), 5);
    for gap in &gaps[1..] {
        assert_between(*gap, BASE * 2, BASE * 4 + TICK);
    }
}

#[tokio::test(start_paused = true)]
async fn permanent_errors_are_not_retried() {
    let (handler, calls) =
        recorded(|_, _| async { Err(Error::permanent_handler("malformed order")) });
    let retry = RetryLayer::builder().build().unwrap().layer(handler);

    let start = Instant::now();
    let err = within(retry.handle(&message("m"))).await.unwrap_err();
    assert_eq!(calls.count(), 1);
    assert_eq!(start.elapsed(), Duration::ZERO, "no sleep before giving up");
    let retry_err = RetryError::find(&err).unwrap();
    assert_eq!(retry_err.attempts(), 1);
    assert_eq!(retry_err.reason(), GiveUp::NotRetryable);
    assert!(!err.is_transient());
}

#[tokio::test(start_paused = true)]
async fn a_predicate_overrides_is_transient() {
    let (handler, calls) =
        recorded(|_, _| async { Err(Error::permanent_handler("malformed order")) });
    let retry_all = RetryLayer::builder()
        .max_attempts(3)
        .retry_if(|_| true)
        .build()
        .unwrap()
        .layer(handler);
    within(retry_all.handle(&message("m"))).await.unwrap_err();
    assert_eq!(calls.count(), 3, "permanent errors retried on request");

    let (handler, calls) = recorded(|_, _| async { Err(always_transient()) });
    let retry_none = RetryLayer::builder()
        .max_attempts(3)
        .retry_if(|err| matches!(err, Error::Timeout { .. }))
        .build()
        .unwrap()
        .layer(handler);
    within(retry_none.handle(&message("m"))).await.unwrap_err();
    assert_eq!(calls.count(), 1, "transient but not a timeout: not retried");
}

#[tokio::test(start_paused = true)]
async fn the_elapsed_budget_stops_retries_early() {
    let (handler, calls) = recorded(|_, _| async { Err(always_transient()) });
    let second = Duration::from_secs(1);
    let retry = RetryLayer::builder()
        .max_attempts(10)
        .min_delay(second)
        .max_elapsed(second * 5)
        .build()
        .unwrap()
        .layer(handler);

    let start = Instant::now();
    let err = within(retry.handle(&message("m"))).await.unwrap_err();
    let retry_err = RetryError::find(&err).unwrap();
    assert_eq!(retry_err.reason(), GiveUp::ElapsedExhausted);
    assert!(start.elapsed() <= second * 5, "{:?}", start.elapsed());
    // Delays are in [1, 2], [2, 4], [4, 8] s: the first two may fit in 5 s, three never do.
    assert!(
        (2..=3).contains(&calls.count()),
        "{} attempts",
        calls.count()
    );
}

#[tokio::test(start_paused = true)]
async fn a_timeout_inside_retry_limits_each_attempt() {
    let (handler, calls) = recorded(|_, _| async {
        tokio::time::sleep(Duration::from_secs(60)).await;
        Ok(vec![])
    });
    let deadline = Duration::from_secs(1);
    let stack = RetryLayer::builder()
        .max_attempts(3)
        .min_delay(BASE)
        .build()
        .unwrap()
        .layer(TimeoutLayer::new(deadline).unwrap().layer(handler));

    let start = Instant::now();
    let err = within(stack.handle(&message("m"))).await.unwrap_err();
    assert_eq!(calls.count(), 3);
    let retry_err = RetryError::find(&err).unwrap();
    assert!(matches!(retry_err.last_error(), Error::Timeout { after, .. } if *after == deadline));
    // Three full deadlines plus two backoff delays.
    assert_between(
        start.elapsed(),
        deadline * 3 + BASE * 3,
        deadline * 3 + BASE * 6 + TICK * 5,
    );
}
