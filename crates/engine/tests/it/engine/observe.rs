//! Observers and health: every hook fires with what happened, and health reports state,
//! counts, queues and redacted errors.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use switchyard_core::{Error, Message, handler_fn};
use switchyard_engine::{
    ComponentKind, Engine, EngineState, ObserverFns, QueueKind, RouterOptions,
};
use switchyard_routing::router::Router;

use super::support::{
    Behaviour, ChannelSubscriber, Outcome, RecordingPublisher, absorbing_router, to, typed, within,
};

/// Everything the hooks saw, as short strings.
type Seen = Arc<Mutex<Vec<String>>>;

fn recording_observer(seen: &Seen) -> ObserverFns {
    let log = |seen: &Seen| {
        let seen = seen.clone();
        move |event: String| seen.lock().unwrap().push(event)
    };
    let (a, b, c, d, e) = (log(seen), log(seen), log(seen), log(seen), log(seen));
    ObserverFns::new()
        .subscriber_error(move |name, error| a(format!("subscriber {name}: {error}")))
        .router_error(move |source, _message, error| b(format!("router {source}: {error}")))
        .publisher_error(move |publisher, topic, _error| {
            c(format!("publisher {publisher} {topic}"));
        })
        .loop_overflow(move |message| {
            d(format!(
                "overflow {}",
                message.attributes().message_type().unwrap_or_default()
            ));
        })
        .dead_letter(move |_message, reason| e(format!("dead letter {reason}")))
}

fn router() -> Router {
    Router::builder()
        .handle(
            "orders.flaky",
            handler_fn(|_m: Message| async {
                Err::<Vec<Message>, _>(Error::transient_handler("busy"))
            }),
        )
        .unwrap()
        .handle(
            "orders.audit",
            handler_fn(|_m: Message| async { Ok(vec![to("audit", "mem://audit")]) }),
        )
        .unwrap()
        .handle(
            "orders.twice",
            handler_fn(|_m: Message| async {
                Ok(vec![
                    to("orders.audit", "loop://orders"),
                    to("orders.audit", "loop://orders"),
                ])
            }),
        )
        .unwrap()
        .build()
}

#[tokio::test]
async fn every_hook_fires_with_what_happened() {
    let seen = Seen::default();
    // A loop of one, so that the second of two loop outputs overflows.
    let engine = Engine::builder()
        .observer(recording_observer(&seen))
        .loop_buffer(1)
        .build()
        .unwrap();
    let (subscriber, feeder) = ChannelSubscriber::new(8);
    let publisher = RecordingPublisher::with(Behaviour {
        reject: vec!["audit".to_owned()],
        ..Behaviour::default()
    });
    engine.add_subscriber("in", subscriber, "orders").unwrap();
    engine
        .add_router_with("orders", router(), RouterOptions::new().workers(1))
        .unwrap();
    engine.add_publisher("mem://", publisher).unwrap();
    engine.set_dead_letter("mem://dead-letter").unwrap();
    within("start", engine.start()).await.unwrap();

    feeder
        .send_error(Error::Closed {
            component: "broken frame",
        })
        .await;
    let flaky = feeder.send(typed("orders.flaky")).await;
    let audit = feeder.send(typed("orders.audit")).await;
    let nowhere = feeder.send(typed("billing.created")).await;
    let twice = feeder.send(typed("orders.twice")).await;
    for id in [&flaky, &audit, &twice] {
        assert!(
            matches!(feeder.log.outcome_of(id).await, Outcome::Nacked(_)),
            "{id}"
        );
    }
    assert_eq!(feeder.log.outcome_of(&nowhere).await, Outcome::Acked);

    let seen = seen.lock().unwrap().clone();
    let expect = [
        "subscriber in: broken frame is closed",
        "router orders: handler for `orders.flaky` failed",
        "publisher mem:// audit",
        "dead letter no-router",
        "overflow orders.audit",
        "dead letter loop-overflow",
    ];
    for event in expect {
        assert!(seen.iter().any(|s| s == event), "{event:?} not in {seen:?}");
    }

    let health = engine.health();
    assert_eq!(health.counts.loop_overflows, 1);
    let sub = health.component(ComponentKind::Subscriber, "in").unwrap();
    assert_eq!(
        (sub.errors, sub.last_error.as_deref()),
        (1, Some("broken frame is closed"))
    );
    let publisher = health
        .component(ComponentKind::Publisher, "mem://")
        .unwrap();
    assert!(publisher.errors >= 1);
    let last = publisher.last_error.as_deref().unwrap();
    assert!(
        last.contains("rejected") && !last.contains("hunter2"),
        "redacted: {last}"
    );
    within("stop", engine.stop(Duration::from_secs(5)))
        .await
        .unwrap();
}

