//! `BatchingPublisher`: batches by size and by latency, per topic; every caller gets its
//! batch's result; backpressure at `max_pending`; flush, close and drop. Every test runs on
//! tokio's paused clock, so latencies are exact and nothing sleeps.

mod support;

use std::{future::Future, sync::Arc, time::Duration};

use futures::{FutureExt, future::join_all};
use switchyard_bus::batch::{BatchConfig, BatchingPublisher, Receipt, SharedError};
use switchyard_core::{Error, Limits, Publisher};
use tokio::time::Instant;

use self::support::{Inner, failing, msg, within};

const HOUR: Duration = Duration::from_secs(3600);

/// A publisher over `Arc<dyn Publisher>`, as one is picked at run time.
fn batching(inner: &Arc<Inner>, config: BatchConfig) -> BatchingPublisher {
    let inner: Arc<dyn Publisher> = inner.clone();
    BatchingPublisher::new(inner, config)
}

fn config(max_batch_size: usize, max_latency: Duration) -> BatchConfig {
    BatchConfig::builder()
        .max_batch_size(max_batch_size)
        .max_latency(max_latency)
        .build()
        .unwrap()
}

async fn enqueue_all(
    publisher: &BatchingPublisher<impl Publisher + ?Sized + 'static>,
    messages: &[(&str, &str)],
) -> Vec<Receipt> {
    let mut receipts = Vec::new();
    for (topic, text) in messages {
        receipts.push(publisher.enqueue(topic, msg(text)).await.unwrap());
    }
    receipts
}

fn is_closed(result: &Result<(), Error>) -> bool {
    matches!(result, Err(Error::Closed { .. }))
}

#[tokio::test(start_paused = true)]
async fn a_full_batch_is_sent_at_once_with_exactly_max_batch_size_messages() {
    let inner = Inner::new();
    // Over the concrete type this time; the other tests go through `dyn Publisher`.
    let publisher = BatchingPublisher::new(inner.clone(), config(4, HOUR));
    let start = Instant::now();
    let texts: Vec<String> = (0..12).map(|n| n.to_string()).collect();
    let receipts = enqueue_all(
        &publisher,
        &texts.iter().map(|t| ("t", t.as_str())).collect::<Vec<_>>(),
    )
    .await;
    for result in within(join_all(receipts)).await {
        result.unwrap();
    }

    assert_eq!(inner.sizes(), [4, 4, 4]);
    let sent: Vec<String> = inner.calls().into_iter().flat_map(|c| c.payloads).collect();
    assert_eq!(sent, texts, "in order");
    assert!(
        inner.calls().iter().all(|call| call.at == start),
        "size, not latency, sent them"
    );
}

#[tokio::test(start_paused = true)]
async fn a_partial_batch_is_sent_when_its_first_message_has_waited_max_latency() {
    let inner = Inner::new();
    let latency = Duration::from_millis(5);
    let publisher = batching(&inner, config(100, latency));
    let start = Instant::now();

    let first = publisher.enqueue("t", msg("first")).await.unwrap();
    tokio::time::advance(Duration::from_millis(2)).await;
    let second = publisher.enqueue("t", msg("second")).await.unwrap();
    assert!(inner.calls().is_empty());

    within(first).await.unwrap();
    assert_eq!(
        Instant::now() - start,
        latency,
        "the first message waited exactly"
    );
    within(second).await.unwrap();
    let calls = inner.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].payloads, ["first", "second"]);
    assert_eq!(calls[0].at - start, latency);

    // `publish` itself returns after exactly the latency, too.
    let before = Instant::now();
    within(publisher.publish("t", msg("third"))).await.unwrap();
    assert_eq!(Instant::now() - before, latency);
    assert_eq!(inner.sizes(), [2, 1]);
}

#[tokio::test(start_paused = true)]
async fn batches_are_per_topic() {
    let inner = Inner::new();
    let publisher = batching(&inner, config(3, HOUR));
    let receipts = enqueue_all(
        &publisher,
        &[
            ("a", "a1"),
            ("b", "b1"),
            ("c", "c1"),
            ("a", "a2"),
            ("b", "b2"),
            ("a", "a3"),
            ("c", "c2"),
            ("b", "b3"),
        ],
    )
    .await;
    within(publisher.flush()).await.unwrap();
    for result in join_all(receipts).await {
        result.unwrap();
    }

    let mut calls: Vec<_> = inner
        .calls()
        .into_iter()
        .map(|call| (call.topic, call.payloads))
        .collect();
    calls.sort();
    let expected = [
        ("a", vec!["a1", "a2", "a3"]),
        ("b", vec!["b1", "b2", "b3"]),
        ("c", vec!["c1", "c2"]),
    ]
    .map(|(topic, payloads)| {
        (
            topic.to_owned(),
            payloads.into_iter().map(str::to_owned).collect::<Vec<_>>(),
        )
    });
    assert_eq!(calls, expected);
}

