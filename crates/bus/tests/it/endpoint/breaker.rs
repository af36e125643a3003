//! Circuit-breaker transitions through the registry, on the paused clock: closed → open →
//! half-open → closed, half-open → open, the trial-call limit, and opening on the failure
//! rate.

use std::time::Duration;

use switchyard_bus::endpoint::{
    CircuitState, EndpointConfig, EndpointError, EndpointRegistry, Refusal,
};
use switchyard_core::Message;
use tokio::time::{Instant, advance};

use super::support::{Probe, endpoint, registry, within};

const COOL_DOWN: Duration = Duration::from_secs(30);

fn breaker_registry() -> EndpointRegistry {
    registry(
        EndpointConfig::builder()
            .consecutive_failures(3)
            .circuit_cool_down(COOL_DOWN)
            .half_open_trial_calls(1),
    )
}

fn circuit(registry: &EndpointRegistry) -> CircuitState {
    registry.endpoint("svc").unwrap().circuit
}

async fn refusal(registry: &EndpointRegistry) -> Refusal {
    match within(registry.deliver("svc", &Message::new("x"))).await {
        Err(EndpointError::Unavailable { refusals, .. }) => refusals[0].reason,
        other => panic!("{other:?}"),
    }
}

async fn fail_until_open(registry: &EndpointRegistry, probe: &Probe) {
    probe.set_failing(true);
    for _ in 0..3 {
        assert_eq!(circuit(registry), CircuitState::Closed);
        within(registry.deliver("svc", &Message::new("x")))
            .await
            .unwrap_err();
    }
    assert_eq!(circuit(registry), CircuitState::Open);
}

#[tokio::test(start_paused = true)]
async fn opens_on_failures_then_half_opens_and_a_trial_success_closes() {
    let registry = breaker_registry();
    let probe = Probe::new("svc");
    registry.register(endpoint("svc", "svc", &probe)).unwrap();
    fail_until_open(&registry, &probe).await;

    assert_eq!(
        refusal(&registry).await,
        Refusal::CircuitOpen {
            retry_after: COOL_DOWN
        }
    );
    advance(COOL_DOWN - Duration::from_secs(1)).await;
    assert_eq!(
        refusal(&registry).await,
        Refusal::CircuitOpen {
            retry_after: Duration::from_secs(1)
        }
    );
    assert_eq!(probe.calls(), 3);

    advance(Duration::from_secs(1)).await;
    assert_eq!(circuit(&registry), CircuitState::HalfOpen);
    probe.set_failing(false);
    registry.deliver("svc", &Message::new("x")).await.unwrap();
    assert_eq!(circuit(&registry), CircuitState::Closed);
    assert_eq!(probe.calls(), 4);

    // Closed again: the failure count started over.
    probe.set_failing(true);
    for _ in 0..2 {
        registry
            .deliver("svc", &Message::new("x"))
            .await
            .unwrap_err();
    }
    assert_eq!(circuit(&registry), CircuitState::Closed);
}

#[tokio::test(start_paused = true)]
async fn a_failed_trial_opens_the_circuit_again() {
    let registry = breaker_registry();
    let probe = Probe::new("svc");
    registry.register(endpoint("svc", "svc", &probe)).unwrap();
    fail_until_open(&registry, &probe).await;

    advance(COOL_DOWN).await;
    let err = registry
        .deliver("svc", &Message::new("x"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, EndpointError::Handler { .. }),
        "the trial was called"
    );
    assert_eq!(circuit(&registry), CircuitState::Open);
    assert_eq!(
        refusal(&registry).await,
        Refusal::CircuitOpen {
            retry_after: COOL_DOWN
        }
    );
    assert_eq!(probe.calls(), 4);
}

