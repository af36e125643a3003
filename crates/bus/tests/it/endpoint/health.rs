//! The health monitor: checks on an interval, marks endpoints down on a failing or hung
//! check and up again on recovery, and stops on shutdown.

use std::time::Duration;

use switchyard_bus::endpoint::{
    EndpointConfig, EndpointError, EndpointRegistry, MonitorError, RegistryError,
};
use switchyard_core::Message;
use tokio::time::{Instant, advance};

use super::support::{Probe, Switch, endpoint, registry, wait_health_transitions};

const INTERVAL: Duration = Duration::from_secs(5);
const TIMEOUT: Duration = Duration::from_secs(2);

fn monitored() -> EndpointRegistry {
    registry(
        EndpointConfig::builder()
            .health_check_interval(INTERVAL)
            .health_check_timeout(TIMEOUT),
    )
}

#[tokio::test(start_paused = true)]
async fn checks_run_at_start_and_then_every_interval() {
    let registry = monitored();
    let health = Switch::up();
    let probe = Probe::new("svc");
    registry
        .register(endpoint("svc", "svc", &probe).health_check(health.clone()))
        .unwrap();
    // Endpoints without a check are never checked, and stay healthy.
    registry
        .register(endpoint("plain", "plain", &probe))
        .unwrap();

    let start = Instant::now();
    registry.start_health_monitor().unwrap();
    assert!(registry.snapshot().health_monitor_running);
    health.wait_checks(1).await;
    assert_eq!(Instant::now(), start, "the first round runs at once");
    health.wait_checks(3).await;
    assert_eq!(Instant::now() - start, 2 * INTERVAL);
    assert!(registry.endpoint("plain").unwrap().healthy);
    assert_eq!(
        *registry.health_changes().borrow(),
        0,
        "no transition while up"
    );
    registry.shutdown(Duration::from_secs(1)).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_failing_check_marks_the_endpoint_down_and_a_passing_one_up_again() {
    let registry = monitored();
    let health = Switch::up();
    let probe = Probe::new("svc");
    registry
        .register(endpoint("svc", "svc", &probe).health_check(health.clone()))
        .unwrap();
    registry.start_health_monitor().unwrap();
    health.wait_checks(1).await;
    assert!(registry.endpoint("svc").unwrap().healthy);

    health.set_up(false);
    let start = Instant::now();
    wait_health_transitions(&registry, 1).await;
    assert_eq!(
        Instant::now() - start,
        INTERVAL,
        "marked down at the next round"
    );
    assert!(!registry.endpoint("svc").unwrap().healthy);
    let err = registry
        .deliver("svc", &Message::new("x"))
        .await
        .unwrap_err();
    assert!(matches!(err, EndpointError::Unavailable { .. }), "{err}");

    health.set_up(true);
    wait_health_transitions(&registry, 2).await;
    assert!(registry.endpoint("svc").unwrap().healthy);
    registry.deliver("svc", &Message::new("x")).await.unwrap();
    assert_eq!(probe.calls(), 1);
    registry.shutdown(Duration::from_secs(1)).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_check_that_hangs_times_out_and_marks_the_endpoint_down() {
    let registry = monitored();
    let health = Switch::up();
    health.hang();
    registry
        .register(endpoint("svc", "svc", &Probe::new("svc")).health_check(health.clone()))
        .unwrap();
    let start = Instant::now();
    registry.start_health_monitor().unwrap();
    wait_health_transitions(&registry, 1).await;
    assert_eq!(Instant::now() - start, TIMEOUT);
    assert!(!registry.endpoint("svc").unwrap().healthy);
    registry.shutdown(Duration::from_secs(1)).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn shutdown_stops_the_monitor_and_closes_the_registry() {
    let registry = monitored();
    let health = Switch::up();
    let probe = Probe::new("svc");
    registry
        .register(endpoint("svc", "svc", &probe).health_check(health.clone()))
        .unwrap();
    registry.start_health_monitor().unwrap();
    assert_eq!(
        registry.start_health_monitor(),
        Err(MonitorError::AlreadyRunning)
    );
    health.wait_checks(2).await;

    registry.shutdown(Duration::from_secs(1)).await.unwrap();
    assert!(!registry.snapshot().health_monitor_running);
    let checks = health.checks();
    advance(INTERVAL * 10).await;
    tokio::task::yield_now().await;
    assert_eq!(health.checks(), checks, "no round after shutdown");

    assert_eq!(registry.start_health_monitor(), Err(MonitorError::Closed));
    let err = registry
        .deliver("svc", &Message::new("x"))
        .await
        .unwrap_err();
    assert!(matches!(err, EndpointError::Closed));
    let err = registry
        .deliver_to("svc", &Message::new("x"))
        .await
        .unwrap_err();
    assert!(matches!(err, EndpointError::Closed));
    let report = registry.notify("svc", &Message::new("x")).await;
    assert_eq!((report.failed(), report.delivered()), (1, 0));
    assert_eq!(probe.calls(), 0);
    let refused = registry.register(endpoint("other", "other", &probe));
    assert!(matches!(refused, Err(RegistryError::Closed)));
    registry.deregister("svc").unwrap();
    // Again: harmless.
    registry.shutdown(Duration::from_secs(1)).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn shutdown_interrupts_a_round_in_progress() {
    let registry = monitored();
    let health = Switch::up();
    health.hang();
    registry
        .register(endpoint("svc", "svc", &Probe::new("svc")).health_check(health.clone()))
        .unwrap();
    registry.start_health_monitor().unwrap();
    health.wait_checks(1).await;
    let start = Instant::now();
    registry.shutdown(Duration::from_millis(10)).await.unwrap();
    assert_eq!(Instant::now(), start, "did not wait for the hung check");
}

#[test]
fn the_monitor_needs_a_runtime() {
    let registry = EndpointRegistry::new(EndpointConfig::default());
    assert_eq!(
        registry.start_health_monitor(),
        Err(MonitorError::NoRuntime)
    );
}

/// A health check that panics marks its endpoint down like a failing one, and the monitor
/// goes on checking every endpoint.
#[tokio::test(start_paused = true)]
async fn a_panicking_check_marks_its_endpoint_down_and_the_monitor_goes_on() {
    let registry = monitored();
    let panicking = switchyard_bus::endpoint::health_check_fn(|| async {
        panic!("health check bug");
    });
    let health = Switch::up();
    registry
        .register(
            endpoint("buggy", "buggy", &Probe::new("buggy"))
                .health_check(std::sync::Arc::new(panicking)),
        )
        .unwrap();
    registry
        .register(endpoint("svc", "svc", &Probe::new("svc")).health_check(health.clone()))
        .unwrap();
    registry.start_health_monitor().unwrap();
    wait_health_transitions(&registry, 1).await;
    assert!(!registry.endpoint("buggy").unwrap().healthy);

    health.set_up(false);
    wait_health_transitions(&registry, 2).await;
    assert!(!registry.endpoint("svc").unwrap().healthy);
    registry.shutdown(Duration::from_secs(1)).await.unwrap();
}