#[tokio::test(start_paused = true)]
async fn every_caller_gets_its_own_batch_result() {
    let inner = Inner::new();
    let publisher = batching(&inner, config(3, HOUR));

    // Three batches of three, published concurrently through `publish`: one succeeds, one
    // fails transiently, one permanently.
    let calls = [
        ("ok", msg("o1")),
        ("transient", msg("t1")),
        ("permanent", msg("p1")),
        ("ok", msg("o2")),
        ("transient", failing("t2", "transient")),
        ("permanent", msg("p2")),
        ("ok", msg("o3")),
        ("transient", msg("t3")),
        ("permanent", failing("p3", "permanent")),
    ];
    let results =
        within(join_all(calls.iter().map(|(topic, message)| {
            publisher.publish(topic, message.clone())
        })))
        .await;

    for ((topic, _), result) in calls.iter().zip(&results) {
        match (*topic, result) {
            ("ok", Ok(())) => {}
            ("transient", Err(err @ Error::Transport { .. })) => {
                assert!(err.is_transient());
                assert_eq!(err.to_string(), "transport error: broker unavailable");
            }
            ("permanent", Err(err @ Error::Transport { .. })) => {
                assert!(!err.is_transient());
                assert_eq!(err.report(), "transport error: not authorized");
            }
            other => panic!("unexpected result {other:?}"),
        }
    }
    assert_eq!(inner.sizes(), [3, 3, 3]);

    // The copies share the inner publisher's own source.
    let err = results[1].as_ref().unwrap_err();
    let source = std::error::Error::source(err).unwrap();
    let shared = source.downcast_ref::<SharedError>().unwrap();
    assert_eq!(shared.to_string(), "broker unavailable");
}

#[tokio::test(start_paused = true)]
async fn an_oversized_message_is_refused_alone_when_limits_are_set() {
    let inner = Inner::new();
    let config = BatchConfig::builder()
        .max_batch_size(2)
        .limits(Limits::new().with_max_payload_bytes(4))
        .build()
        .unwrap();
    let publisher = batching(&inner, config);
    let receipt = publisher.enqueue("t", msg("ok")).await.unwrap();
    assert!(matches!(
        publisher.enqueue("t", msg("too large")).await,
        Err(Error::TooLarge { .. })
    ));
    assert!(matches!(
        publisher.try_enqueue("t", msg("too large")),
        Err(Error::TooLarge { .. })
    ));
    within(publisher.publish("t", msg("fine"))).await.unwrap();
    within(receipt).await.unwrap();
    assert_eq!(inner.calls()[0].payloads, ["ok", "fine"]);
}

