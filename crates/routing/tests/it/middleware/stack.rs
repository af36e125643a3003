//! Layers composed: correlation → poison → retry → timeout → recoverer around one handler,
//! the order that matters for panics, and layers over `Arc<dyn Handler>`.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use switchyard_core::{Error, Handler, Message};
use switchyard_routing::middleware::{
    HandlerBuilder,
    breaker::{CircuitBreakerLayer, CircuitState},
    correlation::CorrelationLayer,
    dedup::DeduplicatorLayer,
    poison::{ATTEMPTS_ATTRIBUTE, PoisonQueueLayer, REASON_ATTRIBUTE},
    recoverer::RecovererLayer,
    retry::RetryLayer,
    throttle::ThrottleLayer,
    timeout::TimeoutLayer,
};
use tower_layer::Layer;

use super::support::{Mode, RecordingPublisher, recorded, within};

/// A handler whose behaviour is chosen by the payload: `ok`, `flaky` (fails transiently on
/// its first call), `slow` (never finishes) or `panic`.
fn scripted() -> (impl Handler, super::support::Calls) {
    let flaked = Arc::new(AtomicBool::new(false));
    recorded(move |_, message: Message| {
        let first_flaky =
            &message.payload()[..] == b"flaky" && !flaked.swap(true, Ordering::SeqCst);
        async move {
            match &message.payload()[..] {
                b"flaky" if first_flaky => Err(Error::transient_handler("blip")),
                b"slow" => {
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                    Ok(vec![])
                }
                b"panic" => panic!("bug in handler"),
                _ => Ok(vec![
                    Message::builder().message_type("tests.output").build()?,
                ]),
            }
        }
    })
}

fn input(id: &str, behaviour: &'static str) -> Message {
    Message::builder()
        .id(id)
        .correlation_id("conv")
        .payload(behaviour)
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_full_stack_retries_times_out_recovers_poisons_and_correlates() {
    let publisher = RecordingPublisher::new(Mode::Accept);
    let (handler, calls) = scripted();
    let handler = HandlerBuilder::new()
        .layer(CorrelationLayer::new())
        .layer(
            PoisonQueueLayer::builder(publisher.clone(), "poison")
                .build()
                .unwrap(),
        )
        .layer(
            RetryLayer::builder()
                .max_attempts(3)
                .min_delay(Duration::from_millis(10))
                .build()
                .unwrap(),
        )
        .layer(TimeoutLayer::new(Duration::from_secs(1)).unwrap())
        .layer(RecovererLayer::new())
        .handler(handler);

    // Success: the output is correlated to the input.
    let outputs = within(handler.handle(&input("a", "ok"))).await.unwrap();
    assert_eq!(outputs[0].attributes().correlation_id(), Some("conv"));
    assert_eq!(outputs[0].attributes().causation_id(), Some("a"));

    // A transient failure is retried, and the retried output is correlated too.
    let outputs = within(handler.handle(&input("b", "flaky"))).await.unwrap();
    assert_eq!(outputs[0].attributes().causation_id(), Some("b"));
    assert_eq!(calls.count(), 3);

    // Every attempt times out: after 3 the message is poisoned and reported handled.
    let outputs = within(handler.handle(&input("c", "slow"))).await.unwrap();
    assert!(outputs.is_empty());
    // A panic is recovered inside retry: permanent, so poisoned after one attempt.
    let outputs = within(handler.handle(&input("d", "panic"))).await.unwrap();
    assert!(outputs.is_empty());
    assert_eq!(calls.count(), 7);

    let published = publisher.published();
    let summary: Vec<_> = published
        .iter()
        .map(|(topic, message)| {
            let attributes = message.attributes();
            (
                topic.as_str(),
                attributes.id().unwrap(),
                attributes.get(ATTEMPTS_ATTRIBUTE).unwrap(),
            )
        })
        .collect();
    assert_eq!(summary, [("poison", "c", "3"), ("poison", "d", "1")]);
    let reason = |n: usize| {
        published[n]
            .1
            .attributes()
            .get(REASON_ATTRIBUTE)
            .unwrap()
            .to_owned()
    };
    assert!(
        reason(0).contains("handler timed out after 1s"),
        "{}",
        reason(0)
    );
    assert!(
        reason(1).contains("handler panicked: bug in handler"),
        "{}",
        reason(1)
    );
}

#[tokio::test(start_paused = true)]
async fn an_outermost_recoverer_catches_panics_that_bypass_the_layers_below() {
    let publisher = RecordingPublisher::new(Mode::Accept);
    let (handler, calls) = scripted();
    let handler = HandlerBuilder::new()
        .layer(RecovererLayer::new())
        .layer(
            PoisonQueueLayer::builder(publisher.clone(), "poison")
                .build()
                .unwrap(),
        )
        .layer(RetryLayer::builder().build().unwrap())
        .layer(TimeoutLayer::new(Duration::from_secs(1)).unwrap())
        .handler(handler);

    let err = within(handler.handle(&input("a", "panic")))
        .await
        .unwrap_err();
    assert!(err.report().contains("bug in handler"));
    assert_eq!(calls.count(), 1, "the panic unwound through retry");
    assert!(
        publisher.published().is_empty(),
        "and through the poison queue"
    );
}

#[tokio::test(start_paused = true)]
async fn layers_wrap_shared_trait_objects_and_stack_as_one_layer() {
    let (handler, calls) = scripted();
    let shared: Arc<dyn Handler> = Arc::new(handler);
    let breaker = CircuitBreakerLayer::builder().build().unwrap();
    let dedup = DeduplicatorLayer::builder().build().unwrap();
    let stack = HandlerBuilder::new()
        .layer(dedup.clone())
        .layer(breaker.clone())
        .layer(
            ThrottleLayer::builder(10, Duration::from_secs(1))
                .build()
                .unwrap(),
        )
        .into_layer();

    // The same stack (cloned, as a router would) wraps two handlers and stores them as
    // trait objects again.
    let first: Arc<dyn Handler> = Arc::new(stack.clone().layer(shared.clone()));
    let second: Arc<dyn Handler> = Arc::new(stack.layer(shared));
    within(first.handle(&input("a", "ok"))).await.unwrap();
    let skipped = within(second.handle(&input("a", "ok"))).await.unwrap();
    assert!(skipped.is_empty(), "the dedup window is shared by both");
    assert_eq!(dedup.duplicates(), 1);
    assert_eq!(breaker.state(), CircuitState::Closed);
    assert_eq!(calls.count(), 1);
}
