//! Registering and deregistering, also while deliveries run; typed errors for duplicate,
//! unknown and invalid endpoints, and for topics no endpoint serves.

use std::sync::Arc;

use futures::FutureExt;
use switchyard_bus::endpoint::{EndpointConfig, EndpointError, RegistryError};
use switchyard_core::{Error, Message};
use switchyard_routing::pattern::PatternError;
use tokio::task::JoinSet;

use super::support::{DEADLINE, Probe, answer, endpoint, registry, within};

#[tokio::test]
async fn registration_errors_are_typed_and_leave_the_registry_unchanged() {
    let registry = registry(EndpointConfig::builder().max_endpoints(2));
    let probe = Probe::new("p");
    registry.register(endpoint("a", "a.*", &probe)).unwrap();

    let err = registry
        .register(endpoint("a", "other", &probe))
        .unwrap_err();
    assert!(
        matches!(&err, RegistryError::DuplicateId { id } if id == "a"),
        "{err}"
    );
    let err = registry
        .register(endpoint("b", "a..b", &probe))
        .unwrap_err();
    assert!(
        matches!(&err, RegistryError::InvalidRoute { route, source: PatternError::EmptySegment { .. } } if route == "a..b"),
        "{err}"
    );
    for bad in ["", "line\nbreak", &"x".repeat(129)] {
        let err = registry.register(endpoint(bad, "x", &probe)).unwrap_err();
        assert!(matches!(err, RegistryError::InvalidId { .. }), "{err}");
    }
    registry.register(endpoint("b", "b", &probe)).unwrap();
    let err = registry.register(endpoint("c", "c", &probe)).unwrap_err();
    assert!(matches!(err, RegistryError::Full { max: 2 }), "{err}");
    assert_eq!(registry.len(), 2);
    assert_eq!(registry.endpoint("a").unwrap().route, "a.*");

    let err = registry.deregister("nope").unwrap_err();
    assert!(
        matches!(&err, RegistryError::UnknownId { id } if id == "nope"),
        "{err}"
    );
    let removed = registry.deregister("a").unwrap();
    assert_eq!(&*removed.id, "a");
    assert!(registry.endpoint("a").is_none());
    // The id is free again.
    registry.register(endpoint("a", "a.*", &probe)).unwrap();
}

#[tokio::test]
async fn a_topic_no_route_matches_is_no_endpoint_at_once() {
    let registry = registry(EndpointConfig::builder());
    let probe = Probe::new("p");
    registry
        .register(endpoint("orders", "orders.*", &probe))
        .unwrap();

    let err = registry
        .deliver("payments.created", &Message::new("x"))
        .now_or_never()
        .expect("at once")
        .unwrap_err();
    assert!(matches!(&err, EndpointError::NoEndpoint { topic } if topic == "payments.created"));
    assert!(!err.is_transient());
    assert!(matches!(Error::from(err), Error::UnknownDestination { .. }));

    let err = registry
        .deliver_to("nope", &Message::new("x"))
        .await
        .unwrap_err();
    assert!(matches!(err, EndpointError::UnknownEndpoint { .. }));
    assert!(
        registry
            .notify("payments.created", &Message::new("x"))
            .await
            .is_empty()
    );
    assert_eq!(probe.calls(), 0);

    // A huge topic is cut to a bounded length in the error.
    let topic = "t".repeat(100_000);
    let err = registry
        .deliver(&topic, &Message::new("x"))
        .await
        .unwrap_err();
    assert!(err.to_string().len() < 1_000);
}

#[tokio::test(start_paused = true)]
async fn deregistering_lets_routed_deliveries_finish_and_routes_new_ones_elsewhere() {
    let registry = registry(EndpointConfig::builder());
    let (old, new) = (Probe::gated("old"), Probe::new("new"));
    registry.register(endpoint("old", "svc", &old)).unwrap();
    let running = {
        let registry = registry.clone();
        tokio::spawn(async move { registry.deliver("svc", &Message::new("x")).await })
    };
    old.wait_calls(1).await;

    registry.register(endpoint("new", "svc", &new)).unwrap();
    let removed = registry.deregister("old").unwrap();
    assert_eq!(removed.in_flight, 1);
    for _ in 0..3 {
        let outputs = within(registry.deliver("svc", &Message::new("x"))).await;
        assert_eq!(answer(&outputs.unwrap()), "new");
    }

    old.release(1);
    assert_eq!(answer(&within(running).await.unwrap().unwrap()), "old");
    assert_eq!(old.calls(), 1);
    assert_eq!(new.calls(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_never_fail_while_other_endpoints_come_and_go() {
    let registry = registry(EndpointConfig::builder());
    let base = Probe::new("base");
    registry
        .register(endpoint("base", "jobs.*", &base))
        .unwrap();
    let churn = Probe::new("churn");

    let mut deliveries = JoinSet::new();
    for worker in 0..4 {
        let registry = registry.clone();
        deliveries.spawn(async move {
            for _ in 0..250 {
                let topic = format!("jobs.{worker}");
                registry.deliver(&topic, &Message::new("x")).await?;
            }
            Ok::<_, EndpointError>(())
        });
    }
    let churner = {
        let registry = registry.clone();
        let churn = Arc::clone(&churn);
        tokio::spawn(async move {
            for round in 0..200 {
                let id = format!("churn-{}", round % 3);
                let _ = registry.deregister(&id);
                registry.register(endpoint(&id, "jobs.**", &churn)).unwrap();
            }
        })
    };
    let finished = tokio::time::timeout(DEADLINE, async {
        while let Some(result) = deliveries.join_next().await {
            result.unwrap().unwrap();
        }
        churner.await.unwrap();
    })
    .await;
    assert!(finished.is_ok(), "deliveries and registrations finished");
    assert_eq!(base.calls() + churn.calls(), 1000);
    assert_eq!(registry.len(), 4);
}