#[tokio::test(start_paused = true)]
async fn a_panicking_inner_publisher_fails_its_batch_only() {
    let inner = Inner::new();
    let publisher = batching(&inner, config(2, HOUR));
    let receipts = vec![
        publisher.enqueue("t", msg("1")).await.unwrap(),
        publisher.enqueue("t", failing("2", "panic")).await.unwrap(),
    ];
    for result in within(join_all(receipts)).await {
        let err = result.unwrap_err();
        assert!(matches!(err, Error::Transport { .. }) && !err.is_transient());
    }
    within(publisher.publish_batch("t", vec![msg("3"), msg("4")]))
        .await
        .unwrap();
    assert_eq!(inner.sizes(), [2, 2]);
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_publish_still_sends_its_accepted_message() {
    let inner = Inner::new();
    let publisher = batching(&inner, config(100, HOUR));
    let mut publish = publisher.publish("t", msg("orphan"));
    // One poll accepts the message (there is room) and then waits for the batch.
    assert!((&mut publish).now_or_never().is_none());
    drop(publish);
    assert_eq!(publisher.pending(), 1);

    within(publisher.flush()).await.unwrap();
    assert_eq!(inner.calls()[0].payloads, ["orphan"]);
    assert_eq!(publisher.pending(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_full_buffer_makes_publishers_wait() {
    let inner = Inner::gated();
    let config = BatchConfig::builder()
        .max_batch_size(2)
        .max_pending(4)
        .max_latency(HOUR)
        .build()
        .unwrap();
    let publisher = batching(&inner, config);
    let receipts = enqueue_all(
        &publisher,
        &[("a", "1"), ("a", "2"), ("b", "3"), ("b", "4")],
    )
    .await;
    assert_eq!(publisher.pending(), 4);

    // Full: a waiting publisher does not get in before its deadline, and `try_enqueue`
    // says so at once.
    let waited =
        tokio::time::timeout(Duration::from_millis(10), publisher.enqueue("a", msg("5"))).await;
    assert!(waited.is_err(), "room appeared while every batch was held");
    assert!(matches!(
        publisher.try_enqueue("a", msg("5")),
        Err(Error::QueueFull { .. })
    ));
    assert_eq!(inner.sizes(), [2, 2]);

    // One batch answered makes room for two messages, and a waiting publisher gets in.
    let waiting = tokio::spawn({
        let publisher = publisher.clone();
        async move { publisher.enqueue("a", msg("5")).await.map(drop) }
    });
    inner.open(1);
    within(waiting).await.unwrap().unwrap();
    assert_eq!(publisher.pending(), 3);

    inner.open(2);
    within(publisher.flush()).await.unwrap();
    for result in join_all(receipts).await {
        result.unwrap();
    }
    assert_eq!(publisher.pending(), 0);
    assert_eq!(inner.sizes(), [2, 2, 1]);
}

#[tokio::test(start_paused = true)]
async fn batches_in_flight_are_capped_and_a_topic_keeps_its_order() {
    let inner = Inner::gated();
    let config = BatchConfig::builder()
        .max_batch_size(1)
        .max_concurrent_batches(2)
        .build()
        .unwrap();
    let publisher = batching(&inner, config);
    let receipts = enqueue_all(
        &publisher,
        &[("a", "a1"), ("a", "a2"), ("b", "b1"), ("c", "c1")],
    )
    .await;
    inner.until(|inner| inner.calls().len() == 2).await;
    assert!(inner.never(|inner| inner.calls().len() > 2).await);
    let topics: Vec<_> = inner.calls().into_iter().map(|call| call.topic).collect();
    // a2 waits behind a1 however many slots there are; c1 waits for a slot.
    assert_eq!(topics, ["a", "b"]);

    inner.open(4);
    for result in within(join_all(receipts)).await {
        result.unwrap();
    }
    let calls = inner.calls();
    let a: Vec<_> = calls
        .iter()
        .filter(|call| call.topic == "a")
        .flat_map(|call| call.payloads.clone())
        .collect();
    assert_eq!(a, ["a1", "a2"]);
    assert_eq!(calls.len(), 4);
}

#[tokio::test(start_paused = true)]
async fn flush_sends_open_batches_and_waits_for_their_answers() {
    let inner = Inner::new();
    let publisher = batching(&inner, config(100, HOUR));
    let start = Instant::now();
    let mut receipts = enqueue_all(&publisher, &[("a", "1"), ("a", "2"), ("b", "3")]).await;
    within(publisher.flush()).await.unwrap();
    assert_eq!(Instant::now(), start, "no latency was waited out");
    for receipt in &mut receipts {
        assert!(matches!(receipt.now_or_never(), Some(Ok(()))));
    }
    assert_eq!(inner.finished(), 2);
    // Nothing pending: flush returns at once.
    within(publisher.flush()).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn close_sends_everything_then_closes_the_inner_publisher_once() {
    let inner = Inner::new();
    let publisher = batching(&inner, config(100, HOUR));
    let start = Instant::now();
    let receipts = enqueue_all(&publisher, &[("a", "1"), ("b", "2"), ("a", "3")]).await;

    let (first, second) =
        within(async { tokio::join!(publisher.close(), publisher.close()) }).await;
    first.unwrap();
    second.unwrap();
    assert_eq!(Instant::now(), start);
    for result in join_all(receipts).await {
        result.unwrap();
    }
    assert_eq!(inner.sizes(), [2, 1]);
    assert_eq!(inner.closes(), 1);

    within(publisher.close()).await.unwrap();
    assert_eq!(inner.closes(), 1, "close is idempotent");
}

#[tokio::test(start_paused = true)]
async fn close_waits_for_batches_in_flight() {
    let inner = Inner::gated();
    let publisher = batching(&inner, config(1, HOUR));
    let receipt = publisher.enqueue("t", msg("1")).await.unwrap();
    let mut closing = tokio::spawn({
        let publisher = publisher.clone();
        async move { publisher.close().await }
    });
    inner.until(|inner| inner.calls().len() == 1).await;
    let early = tokio::time::timeout(Duration::from_secs(1), &mut closing).await;
    assert!(early.is_err(), "close returned while a batch was in flight");
    assert_eq!(
        inner.closes(),
        0,
        "not before the batch in flight is answered"
    );

    inner.open(1);
    within(closing).await.unwrap().unwrap();
    within(receipt).await.unwrap();
    assert_eq!(inner.closes(), 1);
}

#[tokio::test(start_paused = true)]
async fn everything_is_closed_after_close() {
    let inner = Inner::new();
    let publisher = batching(&inner, BatchConfig::default());
    within(publisher.close()).await.unwrap();

    assert!(is_closed(&publisher.publish("t", msg("1")).await));
    assert!(is_closed(
        &publisher.publish_batch("t", vec![msg("2")]).await
    ));
    assert!(matches!(
        publisher.enqueue("t", msg("3")).await,
        Err(Error::Closed { .. })
    ));
    assert!(matches!(
        publisher.try_enqueue("t", msg("4")),
        Err(Error::Closed { .. })
    ));
    assert!(is_closed(&publisher.flush().await));
    assert!(inner.calls().is_empty());
}

#[tokio::test(start_paused = true)]
async fn close_gives_up_after_its_timeout_and_fails_what_is_pending() {
    let inner = Inner::gated();
    let timeout = Duration::from_secs(2);
    let config = BatchConfig::builder()
        .max_batch_size(1)
        .close_timeout(timeout)
        .build()
        .unwrap();
    let publisher = batching(&inner, config);
    let receipts = enqueue_all(&publisher, &[("t", "held"), ("t", "behind")]).await;
    let start = Instant::now();

    let err = within(publisher.close()).await.unwrap_err();
    assert!(matches!(err, Error::Timeout { after, .. } if after == timeout));
    assert_eq!(Instant::now() - start, timeout);
    for result in join_all(receipts).await {
        assert!(is_closed(&result), "{result:?}");
    }
    assert_eq!(inner.closes(), 0);
    // The outcome is kept: closing again reports the same timeout.
    assert!(matches!(
        within(publisher.close()).await,
        Err(Error::Timeout { .. })
    ));
}

#[tokio::test(start_paused = true)]
async fn dropping_every_handle_without_close_fails_pending_messages_with_closed() {
    let inner = Inner::gated();
    let (tracked, task_ended) = inner.tracked();
    let publisher: BatchingPublisher = BatchingPublisher::new(tracked, config(2, HOUR));
    // One batch in flight (held at the gate), one open.
    let receipts = enqueue_all(&publisher, &[("t", "1"), ("t", "2"), ("t", "3")]).await;
    inner.until(|inner| inner.sizes() == [2]).await;

    // A clone going away stops nothing.
    let clone = publisher.clone();
    drop(publisher);
    let survivor = clone.enqueue("u", msg("4")).await.unwrap();

    drop(clone);
    let mut results = within(join_all(receipts)).await;
    results.push(within(survivor).await);
    assert!(results.iter().all(is_closed), "{results:?}");

    // The background task has ended and released the inner publisher, which it did not
    // close: it may be shared.
    within(task_ended).await.unwrap_err();
    assert_eq!(inner.closes(), 0);
    assert_eq!(inner.sizes(), [2], "nothing more was sent");
}

/// Forwards to [`Inner`], but checks a batch before it builds its future, as a publisher
/// written without `#[async_trait]` may, and panics there on a message marked to fail.
struct Eager(Arc<Inner>);

#[async_trait::async_trait]
impl Publisher for Eager {
    async fn publish(&self, topic: &str, message: switchyard_core::Message) -> Result<(), Error> {
        self.publish_batch(topic, vec![message]).await
    }

    fn publish_batch<'a, 'b, 'c>(
        &'a self,
        topic: &'b str,
        messages: Vec<switchyard_core::Message>,
    ) -> std::pin::Pin<Box<dyn Future<Output = Result<(), Error>> + Send + 'c>>
    where
        'a: 'c,
        'b: 'c,
        Self: 'c,
    {
        let marked = messages
            .iter()
            .any(|m| m.attributes().get(support::FAIL).is_some());
        assert!(
            !marked,
            "inner publisher panics before its future, as asked"
        );
        self.0.publish_batch(topic, messages)
    }

    async fn close(&self) -> Result<(), Error> {
        self.0.close().await
    }
}

#[tokio::test(start_paused = true)]
async fn a_publisher_panicking_before_it_returns_its_future_fails_its_batch_only() {
    let inner = Inner::new();
    let eager: Arc<dyn Publisher> = Arc::new(Eager(inner.clone()));
    let publisher = BatchingPublisher::new(eager, config(2, HOUR));
    let receipts = vec![
        publisher.enqueue("t", msg("1")).await.unwrap(),
        publisher.enqueue("t", failing("2", "panic")).await.unwrap(),
    ];
    for result in within(join_all(receipts)).await {
        let err = result.unwrap_err();
        assert!(
            matches!(err, Error::Transport { .. }) && !err.is_transient(),
            "{err}"
        );
    }
    within(publisher.publish_batch("t", vec![msg("3"), msg("4")]))
        .await
        .unwrap();
    assert_eq!(inner.sizes(), [2]);
    within(publisher.close()).await.unwrap();
}
