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

/// Round-robin spreads over the endpoints that take deliveries: one passed over (here,
/// behind an open circuit) does not hand its turns to its neighbour.
#[tokio::test(start_paused = true)]
async fn round_robin_stays_even_when_a_member_of_the_tier_is_passed_over() {
    let registry = registry(EndpointConfig::builder().consecutive_failures(1));
    let (a, b, c) = (Probe::new("a"), Probe::new("b"), Probe::new("c"));
    for (id, probe) in [("a", &a), ("b", &b), ("c", &c)] {
        registry.register(endpoint(id, "jobs", probe)).unwrap();
    }
    b.set_failing(true);
    within(registry.deliver_to("b", &Message::new("x")))
        .await
        .unwrap_err();

    let mut answers = Vec::new();
    for _ in 0..12 {
        let outputs = within(registry.deliver("jobs", &Message::new("x"))).await;
        answers.push(answer(&outputs.unwrap()));
    }
    assert_eq!((a.calls(), b.calls(), c.calls()), (6, 1, 6), "{answers:?}");
}

/// Round-robin is fair to every endpoint even when the tiers of different topics overlap:
/// `a` serves both regions, `eu` and `us` one each. With deliveries alternating between
/// the regions, each endpoint gets its share; `eu` used to get none, because the turn was
/// kept by the tier's first endpoint, `a`, which both tiers share.
#[tokio::test(start_paused = true)]
async fn round_robin_is_fair_over_tiers_that_overlap() {
    let registry = registry(EndpointConfig::builder());
    let (a, eu, us) = (Probe::new("a"), Probe::new("eu"), Probe::new("us"));
    registry.register(endpoint("a", "orders.*", &a)).unwrap();
    registry.register(endpoint("eu", "orders.eu", &eu)).unwrap();
    registry.register(endpoint("us", "orders.us", &us)).unwrap();

    for _ in 0..10 {
        for topic in ["orders.eu", "orders.us"] {
            let outputs = within(registry.deliver(topic, &Message::new("x"))).await;
            outputs.unwrap();
        }
    }
    let calls = (a.calls(), eu.calls(), us.calls());
    assert_eq!(calls.0 + calls.1 + calls.2, 20);
    for (id, count) in [("a", calls.0), ("eu", calls.1), ("us", calls.2)] {
        assert!(
            (6..=8).contains(&count),
            "{id} got {count} of 20: {calls:?}"
        );
    }
}
