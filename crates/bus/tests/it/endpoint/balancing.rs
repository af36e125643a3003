//! Spreading deliveries within the best priority tier: round-robin and least in-flight.

use switchyard_bus::endpoint::{EndpointConfig, LoadBalancing};
use switchyard_core::Message;

use super::support::{Probe, answer, endpoint, registry, within};

#[tokio::test(start_paused = true)]
async fn round_robin_spreads_evenly_over_the_best_tier() {
    let registry = registry(EndpointConfig::builder());
    let (a, b, c, low) = (
        Probe::new("a"),
        Probe::new("b"),
        Probe::new("c"),
        Probe::new("low"),
    );
    registry
        .register(endpoint("a", "orders.*", &a).priority(5))
        .unwrap();
    registry
        .register(endpoint("low", "orders.**", &low).priority(1))
        .unwrap();
    registry
        .register(endpoint("b", "orders.created", &b).priority(5))
        .unwrap();
    registry
        .register(endpoint("c", "re:^orders\\.created$", &c).priority(5))
        .unwrap();

    let mut answers = Vec::new();
    for _ in 0..30 {
        answers.push(answer(
            &registry
                .deliver("orders.created", &Message::new("x"))
                .await
                .unwrap(),
        ));
    }
    assert_eq!(
        answers[..6],
        ["a", "b", "c", "a", "b", "c"],
        "in registration order"
    );
    assert_eq!(
        (a.calls(), b.calls(), c.calls(), low.calls()),
        (10, 10, 10, 0)
    );
    let snapshot = registry.snapshot();
    assert_eq!(snapshot.endpoint("a").unwrap().deliveries, 10);
    assert_eq!(snapshot.endpoint("low").unwrap().deliveries, 0);

    // Only `a` and `low` match this topic: `a`'s tier is just `a`.
    let answer = answer(
        &registry
            .deliver("orders.updated", &Message::new("x"))
            .await
            .unwrap(),
    );
    assert_eq!(answer, "a");
}

#[tokio::test(start_paused = true)]
async fn least_in_flight_prefers_the_endpoint_with_the_fewest_running() {
    let registry = registry(EndpointConfig::builder().load_balancing(LoadBalancing::LeastInFlight));
    let (a, b, c) = (Probe::gated("a"), Probe::gated("b"), Probe::new("c"));
    for (id, probe) in [("a", &a), ("b", &b), ("c", &c)] {
        registry.register(endpoint(id, "jobs", probe)).unwrap();
    }

    // The first two deliveries block in `a` and `b`.
    let mut blocked = Vec::new();
    for _ in 0..2 {
        let registry = registry.clone();
        blocked.push(tokio::spawn(async move {
            registry.deliver("jobs", &Message::new("x")).await
        }));
    }
    a.wait_calls(1).await;
    b.wait_calls(1).await;
    assert_eq!(registry.endpoint("a").unwrap().in_flight, 1);

    // Round-robin would now pick `a` or `b` and hang; least in-flight picks `c` every time.
    for _ in 0..5 {
        let outputs = within(registry.deliver("jobs", &Message::new("x"))).await;
        assert_eq!(answer(&outputs.unwrap()), "c");
    }
    assert_eq!((a.calls(), b.calls(), c.calls()), (1, 1, 5));

    a.release(1);
    b.release(1);
    let mut answers = Vec::new();
    for task in blocked {
        answers.push(answer(&within(task).await.unwrap().unwrap()));
    }
    answers.sort();
    assert_eq!(answers, ["a", "b"]);
    assert_eq!(
        registry
            .snapshot()
            .endpoints
            .iter()
            .map(|e| e.in_flight)
            .sum::<usize>(),
        0
    );
}
