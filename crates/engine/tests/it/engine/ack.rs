//! The ack contract: acked only after the handler succeeded and every output was accepted;
//! nacked on transient errors and refused outputs; dead-lettered with a reason, then acked.

use std::{sync::Arc, time::Duration};

use switchyard_core::{Error, Message, NackCause, handler_fn};
use switchyard_engine::{ComponentKind, Engine, reason::ERROR_ATTRIBUTE};
use switchyard_routing::{fan::DEAD_LETTER_REASON, router::Router};
use tokio::sync::Semaphore;

use super::support::{
    Behaviour, ChannelSubscriber, Feeder, Outcome, RecordingPublisher, Rig, attr, to, typed, within,
};

/// `orders.created` → one output to `mem://shipping`; `orders.split` → two outputs, to
/// `mem://shipping` and `mem://billing`; `orders.flaky` fails transiently,
/// `orders.broken` permanently; `orders.lost` returns an output without a destination and
/// `orders.astray` one with an unknown scheme; `orders.done` returns nothing.
fn orders() -> Router {
    Router::builder()
        .handle(
            "orders.created",
            handler_fn(|_m: Message| async {
                Ok(vec![to("shipping.requested", "mem://shipping")])
            }),
        )
        .unwrap()
        .handle(
            "orders.split",
            handler_fn(|_m: Message| async {
                Ok(vec![
                    to("shipping.requested", "mem://shipping"),
                    to("billing.requested", "mem://billing"),
                ])
            }),
        )
        .unwrap()
        .handle(
            "orders.flaky",
            handler_fn(|_m: Message| async {
                Err::<Vec<Message>, _>(Error::transient_handler("database busy"))
            }),
        )
        .unwrap()
        .handle(
            "orders.broken",
            handler_fn(|_m: Message| async {
                Err::<Vec<Message>, _>(Error::permanent_handler("unknown customer, token=abc"))
            }),
        )
        .unwrap()
        .handle(
            "orders.lost",
            handler_fn(|_m: Message| async { Ok(vec![typed("nowhere")]) }),
        )
        .unwrap()
        .handle(
            "orders.astray",
            handler_fn(|_m: Message| async { Ok(vec![to("x", "kafka://elsewhere")]) }),
        )
        .unwrap()
        .handle(
            "orders.done",
            handler_fn(|_m: Message| async { Ok(vec![]) }),
        )
        .unwrap()
        .build()
}

#[tokio::test]
async fn an_input_is_acked_only_once_its_output_is_published() {
    let gate = Arc::new(Semaphore::new(0));
    let publisher = RecordingPublisher::with(Behaviour {
        gate: Some(gate.clone()),
        ..Behaviour::default()
    });
    let rig = Rig::with_publisher(Engine::builder(), orders(), publisher)
        .start()
        .await;
    let id = rig.feeder.send(typed("orders.created")).await;

    // The output is at the publisher, which has not said yes yet.
    rig.publisher.wait_entered(1).await;
    assert_eq!(
        rig.feeder.log.outcome(&id),
        None,
        "acked before the publish returned"
    );
    assert_eq!(rig.engine.health().in_flight, 1);

    gate.add_permits(1);
    assert_eq!(rig.feeder.log.outcome_of(&id).await, Outcome::Acked);
    let shipped = rig.publisher.on("shipping");
    assert_eq!(shipped.len(), 1);
    assert_eq!(
        shipped[0].attributes().message_type(),
        Some("shipping.requested")
    );
    assert_eq!(rig.engine.health().in_flight, 0);
}

#[tokio::test]
async fn a_rejected_output_nacks_its_input() {
    let publisher = RecordingPublisher::with(Behaviour {
        reject: vec!["billing".to_owned()],
        ..Behaviour::default()
    });
    let rig = Rig::with_publisher(Engine::builder(), orders(), publisher)
        .start()
        .await;
    let rejected = rig.feeder.send(typed("orders.split")).await;
    assert_eq!(
        rig.feeder.log.outcome_of(&rejected).await,
        Outcome::Nacked(NackCause::Explicit),
        "one of two outputs refused: the input is redelivered"
    );
    let accepted = rig.feeder.send(typed("orders.created")).await;
    assert_eq!(rig.feeder.log.outcome_of(&accepted).await, Outcome::Acked);
}