#[tokio::test]
async fn health_reports_state_counts_queues_and_components() {
    let engine = Engine::builder()
        .worker_queue(8)
        .loop_buffer(16)
        .build()
        .unwrap();
    let (subscriber, feeder) = ChannelSubscriber::new(8);
    engine.add_subscriber("in", subscriber, "orders").unwrap();
    engine
        .add_router_with("orders", router(), RouterOptions::new().workers(2))
        .unwrap();
    engine
        .add_publisher("mem://", RecordingPublisher::new())
        .unwrap();
    engine.set_dead_letter("mem://dead-letter").unwrap();

    let created = engine.health();
    assert_eq!(created.state, EngineState::Created);
    assert_eq!(
        (created.subscribers, created.routers, created.publishers),
        (1, 1, 1)
    );
    assert!(created.queues.is_empty());
    assert_eq!(created.components.len(), 3);

    within("start", engine.start()).await.unwrap();
    let audit = feeder.send(typed("orders.audit")).await;
    let flaky = feeder.send(typed("orders.flaky")).await;
    feeder.log.settled(2).await;
    assert_eq!(feeder.log.outcome(&audit), Some(Outcome::Acked));

    let running = engine.health();
    assert_eq!(running.state, EngineState::Running);
    assert_eq!(running.degraded, None);
    assert_eq!(running.in_flight, 0);
    assert_eq!(
        (
            running.counts.received,
            running.counts.acked,
            running.counts.nacked
        ),
        (2, 1, 1)
    );
    let mut queues: Vec<(String, QueueKind, usize)> = running
        .queues
        .iter()
        .map(|q| (q.name.clone(), q.kind, q.capacity))
        .collect();
    queues.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        queues,
        [
            ("loop".to_owned(), QueueKind::Loop, 16),
            ("orders/0".to_owned(), QueueKind::Worker, 8),
            ("orders/1".to_owned(), QueueKind::Worker, 8),
        ]
    );
    assert!(running.queues.iter().all(|q| q.depth == 0));
    let router = running.component(ComponentKind::Router, "orders").unwrap();
    assert_eq!(router.errors, 1);
    assert!(router.last_error.as_deref().unwrap().contains("busy"));
    assert!(feeder.log.outcome(&flaky).is_some());

    within("stop", engine.stop(Duration::from_secs(5)))
        .await
        .unwrap();
    let stopped = engine.health();
    assert_eq!(stopped.state, EngineState::Stopped);
    assert_eq!(stopped.degraded, None, "a normal stop is no failure");
}

#[tokio::test]
async fn health_never_shows_a_credential_from_a_name() {
    let engine = Engine::new();
    engine
        .add_publisher("redis://app:hunter2@cache/", RecordingPublisher::new())
        .unwrap();
    let health = engine.health();
    let names: Vec<&str> = health.components.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["redis://[REDACTED]@cache/"]);
    within("start", engine.start()).await.unwrap();
    within("stop", engine.stop(Duration::from_secs(1)))
        .await
        .unwrap();
}

/// What the publisher hook sees when a publisher registered under `prefix` refuses a
/// message for `destination`, which it gets as `topic` (the destination after its scheme).
async fn publisher_hook_events(
    prefix: &str,
    destination: &'static str,
    topic: &str,
) -> Vec<String> {
    let seen = Seen::default();
    let engine = Engine::builder()
        .observer(recording_observer(&seen))
        .build()
        .unwrap();
    let (subscriber, feeder) = ChannelSubscriber::new(8);
    let publisher = RecordingPublisher::with(Behaviour {
        reject: vec![topic.to_owned()],
        ..Behaviour::default()
    });
    let router = Router::builder()
        .handle(
            "orders.audit",
            handler_fn(move |_m: Message| async move { Ok(vec![to("audit", destination)]) }),
        )
        .unwrap()
        .build();
    engine.add_subscriber("in", subscriber, "orders").unwrap();
    engine.add_router("orders", router).unwrap();
    engine.add_publisher(prefix, publisher).unwrap();
    within("start", engine.start()).await.unwrap();

    let audit = feeder.send(typed("orders.audit")).await;
    assert!(matches!(
        feeder.log.outcome_of(&audit).await,
        Outcome::Nacked(_)
    ));
    within("stop", engine.stop(Duration::from_secs(5)))
        .await
        .unwrap();
    seen.lock().unwrap().clone()
}

