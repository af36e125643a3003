//! Notify to every endpoint at once, the `max_concurrent_deliveries` cap, and the
//! slow-routing counter.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use switchyard_bus::endpoint::{Endpoint, EndpointConfig, EndpointError, NotifyResult, Refusal};
use switchyard_core::{Message, handler_fn};
use tokio::{sync::Barrier, task::JoinSet, time::Instant};

use super::support::{
    DEADLINE, Probe, Switch, endpoint, registry, wait_health_transitions, within,
};

#[tokio::test(start_paused = true)]
async fn notify_calls_every_available_endpoint_concurrently() {
    let registry = registry(EndpointConfig::builder());
    // Each of these handlers returns only once all three are running at the same time.
    let barrier = Arc::new(Barrier::new(3));
    for id in ["n1", "n2", "n3"] {
        let barrier = barrier.clone();
        let handler = handler_fn(move |_message: Message| {
            let barrier = barrier.clone();
            async move {
                barrier.wait().await;
                Ok(Vec::new())
            }
        });
        registry
            .register(Endpoint::new(id, "alerts.*", Arc::new(handler)).priority(1))
            .unwrap();
    }
    let (down, flaky) = (Probe::new("down"), Probe::new("flaky"));
    flaky.set_failing(true);
    registry
        .register(
            endpoint("down", "alerts.**", &down)
                .priority(5)
                .health_check(Switch::down()),
        )
        .unwrap();
    registry
        .register(endpoint("flaky", "alerts.fire", &flaky))
        .unwrap();
    registry.start_health_monitor().unwrap();
    wait_health_transitions(&registry, 1).await;

    let start = Instant::now();
    let report = tokio::time::timeout(DEADLINE, registry.notify("alerts.fire", &Message::new("x")))
        .await
        .expect("all three ran at once");
    assert_eq!(Instant::now(), start, "nothing waited for time");
    assert_eq!(
        (report.delivered(), report.failed(), report.skipped()),
        (3, 1, 1)
    );
    let order: Vec<_> = report.outcomes().iter().map(|o| &*o.endpoint).collect();
    assert_eq!(order, ["down", "n1", "n2", "n3", "flaky"], "best first");
    assert!(matches!(
        report.get("down"),
        Some(NotifyResult::Skipped(Refusal::Unhealthy))
    ));
    assert!(matches!(
        report.get("flaky"),
        Some(NotifyResult::Failed(EndpointError::Handler { .. }))
    ));
    assert_eq!(down.calls(), 0);
    assert_eq!(registry.endpoint("n2").unwrap().deliveries, 1);
    registry.shutdown(Duration::from_secs(1)).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn the_delivery_cap_makes_callers_wait_then_fail_after_the_acquire_timeout() {
    let acquire_timeout = Duration::from_secs(3);
    let registry = registry(
        EndpointConfig::builder()
            .max_concurrent_deliveries(2)
            .acquire_timeout(acquire_timeout),
    );
    let probe = Probe::gated("svc");
    registry.register(endpoint("svc", "svc", &probe)).unwrap();

    let mut running = JoinSet::new();
    for _ in 0..2 {
        let registry = registry.clone();
        running.spawn(async move { registry.deliver("svc", &Message::new("x")).await });
    }
    probe.wait_calls(2).await;
    assert_eq!(registry.snapshot().running_deliveries, 2);

    let start = Instant::now();
    let err = tokio::time::timeout(DEADLINE, registry.deliver("svc", &Message::new("x")))
        .await
        .expect("bounded by the acquire timeout")
        .unwrap_err();
    assert!(
        matches!(err, EndpointError::Saturated { limit: 2, waited } if waited == acquire_timeout)
    );
    assert_eq!(Instant::now() - start, acquire_timeout);
    assert_eq!(probe.calls(), 2, "the third never reached the handler");
    assert_eq!(registry.endpoint("svc").unwrap().in_flight, 2);

    // A waiting delivery gets the slot that a finished one frees.
    let waiting = {
        let registry = registry.clone();
        tokio::spawn(async move { registry.deliver("svc", &Message::new("x")).await })
    };
    probe.release(1);
    within(running.join_next()).await.unwrap().unwrap().unwrap();
    probe.wait_calls(3).await;
    probe.release(2);
    within(waiting).await.unwrap().unwrap();
    within(running.join_next()).await.unwrap().unwrap().unwrap();
    assert_eq!(registry.snapshot().running_deliveries, 0);
}

#[tokio::test(start_paused = true)]
async fn never_more_than_the_cap_run_at_once() {
    let registry = registry(
        EndpointConfig::builder()
            .max_concurrent_deliveries(3)
            .acquire_timeout(DEADLINE),
    );
    let (running, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    for id in ["a", "b"] {
        let (running, most) = (running.clone(), most.clone());
        let handler = handler_fn(move |_message: Message| {
            let (running, most) = (running.clone(), most.clone());
            async move {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                // Work that takes time, on the paused clock.
                tokio::time::sleep(Duration::from_millis(10)).await;
                running.fetch_sub(1, Ordering::SeqCst);
                Ok(Vec::new())
            }
        });
        registry
            .register(Endpoint::new(id, "svc", Arc::new(handler)))
            .unwrap();
    }
    let mut deliveries = JoinSet::new();
    for _ in 0..20 {
        let registry = registry.clone();
        deliveries.spawn(async move { registry.deliver("svc", &Message::new("x")).await });
    }
    let message = Message::new("x");
    let report = tokio::time::timeout(DEADLINE, registry.notify("svc", &message))
        .await
        .unwrap();
    assert_eq!(report.delivered(), 2);
    while let Some(result) = within(deliveries.join_next()).await {
        result.unwrap().unwrap();
    }
    assert_eq!(most.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn slow_routing_decisions_are_counted() {
    let probe = Probe::new("svc");
    // Any decision takes at least a nanosecond.
    let slow = registry(EndpointConfig::builder().slow_routing_threshold(Duration::from_nanos(1)));
    slow.register(endpoint("svc", "svc.*", &probe)).unwrap();
    slow.deliver("svc.a", &Message::new("x")).await.unwrap();
    slow.deliver("none", &Message::new("x")).await.unwrap_err();
    slow.notify("svc.b", &Message::new("x")).await;
    assert_eq!(slow.snapshot().slow_routing_decisions, 3);
    // By id there is no routing decision to time.
    slow.deliver_to("svc", &Message::new("x")).await.unwrap();
    assert_eq!(slow.snapshot().slow_routing_decisions, 3);

    // No decision takes an hour.
    let fast =
        registry(EndpointConfig::builder().slow_routing_threshold(Duration::from_secs(3600)));
    fast.register(endpoint("svc", "svc.*", &probe)).unwrap();
    fast.deliver("svc.a", &Message::new("x")).await.unwrap();
    assert_eq!(fast.snapshot().slow_routing_decisions, 0);
}
