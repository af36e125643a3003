//! Registration errors, the lifecycle's transitions through the public API, and failed
//! starts.

use std::{sync::atomic::Ordering, time::Duration};

use switchyard_core::{Error, Subscriber};
use switchyard_engine::{ComponentKind, Engine, EngineError, EngineState, RouterOptions};
use switchyard_routing::router::{Router, TypePrefix};

use super::support::{
    ChannelSubscriber, RecordingPublisher, start_with_a_closed_subscriber, within,
};

fn empty_router() -> Router {
    Router::builder().build()
}

/// Runs one registration on a fresh engine that already holds one of each component, and
/// checks the error's text.
fn check(register: impl FnOnce(&Engine) -> Result<(), EngineError>, expected: &str) {
    let engine = Engine::new();
    let (subscriber, _feeder) = ChannelSubscriber::new(1);
    engine
        .add_subscriber("orders", subscriber, "orders")
        .unwrap();
    engine.add_router("orders", empty_router()).unwrap();
    engine
        .add_publisher("mem://", RecordingPublisher::new())
        .unwrap();
    let err = register(&engine).expect_err(expected);
    assert_eq!(err.to_string(), expected);
}

#[test]
fn registration_errors_are_typed() {
    let sub = || -> std::sync::Arc<dyn Subscriber> { ChannelSubscriber::new(1).0 };
    check(
        |e| e.add_subscriber("orders", sub(), "t"),
        r#"a subscriber named "orders" is already registered"#,
    );
    check(
        |e| e.add_router("orders", empty_router()),
        r#"a router named "orders" is already registered"#,
    );
    check(
        |e| e.add_publisher("mem://", RecordingPublisher::new()),
        r#"a publisher named "mem://" is already registered"#,
    );
    check(
        |e| e.add_subscriber("", sub(), "t"),
        "subscriber name must not be empty",
    );
    check(
        |e| e.add_router("", empty_router()),
        "router source must not be empty",
    );
    check(
        |e| e.add_publisher("", RecordingPublisher::new()),
        "publisher prefix must not be empty",
    );
    check(
        |e| e.add_publisher("loop://x", RecordingPublisher::new()),
        r#"publisher prefix "loop://x" is inside the reserved loop scheme "loop://""#,
    );
    check(
        |e| e.set_dead_letter("loop://dead"),
        r#"dead-letter destination "loop://dead" is inside the reserved loop scheme "loop://""#,
    );
    check(
        |e| e.set_dead_letter(""),
        "dead-letter destination must not be empty",
    );
    check(
        |e| e.add_router_with("billing", empty_router(), RouterOptions::new().workers(0)),
        "invalid engine configuration: `workers` must be from 1 to 1024",
    );
    check(
        |e| {
            e.add_publisher("redis://app:hunter2@cache/", RecordingPublisher::new())
                .and_then(|()| {
                    e.add_publisher("redis://app:hunter2@cache/", RecordingPublisher::new())
                })
        },
        r#"a publisher named "redis://[REDACTED]@cache/" is already registered"#,
    );
    // The same name for different kinds is fine.
    let engine = Engine::new();
    engine.add_subscriber("orders", sub(), "t").unwrap();
    engine.add_router("orders", empty_router()).unwrap();
}

#[tokio::test]
async fn the_lifecycle_moves_forward_and_refuses_the_rest() {
    let engine = Engine::new();
    assert_eq!(engine.state(), EngineState::Created);
    let err = engine.stop(Duration::from_secs(1)).await.unwrap_err();
    assert!(matches!(
        err,
        EngineError::InvalidTransition {
            from: EngineState::Created,
            to: EngineState::Stopping
        }
    ));

    let (subscriber, _feeder) = ChannelSubscriber::new(1);
    engine
        .add_subscriber("in", subscriber.clone(), "t")
        .unwrap();
    within("start", engine.start()).await.unwrap();
    assert_eq!(engine.state(), EngineState::Running);
    let err = within("start", engine.start()).await.unwrap_err();
    assert!(matches!(
        err,
        EngineError::InvalidTransition {
            from: EngineState::Running,
            to: EngineState::Starting
        }
    ));

    let first = within("stop", engine.stop(Duration::from_secs(1)))
        .await
        .unwrap();
    assert_eq!(engine.state(), EngineState::Stopped);
    assert!(first.quiescent);
    let second = within("stop", engine.stop(Duration::from_secs(1)))
        .await
        .unwrap();
    assert_eq!(first, second, "stopping twice returns the one report");
    assert_eq!(subscriber.closes.load(Ordering::SeqCst), 1, "closed once");
    let err = within("start", engine.start()).await.unwrap_err();
    assert!(matches!(
        err,
        EngineError::InvalidTransition {
            from: EngineState::Stopped,
            ..
        }
    ));
}

