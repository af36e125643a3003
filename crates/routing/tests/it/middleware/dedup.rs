//! Deduplicator: a message seen within the window is skipped and counted; the window is
//! bounded by count and by age; failed messages are forgotten so their redelivery runs.

use std::time::Duration;

use switchyard_core::{Error, Handler, Message};
use switchyard_routing::middleware::{
    HandlerBuilder, dedup::DeduplicatorLayer, recoverer::RecovererLayer,
};
use tower_layer::Layer;

use super::support::{message, recorded, within};

async fn handled(handler: &impl Handler, message: &Message) -> bool {
    !within(handler.handle(message)).await.unwrap().is_empty()
}

fn echo() -> (impl Handler, super::support::Calls) {
    recorded(|_, message: Message| async move { Ok(vec![message]) })
}

#[tokio::test(start_paused = true)]
async fn duplicates_by_id_and_source_are_skipped_and_counted() {
    let (handler, calls) = echo();
    let layer = DeduplicatorLayer::builder().build().unwrap();
    let handler = layer.layer(handler);
    let other_source = Message::builder()
        .id("m")
        .source("elsewhere")
        .build()
        .unwrap();

    assert!(handled(&handler, &message("m")).await);
    assert!(
        !handled(&handler, &message("m")).await,
        "same id and source"
    );
    assert!(
        handled(&handler, &other_source).await,
        "same id, other source"
    );
    assert!(handled(&handler, &message("n")).await);
    assert_eq!(calls.count(), 3);
    assert_eq!(layer.duplicates(), 1);
    assert_eq!(layer.len(), 3);
}

#[tokio::test(start_paused = true)]
async fn the_window_evicts_the_oldest_past_its_count() {
    let (handler, _calls) = echo();
    let handler = DeduplicatorLayer::builder()
        .max_entries(2)
        .build()
        .unwrap()
        .layer(handler);
    for id in ["a", "b", "c"] {
        assert!(handled(&handler, &message(id)).await);
    }
    assert!(handled(&handler, &message("a")).await, "a was evicted by c");
    assert!(
        !handled(&handler, &message("c")).await,
        "c is still remembered"
    );
}

#[tokio::test(start_paused = true)]
async fn the_window_forgets_keys_past_their_age() {
    let (handler, _calls) = echo();
    let handler = DeduplicatorLayer::builder()
        .max_age(Duration::from_secs(60))
        .build()
        .unwrap()
        .layer(handler);
    assert!(handled(&handler, &message("a")).await);
    tokio::time::advance(Duration::from_secs(59)).await;
    assert!(
        !handled(&handler, &message("a")).await,
        "59 s old: still a duplicate"
    );
    tokio::time::advance(Duration::from_secs(1)).await;
    assert!(
        handled(&handler, &message("a")).await,
        "60 s old: forgotten"
    );
}

#[tokio::test(start_paused = true)]
async fn memory_stays_bounded_whatever_the_input() {
    let (handler, calls) = echo();
    let layer = DeduplicatorLayer::builder()
        .max_entries(100)
        .build()
        .unwrap();
    let handler = layer.layer(handler);
    for n in 0..5_000 {
        let id = format!("{n}-{}", "x".repeat(n % 300));
        within(handler.handle(&message(&id))).await.unwrap();
        assert!(layer.len() <= 100);
    }
    assert_eq!(calls.count(), 5_000, "all distinct: none skipped");
}

#[tokio::test(start_paused = true)]
async fn a_message_whose_handler_failed_or_panicked_is_handled_again() {
    let (handler, calls) = recorded(|call, message: Message| async move {
        match call {
            1 => Err(Error::transient_handler("busy")),
            2 => panic!("bug"),
            _ => Ok(vec![message]),
        }
    });
    let layer = DeduplicatorLayer::builder().build().unwrap();
    let handler = HandlerBuilder::new()
        .layer(RecovererLayer::new())
        .layer(layer.clone())
        .handler(handler);

    within(handler.handle(&message("m"))).await.unwrap_err();
    within(handler.handle(&message("m"))).await.unwrap_err();
    assert!(
        handled(&handler, &message("m")).await,
        "third delivery runs"
    );
    assert!(
        !handled(&handler, &message("m")).await,
        "then it is a duplicate"
    );
    assert_eq!(calls.count(), 3);
    assert_eq!(layer.duplicates(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_redelivery_while_the_first_is_in_flight_is_skipped() {
    let (handler, calls) = recorded(|_, message: Message| async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        Ok(vec![message])
    });
    let handler = DeduplicatorLayer::builder().build().unwrap().layer(handler);
    let first = message("m");
    let again = message("m");
    let (a, b) = within(futures::future::join(
        handler.handle(&first),
        handler.handle(&again),
    ))
    .await;
    assert_eq!(a.unwrap().len() + b.unwrap().len(), 1);
    assert_eq!(calls.count(), 1);
}

/// Second reading: failures are forgotten, but each one still takes a slot of the window
/// until it is evicted, so one message failing (and being redelivered) `max_entries` times
/// pushes out a message that was handled a moment ago, though the window holds one key.
#[tokio::test(start_paused = true)]
async fn failed_attempts_do_not_push_handled_messages_out_of_the_window() {
    let (handler, calls) = recorded(|_, message: Message| async move {
        if message.attributes().id() == Some("poison") {
            Err(Error::transient_handler("still failing"))
        } else {
            Ok(vec![message])
        }
    });
    let layer = DeduplicatorLayer::builder()
        .max_entries(3)
        .max_age(Duration::from_secs(600))
        .build()
        .unwrap();
    let handler = layer.layer(handler);

    assert!(handled(&handler, &message("done")).await);
    // One poison message, redelivered three times: each attempt fails and is forgotten.
    for _ in 0..3 {
        assert!(within(handler.handle(&message("poison"))).await.is_err());
    }
    assert_eq!(layer.len(), 1, "only `done` is remembered");
    assert!(
        !handled(&handler, &message("done")).await,
        "`done` was handled a moment ago, with one key in a window of three: a duplicate"
    );
    assert_eq!(calls.count(), 4);
}