#[tokio::test]
async fn the_publisher_hook_never_sees_a_credential() {
    // The credential in the publisher's prefix: the hook gets the redacted prefix and topic.
    let seen = publisher_hook_events(
        "redis://app:hunter2@cache/",
        "redis://app:hunter2@cache/audit",
        "app:hunter2@cache/audit",
    )
    .await;
    assert_eq!(
        seen,
        ["publisher redis://[REDACTED]@cache/ [REDACTED]@cache/audit"]
    );
    // The credential in the destination only, under a publisher for the whole scheme.
    let seen = publisher_hook_events(
        "redis://",
        "redis://app:hunter2@cache/audit",
        "app:hunter2@cache/audit",
    )
    .await;
    assert!(
        seen.iter().all(|event| !event.contains("hunter2")),
        "the hook saw a credential: {seen:?}"
    );
    assert_eq!(seen.len(), 1, "{seen:?}");
}

/// A panic in the `on_subscriber_error` hook is a panic in an observer hook: the engine
/// goes on, and takes the next message (it used to end the intake, and with it all input).
#[tokio::test(start_paused = true)]
async fn a_panicking_subscriber_error_hook_does_not_end_the_intake() {
    let engine = Engine::builder()
        .observer(ObserverFns::new().subscriber_error(|_name, _error| panic!("hook bug")))
        .build()
        .unwrap();
    let (subscriber, feeder) = ChannelSubscriber::new(16);
    engine.add_subscriber("in", subscriber, "orders").unwrap();
    engine.add_router("orders", absorbing_router()).unwrap();
    engine
        .add_publisher("mem://", RecordingPublisher::new())
        .unwrap();
    engine.set_dead_letter("mem://dead-letter").unwrap();
    within("start", engine.start()).await.unwrap();

    feeder
        .send_error(Error::permanent_transport("bad frame"))
        .await;
    let after = feeder.send(typed("orders.created")).await;
    let outcome = tokio::time::timeout(Duration::from_secs(5), feeder.log.outcome_of(&after)).await;
    let report = within("stop", engine.stop(Duration::from_secs(1)))
        .await
        .unwrap();
    assert_eq!(
        outcome.ok(),
        Some(Outcome::Acked),
        "the message after the subscriber error was never handled; report: {report:?}"
    );
    assert!(report.quiescent, "{report:?}");
}

/// A panic in the `on_dead_letter` hook nacks the message for redelivery: it is not
/// dead-lettered, and health does not count it as such.
#[tokio::test(start_paused = true)]
async fn a_panicking_dead_letter_hook_nacks_and_counts_no_dead_letter() {
    let engine = Engine::builder()
        .observer(ObserverFns::new().dead_letter(|_message, _reason| panic!("hook bug")))
        .build()
        .unwrap();
    let (subscriber, feeder) = ChannelSubscriber::new(16);
    engine.add_subscriber("in", subscriber, "orders").unwrap();
    let publisher = RecordingPublisher::new();
    engine.add_publisher("mem://", publisher.clone()).unwrap();
    engine.set_dead_letter("mem://dead-letter").unwrap();
    within("start", engine.start()).await.unwrap();

    // No router takes `unknown.type`: it would go to the dead letter.
    let id = feeder.send(typed("unknown.type")).await;
    let outcome = within("the outcome", feeder.log.outcome_of(&id)).await;
    assert!(matches!(outcome, Outcome::Nacked(_)), "{outcome:?}");
    assert_eq!(engine.health().counts.dead_lettered, 0);
    within("stop", engine.stop(Duration::from_secs(1)))
        .await
        .unwrap();
}