#[tokio::test]
async fn every_output_accepted_acks_the_input_and_no_output_acks_at_once() {
    let rig = Rig::new(Engine::builder(), orders()).start().await;
    let split = rig.feeder.send(typed("orders.split")).await;
    let done = rig.feeder.send(typed("orders.done")).await;
    assert_eq!(rig.feeder.log.outcome_of(&split).await, Outcome::Acked);
    assert_eq!(rig.feeder.log.outcome_of(&done).await, Outcome::Acked);
    assert_eq!(rig.publisher.on("shipping").len(), 1);
    assert_eq!(rig.publisher.on("billing").len(), 1);
}

#[tokio::test]
async fn a_transient_handler_error_nacks_for_redelivery() {
    let rig = Rig::new(Engine::builder(), orders()).start().await;
    let id = rig.feeder.send(typed("orders.flaky")).await;
    assert_eq!(
        rig.feeder.log.outcome_of(&id).await,
        Outcome::Nacked(NackCause::Explicit)
    );
    assert!(
        rig.dead_letters().is_empty(),
        "transient: redelivered, not dead-lettered"
    );
}

#[tokio::test]
async fn a_permanent_handler_error_dead_letters_then_acks() {
    let rig = Rig::new(Engine::builder(), orders()).start().await;
    let id = rig.feeder.send(typed("orders.broken")).await;
    assert_eq!(rig.feeder.log.outcome_of(&id).await, Outcome::Acked);
    let dead = rig.dead_letters();
    assert_eq!(dead.len(), 1);
    assert_eq!(
        dead[0].attributes().id(),
        Some(id.as_str()),
        "the input itself"
    );
    assert_eq!(attr(&dead[0], DEAD_LETTER_REASON), Some("handler-failed"));
    let error = attr(&dead[0], ERROR_ATTRIBUTE).expect("the error is attached");
    assert!(error.contains("unknown customer"), "{error}");
    assert!(!error.contains("abc"), "redacted: {error}");
}

/// Sends a message of `message_type` and checks that it is acked after going to the dead
/// letter with `reason`.
async fn check_dead_lettered(rig: &Rig, message_type: &str, reason: &str) {
    let before = rig.dead_letters().len();
    let id = rig.feeder.send(typed(message_type)).await;
    assert_eq!(
        rig.feeder.log.outcome_of(&id).await,
        Outcome::Acked,
        "{message_type}"
    );
    let dead = rig.dead_letters();
    assert_eq!(dead.len(), before + 1, "{message_type}");
    assert_eq!(
        attr(&dead[before], DEAD_LETTER_REASON),
        Some(reason),
        "{message_type}"
    );
}

#[tokio::test]
async fn unroutable_messages_are_dead_lettered_with_their_reason() {
    let rig = Rig::new(Engine::builder(), orders()).start().await;
    check_dead_lettered(&rig, "billing.created", "no-router").await;
    check_dead_lettered(&rig, "orders.unknown", "no-handler").await;
    check_dead_lettered(&rig, "orders.lost", "no-destination").await;
    check_dead_lettered(&rig, "orders.astray", "no-route").await;
    // No type at all: no source for the default matcher.
    let id = rig.feeder.send(Message::new("untyped")).await;
    assert_eq!(rig.feeder.log.outcome_of(&id).await, Outcome::Acked);
    assert_eq!(rig.engine.health().counts.dead_lettered, 5);
}

#[tokio::test]
async fn a_failed_dead_letter_publish_nacks_the_input() {
    let publisher = RecordingPublisher::with(Behaviour {
        reject: vec!["dead-letter".to_owned()],
        ..Behaviour::default()
    });
    let rig = Rig::with_publisher(Engine::builder(), orders(), publisher)
        .start()
        .await;
    let id = rig.feeder.send(typed("orders.broken")).await;
    assert_eq!(
        rig.feeder.log.outcome_of(&id).await,
        Outcome::Nacked(NackCause::Explicit),
        "never acked without having gone somewhere"
    );
}

/// An engine with the `orders` router for the source `orders`, a recording publisher and
/// no dead letter, not started; and the feeder of its one subscriber.
fn orders_without_a_dead_letter() -> (Engine, Feeder) {
    let engine = Engine::new();
    let (subscriber, feeder) = ChannelSubscriber::new(8);
    engine.add_subscriber("in", subscriber, "orders").unwrap();
    engine.add_router("orders", orders()).unwrap();
    engine
        .add_publisher("mem://", RecordingPublisher::new())
        .unwrap();
    (engine, feeder)
}