#[tokio::test]
async fn registering_after_start_is_refused() {
    let engine = Engine::new();
    within("start", engine.start()).await.unwrap();
    let (subscriber, _feeder) = ChannelSubscriber::new(1);
    let results = [
        engine.add_subscriber("late", subscriber, "t"),
        engine.add_router("late", empty_router()),
        engine.add_publisher("late://", RecordingPublisher::new()),
        engine.set_source_matcher(TypePrefix),
        engine.set_dead_letter("late://dead"),
    ];
    for result in results {
        assert!(
            matches!(
                result,
                Err(EngineError::AlreadyStarted {
                    state: EngineState::Running,
                    ..
                })
            ),
            "{result:?}"
        );
    }
    within("stop", engine.stop(Duration::from_secs(1)))
        .await
        .unwrap();
}

#[tokio::test]
async fn concurrent_stops_share_one_shutdown() {
    let engine = Engine::new();
    within("start", engine.start()).await.unwrap();
    let other = engine.clone();
    let (a, b) = tokio::join!(
        engine.stop(Duration::from_secs(1)),
        other.stop(Duration::from_secs(1))
    );
    assert_eq!(a.unwrap(), b.unwrap());
    assert_eq!(engine.state(), EngineState::Stopped);
}

#[tokio::test]
async fn a_dead_letter_without_a_publisher_fails_the_start() {
    let engine = Engine::new();
    engine
        .add_publisher("mem://", RecordingPublisher::new())
        .unwrap();
    engine.set_dead_letter("kafka://dead-letter").unwrap();
    let err = within("start", engine.start()).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"dead-letter destination "kafka://dead-letter" matches no publisher prefix"#
    );
    assert_eq!(engine.state(), EngineState::Stopped);
    let report = within("stop", engine.stop(Duration::from_secs(1)))
        .await
        .unwrap();
    assert_eq!(report.totals.received, 0);
}

#[tokio::test]
async fn a_failed_subscribe_closes_the_others_and_stops() {
    let engine = Engine::new();
    let (err, first, _feeder) = start_with_a_closed_subscriber(&engine).await;
    assert!(
        matches!(&err, EngineError::Subscribe { name, source: Error::Closed { .. } } if name == "closed"),
        "{err}"
    );
    assert_eq!(engine.state(), EngineState::Stopped);
    assert_eq!(first.closes.load(Ordering::SeqCst), 1);
    let health = engine.health();
    let component = health
        .component(ComponentKind::Subscriber, "closed")
        .unwrap();
    assert_eq!(component.errors, 1);
    assert_eq!(
        component.last_error.as_deref(),
        Some("ticker subscriber is closed")
    );
}

#[tokio::test]
async fn a_publisher_under_two_prefixes_is_closed_once() {
    let engine = Engine::new();
    let publisher = RecordingPublisher::new();
    engine.add_publisher("mem://a", publisher.clone()).unwrap();
    engine.add_publisher("mem://b", publisher.clone()).unwrap();
    within("start", engine.start()).await.unwrap();
    let report = within("stop", engine.stop(Duration::from_secs(1)))
        .await
        .unwrap();
    assert_eq!(report.close_failures, 0);
    assert_eq!(publisher.closes.load(Ordering::SeqCst), 1);
}