#[tokio::test(start_paused = true)]
async fn half_open_lets_only_the_trial_calls_through() {
    let registry = breaker_registry();
    let probe = Probe::gated("svc");
    registry.register(endpoint("svc", "svc", &probe)).unwrap();
    probe.release(3);
    fail_until_open(&registry, &probe).await;

    advance(COOL_DOWN).await;
    probe.set_failing(false);
    let trial = {
        let registry = registry.clone();
        tokio::spawn(async move { registry.deliver("svc", &Message::new("x")).await })
    };
    probe.wait_calls(4).await;
    assert_eq!(refusal(&registry).await, Refusal::CircuitHalfOpen);
    probe.release(1);
    within(trial).await.unwrap().unwrap();
    assert_eq!(circuit(&registry), CircuitState::Closed);
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_trial_gives_its_slot_back() {
    let registry = breaker_registry();
    let probe = Probe::gated("svc");
    registry.register(endpoint("svc", "svc", &probe)).unwrap();
    probe.release(3);
    fail_until_open(&registry, &probe).await;

    advance(COOL_DOWN).await;
    probe.set_failing(false);
    let trial = {
        let registry = registry.clone();
        tokio::spawn(async move { registry.deliver("svc", &Message::new("x")).await })
    };
    probe.wait_calls(4).await;
    trial.abort();
    assert!(within(trial).await.unwrap_err().is_cancelled());
    assert_eq!(registry.endpoint("svc").unwrap().in_flight, 0);

    probe.release(1);
    within(registry.deliver("svc", &Message::new("x")))
        .await
        .unwrap();
    assert_eq!(circuit(&registry), CircuitState::Closed);
}

#[tokio::test(start_paused = true)]
async fn the_failure_rate_in_the_window_opens_the_circuit() {
    let window = Duration::from_secs(60);
    let registry = registry(
        EndpointConfig::builder()
            .consecutive_failures(u32::MAX)
            .failure_rate_threshold(0.5)
            .failure_rate_window(window)
            .failure_rate_min_calls(6),
    );
    let probe = Probe::new("svc");
    registry.register(endpoint("svc", "svc", &probe)).unwrap();
    let start = Instant::now();

    // Never two failures in a row: only the rate can open it.
    for at in 0..5 {
        probe.set_failing(at % 2 == 1);
        let _ = registry.deliver("svc", &Message::new("x")).await;
    }
    assert_eq!(
        circuit(&registry),
        CircuitState::Closed,
        "2 of 5: under min_calls"
    );

    // Past the window, those five are forgotten.
    advance(window).await;
    probe.set_failing(true);
    let _ = registry.deliver("svc", &Message::new("x")).await;
    assert_eq!(
        circuit(&registry),
        CircuitState::Closed,
        "1 of 1 in the window"
    );

    for at in 0..5 {
        probe.set_failing(at % 2 == 0);
        let _ = registry.deliver("svc", &Message::new("x")).await;
    }
    // F, F S F S F: 4 of 6 failed.
    assert_eq!(circuit(&registry), CircuitState::Open);
    assert_eq!(Instant::now() - start, window, "no other time passed");
    let snapshot = registry.endpoint("svc").unwrap();
    assert_eq!((snapshot.deliveries, snapshot.failures), (5, 6));
}

/// A handler that panics counts as a failure of its own endpoint, even when the panic is
/// caught around the delivery; another endpoint whose call is dropped by that panic was
/// abandoned, not failed.
#[tokio::test(start_paused = true)]
async fn a_panicking_handler_counts_against_its_own_circuit_only() {
    let registry = registry(
        EndpointConfig::builder()
            .consecutive_failures(1)
            .circuit_cool_down(COOL_DOWN),
    );
    let boom = switchyard_core::handler_fn(|_message: Message| async move {
        panic!("handler bug");
    });
    let bystander = Probe::gated("bystander");
    registry
        .register(switchyard_bus::endpoint::Endpoint::new(
            "boom",
            "evt",
            std::sync::Arc::new(boom),
        ))
        .unwrap();
    registry
        .register(endpoint("bystander", "evt", &bystander))
        .unwrap();
    let state = |id: &str| registry.endpoint(id).unwrap().circuit;

    // The panic unwinds through `notify`, dropping the bystander's call mid-way.
    let notify = {
        let registry = registry.clone();
        tokio::spawn(async move { registry.notify("evt", &Message::new("x")).await })
    };
    assert!(within(notify).await.unwrap_err().is_panic());
    assert_eq!(state("bystander"), CircuitState::Closed, "it did not fail");
    assert_eq!(state("boom"), CircuitState::Open);

    // Caught around the delivery, the panic still counts against the endpoint.
    advance(COOL_DOWN).await;
    assert_eq!(state("boom"), CircuitState::HalfOpen);
    let message = Message::new("x");
    let caught = futures::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(
        registry.deliver_to("boom", &message),
    ));
    assert!(within(caught).await.is_err(), "the handler panicked");
    assert_eq!(state("boom"), CircuitState::Open, "a failed trial reopens");
    assert_eq!(registry.endpoint("boom").unwrap().failures, 2);
    assert_eq!(registry.endpoint("bystander").unwrap().in_flight, 0);
}