#[tokio::test]
async fn without_a_dead_letter_what_would_go_there_is_nacked() {
    let (engine, feeder) = orders_without_a_dead_letter();
    within("start", engine.start()).await.unwrap();
    for message_type in ["billing.created", "orders.broken", "orders.lost"] {
        let id = feeder.send(typed(message_type)).await;
        assert_eq!(
            feeder.log.outcome_of(&id).await,
            Outcome::Nacked(NackCause::Explicit),
            "{message_type}"
        );
    }
}

#[tokio::test]
async fn a_custom_source_matcher_picks_the_router() {
    let engine = Engine::new();
    let (subscriber, feeder) = ChannelSubscriber::new(8);
    let publisher = RecordingPublisher::new();
    engine.add_subscriber("in", subscriber, "orders").unwrap();
    engine.add_router("by-subject", orders()).unwrap();
    engine.add_publisher("mem://", publisher.clone()).unwrap();
    engine
        .set_source_matcher(|message: &Message| message.attributes().subject().map(str::to_owned))
        .unwrap();
    within("start", engine.start()).await.unwrap();
    let routed = Message::builder()
        .message_type("orders.created")
        .subject("by-subject")
        .build()
        .unwrap();
    let id = feeder.send(routed).await;
    assert_eq!(feeder.log.outcome_of(&id).await, Outcome::Acked);
    assert_eq!(publisher.on("shipping").len(), 1);
}

#[tokio::test]
async fn a_panicking_handler_dead_letters_and_the_worker_goes_on() {
    let router = Router::builder()
        .handle(
            "orders.panic",
            handler_fn(|_m: Message| async {
                if true {
                    panic!("handler bug");
                }
                Ok(vec![])
            }),
        )
        .unwrap()
        .handle(
            "orders.done",
            handler_fn(|_m: Message| async { Ok(vec![]) }),
        )
        .unwrap()
        .build();
    let rig = Rig::new(Engine::builder(), router).start().await;
    let panicked = rig.feeder.send(typed("orders.panic")).await;
    let after = rig.feeder.send(typed("orders.done")).await;
    assert_eq!(rig.feeder.log.outcome_of(&panicked).await, Outcome::Acked);
    assert_eq!(
        rig.feeder.log.outcome_of(&after).await,
        Outcome::Acked,
        "same worker"
    );
    let dead = rig.dead_letters();
    assert_eq!(attr(&dead[0], DEAD_LETTER_REASON), Some("handler-panicked"));
}

#[tokio::test]
async fn a_panicking_publisher_nacks_its_input_and_the_worker_goes_on() {
    let publisher = RecordingPublisher::with(Behaviour {
        panic_on: vec!["billing".to_owned()],
        ..Behaviour::default()
    });
    let rig = Rig::with_publisher(Engine::builder(), orders(), publisher)
        .start()
        .await;
    let panicked = rig.feeder.send(typed("orders.split")).await;
    assert!(
        matches!(
            rig.feeder.log.outcome_of(&panicked).await,
            Outcome::Nacked(_)
        ),
        "redelivered, not lost"
    );
    // The worker is still there: a panic used to end it, and its router then refused every
    // later message.
    let after = rig.feeder.send(typed("orders.created")).await;
    assert_eq!(rig.feeder.log.outcome_of(&after).await, Outcome::Acked);
    let health = rig.engine.health();
    let router = health
        .component(ComponentKind::Router, "orders")
        .expect("the router's health");
    assert_eq!(router.errors, 1);
    assert!(
        router
            .last_error
            .as_deref()
            .is_some_and(|error| error.contains("panicked: publisher bug on billing")),
        "{router:?}"
    );
}

#[tokio::test]
async fn a_panicking_source_matcher_nacks_its_message_and_the_intake_goes_on() {
    let (engine, feeder) = orders_without_a_dead_letter();
    engine
        .set_source_matcher(|message: &Message| {
            assert_ne!(message.attributes().subject(), Some("boom"), "matcher bug");
            Some("orders".to_owned())
        })
        .unwrap();
    within("start", engine.start()).await.unwrap();
    let boom = Message::builder()
        .message_type("orders.created")
        .subject("boom")
        .build()
        .unwrap();
    let boom = feeder.send(boom).await;
    assert!(matches!(
        feeder.log.outcome_of(&boom).await,
        Outcome::Nacked(_)
    ));
    let after = feeder.send(typed("orders.created")).await;
    assert_eq!(feeder.log.outcome_of(&after).await, Outcome::Acked);
    within("stop", engine.stop(Duration::from_secs(5)))
        .await
        .unwrap();
}
