//! A ticker as an engine's subscriber, on tokio's paused clock.

use std::{sync::Arc, time::Duration};

use switchyard_core::{Message, handler_fn};
use switchyard_engine::{ComponentKind, Engine, Tick, TickerSubscriber};
use switchyard_routing::router::Router;

use super::support::{RecordingPublisher, within};

#[tokio::test(start_paused = true)]
async fn ticks_flow_through_the_engine_and_the_loop() {
    let ticker = TickerSubscriber::new(Duration::from_secs(5), |tick: Tick| async move {
        Ok(vec![
            Message::builder()
                .message_type("order.timeout.check")
                .attribute("tick", tick.number.to_string())
                .build()?,
        ])
    })
    .unwrap();
    let router = Router::builder()
        .handle(
            "order.timeout.check",
            handler_fn(|check: Message| async move {
                let tick = check
                    .attributes()
                    .get("tick")
                    .unwrap_or_default()
                    .to_owned();
                Ok(vec![
                    Message::builder()
                        .message_type("order.expired")
                        .destination("loop://order")
                        .attribute("tick", tick)
                        .build()?,
                ])
            }),
        )
        .unwrap()
        .handle(
            "order.expired",
            handler_fn(|expired: Message| async move {
                let mut audit = expired.detached();
                audit.attributes_mut().set_destination("mem://audit")?;
                Ok(vec![audit])
            }),
        )
        .unwrap()
        .build();
    let publisher = RecordingPublisher::new();
    let engine = Engine::new();
    engine
        .add_subscriber("scheduler", Arc::new(ticker), "ticks")
        .unwrap();
    engine.add_router("order", router).unwrap();
    engine.add_publisher("mem://", publisher.clone()).unwrap();
    within("start", engine.start()).await.unwrap();

    // Three ticks, at 5, 10 and 15 seconds of the paused clock.
    publisher.wait_published(3).await;
    let report = within("stop", engine.stop(Duration::from_secs(5)))
        .await
        .unwrap();
    let ticks: Vec<String> = publisher
        .on("audit")
        .iter()
        .map(|m| m.attributes().get("tick").unwrap().to_owned())
        .collect();
    assert_eq!(ticks[..3], ["1", "2", "3"]);
    assert!(report.quiescent);
    assert_eq!(report.totals.received, report.totals.acked);
    assert_eq!(report.totals.nacked, 0);
}

#[tokio::test(start_paused = true)]
async fn a_panicking_generator_is_a_subscriber_error_not_the_end_of_the_input() {
    let ticker = TickerSubscriber::new(Duration::from_secs(5), |tick: Tick| async move {
        assert_ne!(tick.number, 1, "generator bug");
        Ok(vec![
            Message::builder()
                .message_type("order.timeout.check")
                .build()?,
        ])
    })
    .unwrap();
    let router = Router::builder()
        .handle(
            "order.timeout.check",
            handler_fn(|_check: Message| async {
                Ok(vec![
                    Message::builder()
                        .message_type("order.checked")
                        .destination("mem://audit")
                        .build()?,
                ])
            }),
        )
        .unwrap()
        .build();
    let publisher = RecordingPublisher::new();
    let engine = Engine::new();
    engine
        .add_subscriber("scheduler", Arc::new(ticker), "ticks")
        .unwrap();
    engine.add_router("order", router).unwrap();
    engine.add_publisher("mem://", publisher.clone()).unwrap();
    within("start", engine.start()).await.unwrap();

    // Tick 1 panics in the generator; tick 2, five seconds later, still flows through.
    publisher.wait_published(1).await;
    let health = engine.health();
    assert_eq!(health.degraded, None);
    let scheduler = health
        .component(ComponentKind::Subscriber, "scheduler")
        .unwrap();
    assert_eq!(scheduler.errors, 1);
    assert!(
        scheduler
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("generator bug")),
        "{scheduler:?}"
    );
    let report = within("stop", engine.stop(Duration::from_secs(5)))
        .await
        .unwrap();
    assert!(report.quiescent);
}
