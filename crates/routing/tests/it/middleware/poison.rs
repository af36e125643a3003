//! Poison queue: a message that failed for good is published with its reason and attempt
//! count and then reported handled; if publishing fails, the original error comes back.

use std::{sync::Arc, time::Duration};

use switchyard_core::{AckSink, AckState, Acker, Error, Handler, Message, NackCause};
use switchyard_routing::middleware::{
    HandlerBuilder,
    poison::{ATTEMPTS_ATTRIBUTE, PoisonQueueLayer, REASON_ATTRIBUTE},
    retry::{RetryError, RetryLayer},
};
use tokio::time::Instant;
use tower_layer::Layer;

use super::support::{Mode, RecordingPublisher, message, recorded, within};

const TOPIC: &str = "orders.poison";

struct NoSink;

impl AckSink for NoSink {
    fn ack(&self) {}
    fn nack(&self, _cause: NackCause) {}
}

fn poison(publisher: &Arc<RecordingPublisher>) -> PoisonQueueLayer {
    PoisonQueueLayer::builder(publisher.clone(), TOPIC)
        .build()
        .unwrap()
}

fn retry(attempts: u32) -> RetryLayer {
    RetryLayer::builder()
        .max_attempts(attempts)
        .min_delay(Duration::from_millis(10))
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn after_the_retries_the_message_is_published_with_reason_and_attempts() {
    let publisher = RecordingPublisher::new(Mode::Accept);
    let (handler, calls) = recorded(|_, _| async {
        Err(Error::transient_handler(
            "db at postgres://app:hunter2@db failed",
        ))
    });
    let handler = HandlerBuilder::new()
        .layer(poison(&publisher))
        .layer(retry(3))
        .handler(handler);

    let input = message("m").with_acker(Acker::new(NoSink));
    let outputs = within(handler.handle(&input)).await.unwrap();
    assert!(outputs.is_empty(), "handled: the caller acks the original");
    assert_eq!(calls.count(), 3);

    let published = publisher.published();
    assert_eq!(published.len(), 1);
    let (topic, copy) = &published[0];
    assert_eq!(topic, TOPIC);
    assert_eq!(copy.payload(), input.payload());
    assert_eq!(copy.attributes().id(), Some("m"));
    assert_eq!(copy.attributes().get(ATTEMPTS_ATTRIBUTE), Some("3"));
    let reason = copy.attributes().get(REASON_ATTRIBUTE).unwrap();
    assert!(reason.contains("gave up after 3 attempt(s)"), "{reason}");
    assert!(
        reason.contains("postgres://[REDACTED]@db"),
        "redacted: {reason}"
    );
    assert!(!reason.contains("hunter2"));
    // The copy is detached: the original delivery is still the caller's to settle.
    assert!(!copy.acker().same_delivery(input.acker()));
    assert_eq!(input.acker().state(), AckState::Pending);
}

#[tokio::test(start_paused = true)]
async fn without_retry_the_attempt_count_is_one() {
    let publisher = RecordingPublisher::new(Mode::Accept);
    let (handler, _calls) = recorded(|_, _| async { Err(Error::permanent_handler("bad")) });
    let handler = poison(&publisher).layer(handler);
    within(handler.handle(&message("m"))).await.unwrap();
    assert_eq!(
        publisher.published()[0]
            .1
            .attributes()
            .get(ATTEMPTS_ATTRIBUTE),
        Some("1")
    );
}

#[tokio::test(start_paused = true)]
async fn a_failed_publish_returns_the_original_error() {
    let publisher = RecordingPublisher::new(Mode::Fail);
    let (handler, _calls) = recorded(|_, _| async { Err(Error::permanent_handler("bad")) });
    let handler = HandlerBuilder::new()
        .layer(poison(&publisher))
        .layer(retry(2))
        .handler(handler);

    let err = within(handler.handle(&message("m"))).await.unwrap_err();
    assert_eq!(
        RetryError::attempts_of(&err),
        Some(1),
        "the handler's error, not the publisher's"
    );
    assert!(!err.is_transient());
    assert!(err.report().contains("bad"), "{}", err.report());
}

#[tokio::test(start_paused = true)]
async fn a_hung_publish_times_out_and_returns_the_original_error() {
    let publisher = RecordingPublisher::new(Mode::Hang);
    let (handler, _calls) = recorded(|_, _| async { Err(Error::permanent_handler("bad")) });
    let handler = PoisonQueueLayer::builder(publisher.clone(), TOPIC)
        .publish_timeout(Duration::from_secs(5))
        .build()
        .unwrap()
        .layer(handler);

    let start = Instant::now();
    let err = within(handler.handle(&message("m"))).await.unwrap_err();
    assert!(start.elapsed() >= Duration::from_secs(5));
    assert!(
        matches!(
            &err,
            Error::Handler {
                transient: false,
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test(start_paused = true)]
async fn only_poison_errors_are_published_and_successes_pass_through() {
    let publisher = RecordingPublisher::new(Mode::Accept);
    let (handler, _calls) = recorded(|call, message: Message| async move {
        match call {
            1 => Ok(vec![message]),
            2 => Err(Error::transient_handler("busy")),
            _ => Err(Error::permanent_handler("bad")),
        }
    });
    let handler = PoisonQueueLayer::builder(publisher.clone(), TOPIC)
        .poison_if(|err| !err.is_transient())
        .build()
        .unwrap()
        .layer(handler);

    assert_eq!(
        within(handler.handle(&message("m"))).await.unwrap().len(),
        1
    );
    let err = within(handler.handle(&message("m"))).await.unwrap_err();
    assert!(err.is_transient(), "not poison: returned as it was");
    assert!(publisher.published().is_empty());
    assert!(
        within(handler.handle(&message("m")))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(publisher.published().len(), 1);
}
