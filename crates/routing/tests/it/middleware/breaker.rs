//! Circuit breaker: closed, open, half-open and back, as a handler sees it; the open state
//! does not call the handler; probes are limited; panics count as failures; a whole policy
//! can be given.

use std::{error::Error as _, sync::Arc, time::Duration};

use switchyard_core::{Error, Handler, Message};
use switchyard_routing::middleware::{
    HandlerBuilder,
    breaker::{CircuitBreakerLayer, CircuitOpenError, CircuitPolicy, CircuitState},
    recoverer::RecovererLayer,
};
use tokio::{sync::Notify, time::Instant};
use tower_layer::Layer;

use super::support::{message, recorded, within};

const COOL_DOWN: Duration = Duration::from_secs(30);

fn open_error(err: &Error) -> &CircuitOpenError {
    err.source()
        .and_then(|source| source.downcast_ref::<CircuitOpenError>())
        .unwrap_or_else(|| panic!("not refused by the breaker: {err}"))
}

fn breaker(failures: u32, probes: u32) -> CircuitBreakerLayer {
    CircuitBreakerLayer::builder()
        .name("tests")
        .consecutive_failures(failures)
        .cool_down(COOL_DOWN)
        .half_open_probes(probes)
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn goes_through_every_state() {
    // Calls 1-3 fail, 4 (the first probe) fails, 5 (the second probe) succeeds, 6 fails.
    let (handler, calls) = recorded(|call, message: Message| async move {
        if call == 5 {
            Ok(vec![message])
        } else {
            Err(Error::transient_handler("down"))
        }
    });
    let layer = breaker(3, 1);
    let handler = layer.layer(handler);
    let m = message("m");

    for _ in 0..2 {
        within(handler.handle(&m)).await.unwrap_err();
        assert_eq!(layer.state(), CircuitState::Closed);
    }
    within(handler.handle(&m)).await.unwrap_err();
    assert_eq!(layer.state(), CircuitState::Open);
    assert_eq!(
        handler.state(),
        CircuitState::Open,
        "the service reports the same breaker"
    );

    // Open: refused at once, without calling the handler.
    tokio::time::advance(Duration::from_secs(10)).await;
    let start = Instant::now();
    let err = within(handler.handle(&m)).await.unwrap_err();
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert!(err.is_transient());
    let refused = open_error(&err);
    assert_eq!(refused.state(), CircuitState::Open);
    assert_eq!(refused.breaker(), "tests");
    assert_eq!(refused.retry_after(), Some(Duration::from_secs(20)));
    assert_eq!(calls.count(), 3);
    assert_eq!(layer.rejected(), 1);

    // Half-open after the cool-down; a failed probe opens it again.
    tokio::time::advance(Duration::from_secs(20)).await;
    assert_eq!(layer.state(), CircuitState::HalfOpen);
    within(handler.handle(&m)).await.unwrap_err();
    assert_eq!(layer.state(), CircuitState::Open);
    assert_eq!(calls.count(), 4);

    // A successful probe closes it.
    tokio::time::advance(COOL_DOWN).await;
    assert_eq!(within(handler.handle(&m)).await.unwrap().len(), 1);
    assert_eq!(layer.state(), CircuitState::Closed);
    within(handler.handle(&m)).await.unwrap_err();
    assert_eq!(
        layer.state(),
        CircuitState::Closed,
        "the failure count restarted"
    );
    assert_eq!(calls.count(), 6);
}

#[tokio::test(start_paused = true)]
async fn half_open_lets_a_limited_number_of_probes_through() {
    let release = Arc::new(Notify::new());
    let gate = release.clone();
    let (handler, calls) = recorded(move |call, message: Message| {
        let gate = gate.clone();
        async move {
            if call == 1 {
                return Err(Error::transient_handler("down"));
            }
            gate.notified().await;
            Ok(vec![message])
        }
    });
    let layer = breaker(1, 1);
    let handler = layer.layer(handler);
    let m = message("m");
    within(handler.handle(&m)).await.unwrap_err();
    tokio::time::advance(COOL_DOWN).await;

    let probe = handler.handle(&m);
    let other = async {
        // Runs while the probe waits at the gate.
        tokio::task::yield_now().await;
        let err = handler.handle(&m).await.unwrap_err();
        assert_eq!(open_error(&err).state(), CircuitState::HalfOpen);
        assert_eq!(open_error(&err).retry_after(), None);
        release.notify_one();
    };
    let (probe, ()) = within(futures::future::join(probe, other)).await;
    assert_eq!(probe.unwrap().len(), 1);
    assert_eq!(layer.state(), CircuitState::Closed);
    assert_eq!(calls.count(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_probe_gives_its_slot_back() {
    let (handler, calls) = recorded(|call, message: Message| async move {
        match call {
            1 => Err(Error::transient_handler("down")),
            2 => std::future::pending().await,
            _ => Ok(vec![message]),
        }
    });
    let layer = breaker(1, 1);
    let handler = layer.layer(handler);
    let m = message("m");
    within(handler.handle(&m)).await.unwrap_err();
    tokio::time::advance(COOL_DOWN).await;

    let cancelled = tokio::time::timeout(Duration::from_secs(1), handler.handle(&m)).await;
    assert!(cancelled.is_err(), "the probe hung and was dropped");
    assert_eq!(layer.state(), CircuitState::HalfOpen);
    assert_eq!(within(handler.handle(&m)).await.unwrap().len(), 1);
    assert_eq!(layer.state(), CircuitState::Closed);
    assert_eq!(calls.count(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_panic_counts_as_a_failure() {
    let (handler, _calls) = recorded(|_, _| async { panic!("bug") });
    let layer = breaker(2, 1);
    // The recoverer is outside: the panic unwinds through the breaker.
    let handler = HandlerBuilder::new()
        .layer(RecovererLayer::new())
        .layer(layer.clone())
        .handler(handler);
    for _ in 0..2 {
        within(handler.handle(&message("m"))).await.unwrap_err();
    }
    assert_eq!(layer.state(), CircuitState::Open);
}

#[tokio::test(start_paused = true)]
async fn failure_if_decides_what_counts() {
    let (handler, _calls) = recorded(|call, _| async move {
        if call <= 5 {
            Err(Error::permanent_handler("bad message"))
        } else {
            Err(Error::transient_handler("down"))
        }
    });
    let layer = CircuitBreakerLayer::builder()
        .consecutive_failures(2)
        .failure_if(Error::is_transient)
        .build()
        .unwrap();
    let handler = layer.layer(handler);
    for _ in 0..5 {
        within(handler.handle(&message("m"))).await.unwrap_err();
    }
    assert_eq!(
        layer.state(),
        CircuitState::Closed,
        "bad messages do not trip it"
    );
    for _ in 0..2 {
        within(handler.handle(&message("m"))).await.unwrap_err();
    }
    assert_eq!(layer.state(), CircuitState::Open);
}

#[tokio::test(start_paused = true)]
async fn failure_ratio_trips_on_a_full_window() {
    let (handler, _calls) = half_failing();
    let layer = CircuitBreakerLayer::builder()
        .failure_ratio(0.5, 4)
        .build()
        .unwrap();
    opens_on_the_fourth_call(&layer, &layer.layer(handler)).await;
}

/// Calls `handler`, whose even calls fail, four times: the circuit stays closed for three
/// calls, and the fourth, a failure, opens it with 2 failures out of 4.
async fn opens_on_the_fourth_call(layer: &CircuitBreakerLayer, handler: &impl Handler) {
    for _ in 0..3 {
        let _ = within(handler.handle(&message("m"))).await;
        assert_eq!(layer.state(), CircuitState::Closed);
    }
    within(handler.handle(&message("m"))).await.unwrap_err();
    assert_eq!(layer.state(), CircuitState::Open, "2 of the last 4 failed");
}

/// A handler whose even calls fail: half of its calls.
fn half_failing() -> (impl Handler, super::support::Calls) {
    recorded(|call, message: Message| async move {
        if call % 2 == 0 {
            Err(Error::transient_handler("down"))
        } else {
            Ok(vec![message])
        }
    })
}

#[tokio::test(start_paused = true)]
async fn a_policy_combines_a_failure_run_with_a_rate_over_time() {
    let policy = CircuitPolicy::builder()
        .consecutive_failures(3)
        .failure_rate_over(0.5, Duration::from_secs(60), 4)
        .cool_down(Duration::from_secs(10))
        .half_open_probes(2)
        .build()
        .unwrap();
    let layer = CircuitBreakerLayer::builder()
        .policy(policy)
        .build()
        .unwrap();
    let (handler, calls) = half_failing();
    let handler = layer.layer(handler);
    // No two failures in a row: only the rate can open it, once 4 calls ended in the minute.
    opens_on_the_fourth_call(&layer, &handler).await;
    assert_eq!(calls.count(), 4);

    // The policy's cool-down and probes hold.
    tokio::time::advance(Duration::from_secs(10)).await;
    assert_eq!(layer.state(), CircuitState::HalfOpen);
    within(handler.handle(&message("m"))).await.unwrap();
    assert_eq!(layer.state(), CircuitState::HalfOpen, "one of two probes");
}

#[tokio::test(start_paused = true)]
async fn settings_after_a_policy_change_it() {
    let policy = CircuitPolicy::builder()
        .failure_ratio(1.0, 100)
        .cool_down(Duration::from_secs(10))
        .build()
        .unwrap();
    let layer = CircuitBreakerLayer::builder()
        .policy(policy)
        .consecutive_failures(1)
        .cool_down(Duration::from_secs(20))
        .build()
        .unwrap();
    let (handler, _calls) = half_failing();
    let handler = layer.layer(handler);
    within(handler.handle(&message("m"))).await.unwrap();
    within(handler.handle(&message("m"))).await.unwrap_err();
    assert_eq!(
        layer.state(),
        CircuitState::Open,
        "one failure opens it: the policy's ratio was replaced"
    );
    tokio::time::advance(Duration::from_secs(10)).await;
    assert_eq!(
        layer.state(),
        CircuitState::Open,
        "the later cool-down holds"
    );
    tokio::time::advance(Duration::from_secs(10)).await;
    assert_eq!(layer.state(), CircuitState::HalfOpen);
}
