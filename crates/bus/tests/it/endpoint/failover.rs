//! Failover past unhealthy and open endpoints, and the typed errors returned at once when
//! nothing is left, without calling any handler.

use std::time::Duration;

use futures::FutureExt;
use switchyard_bus::endpoint::{
    CircuitState, EndpointConfig, EndpointError, EndpointRegistry, Refusal,
};
use switchyard_core::{Error, Message};

use super::support::{Probe, Switch, answer, endpoint, registry, wait_health_transitions};

const COOL_DOWN: Duration = Duration::from_secs(10);

fn config() -> switchyard_bus::endpoint::EndpointConfigBuilder {
    EndpointConfig::builder()
        .consecutive_failures(2)
        .circuit_cool_down(COOL_DOWN)
        .health_check_interval(Duration::from_secs(1))
        .health_check_timeout(Duration::from_millis(500))
}

async fn deliver(registry: &EndpointRegistry, topic: &str) -> Result<String, EndpointError> {
    registry
        .deliver(topic, &Message::new("x"))
        .await
        .map(|outputs| answer(&outputs))
}

/// Opens `id`'s circuit by making its handler fail twice through `deliver_to`.
async fn open_circuit(registry: &EndpointRegistry, id: &str, probe: &Probe) {
    probe.set_failing(true);
    for _ in 0..2 {
        let err = registry
            .deliver_to(id, &Message::new("x"))
            .await
            .unwrap_err();
        assert!(matches!(err, EndpointError::Handler { .. }), "{err}");
    }
    assert_eq!(registry.endpoint(id).unwrap().circuit, CircuitState::Open);
}

#[tokio::test(start_paused = true)]
async fn fails_over_within_the_tier_first_then_to_the_next_priority() {
    let registry = registry(config());
    let (a, b, low) = (Probe::new("a"), Probe::new("b"), Probe::new("low"));
    let a_health = Switch::down();
    registry
        .register(
            endpoint("a", "pay", &a)
                .priority(9)
                .health_check(a_health.clone()),
        )
        .unwrap();
    registry
        .register(endpoint("b", "pay", &b).priority(9))
        .unwrap();
    registry
        .register(endpoint("low", "pay", &low).priority(1))
        .unwrap();
    registry.start_health_monitor().unwrap();
    wait_health_transitions(&registry, 1).await;
    assert!(!registry.endpoint("a").unwrap().healthy);

    for _ in 0..4 {
        assert_eq!(deliver(&registry, "pay").await.unwrap(), "b");
    }
    assert_eq!((a.calls(), low.calls()), (0, 0));
    assert!(
        registry.endpoint("a").unwrap().refusals >= 2,
        "passed over on its turns"
    );

    // With `b`'s circuit open too, the next tier takes over.
    open_circuit(&registry, "b", &b).await;
    assert_eq!(deliver(&registry, "pay").await.unwrap(), "low");
    assert_eq!(a.calls(), 0);

    // When `a` recovers, the best tier serves again.
    a_health.set_up(true);
    wait_health_transitions(&registry, 2).await;
    assert_eq!(deliver(&registry, "pay").await.unwrap(), "a");
    registry.shutdown(Duration::from_secs(1)).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn fails_over_past_an_open_circuit() {
    let registry = registry(config());
    let (best, backup) = (Probe::new("best"), Probe::new("backup"));
    registry
        .register(endpoint("best", "pay", &best).priority(2))
        .unwrap();
    registry
        .register(endpoint("backup", "pay", &backup).priority(1))
        .unwrap();

    // A handler error is returned as it is, not retried on another endpoint.
    best.set_failing(true);
    for _ in 0..2 {
        let err = deliver(&registry, "pay").await.unwrap_err();
        assert!(matches!(&err, EndpointError::Handler { endpoint, .. } if &**endpoint == "best"));
        assert!(err.is_transient());
    }
    assert_eq!(backup.calls(), 0);
    assert_eq!(
        registry.endpoint("best").unwrap().circuit,
        CircuitState::Open
    );

    assert_eq!(deliver(&registry, "pay").await.unwrap(), "backup");
    assert_eq!(best.calls(), 2, "not called while open");
}

#[tokio::test(start_paused = true)]
async fn every_candidate_unavailable_fails_at_once_with_every_reason() {
    let registry = registry(config());
    let (sick, broken) = (Probe::new("sick"), Probe::new("broken"));
    registry
        .register(
            endpoint("sick", "pay", &sick)
                .priority(2)
                .health_check(Switch::down()),
        )
        .unwrap();
    registry
        .register(endpoint("broken", "pay", &broken).priority(1))
        .unwrap();
    registry.start_health_monitor().unwrap();
    wait_health_transitions(&registry, 1).await;
    open_circuit(&registry, "broken", &broken).await;
    let calls = (sick.calls(), broken.calls());

    // Completes on its first poll: nothing waits, nothing is called.
    let err = registry
        .deliver("pay", &Message::new("x"))
        .now_or_never()
        .expect("fails at once")
        .unwrap_err();
    let EndpointError::Unavailable { topic, refusals } = &err else {
        panic!("{err}");
    };
    assert_eq!(topic, "pay");
    let reasons: Vec<_> = refusals.iter().map(|r| (&*r.endpoint, r.reason)).collect();
    assert_eq!(
        reasons,
        [
            ("sick", Refusal::Unhealthy),
            (
                "broken",
                Refusal::CircuitOpen {
                    retry_after: COOL_DOWN
                }
            )
        ]
    );
    assert_eq!((sick.calls(), broken.calls()), calls);
    assert!(err.is_transient());
    let text = err.to_string();
    assert!(
        text.contains("`sick` (unhealthy)") && text.contains("`broken` (circuit open"),
        "{text}"
    );
    assert!(matches!(
        Error::from(err),
        Error::Handler {
            transient: true,
            ..
        }
    ));
    registry.shutdown(Duration::from_secs(1)).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn deliver_to_an_unhealthy_or_open_endpoint_is_refused_at_once() {
    let registry = registry(config());
    let (sick, broken) = (Probe::new("sick"), Probe::new("broken"));
    registry
        .register(endpoint("sick", "a", &sick).health_check(Switch::down()))
        .unwrap();
    registry.register(endpoint("broken", "b", &broken)).unwrap();
    registry.start_health_monitor().unwrap();
    wait_health_transitions(&registry, 1).await;
    open_circuit(&registry, "broken", &broken).await;

    let refused = |id: &'static str| {
        let err = registry
            .deliver_to(id, &Message::new("x"))
            .now_or_never()
            .expect("refused at once")
            .unwrap_err();
        match err {
            EndpointError::Refused { refusal } => refusal.reason,
            other => panic!("{other}"),
        }
    };
    assert_eq!(refused("sick"), Refusal::Unhealthy);
    assert_eq!(
        refused("broken"),
        Refusal::CircuitOpen {
            retry_after: COOL_DOWN
        }
    );
    assert_eq!((sick.calls(), broken.calls()), (0, 2));
    let snapshot = registry.endpoint("broken").unwrap();
    assert_eq!((snapshot.failures, snapshot.refusals), (2, 1));
    registry.shutdown(Duration::from_secs(1)).await.unwrap();
}
