//! The traits are object-safe and behave as documented when stored as `Arc<dyn ...>`.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use futures::{StreamExt, stream};
use switchyard_core::{
    AckSink, AckState, Acker, Error, Handler, Limits, Message, MessageStream, NackCause, Publisher,
    Result, Subscriber, handler_fn,
};

/// A publisher that records what it was given and fails on a marked message.
#[derive(Default)]
struct Recording {
    published: Mutex<Vec<(String, Message)>>,
    closed: Mutex<bool>,
}

#[async_trait]
impl Publisher for Recording {
    async fn publish(&self, topic: &str, message: Message) -> Result<()> {
        if *self.closed.lock().unwrap() {
            return Err(Error::Closed {
                component: "recording publisher",
            });
        }
        Limits::default().check(&message)?;
        if message.attributes().get("fail").is_some() {
            return Err(Error::transient_transport("broker unavailable"));
        }
        self.published
            .lock()
            .unwrap()
            .push((topic.to_owned(), message));
        Ok(())
    }

    async fn close(&self) -> Result<()> {
        *self.closed.lock().unwrap() = true;
        Ok(())
    }
}

#[tokio::test]
async fn default_batch_publishes_in_order_and_stops_at_the_first_error() {
    let recording = Arc::new(Recording::default());
    let publisher: Arc<dyn Publisher> = recording.clone();
    let ok = |n: &str| Message::builder().payload(n.to_owned()).build().unwrap();
    let failing = Message::builder().attribute("fail", "1").build().unwrap();

    publisher
        .publish_batch("t", vec![ok("1"), ok("2")])
        .await
        .unwrap();
    let err = publisher
        .publish_batch("t", vec![ok("3"), failing, ok("4")])
        .await
        .unwrap_err();
    assert!(err.is_transient());

    let payloads: Vec<_> = recording
        .published
        .lock()
        .unwrap()
        .iter()
        .map(|(topic, m)| format!("{topic}/{}", String::from_utf8_lossy(m.payload())))
        .collect();
    assert_eq!(payloads, ["t/1", "t/2", "t/3"]);

    publisher.close().await.unwrap();
    let closed = publisher.publish("t", ok("5")).await.unwrap_err();
    assert!(matches!(closed, Error::Closed { .. }));
}

#[tokio::test]
async fn oversized_messages_get_a_typed_error() {
    let publisher: Arc<dyn Publisher> = Arc::new(Recording::default());
    let big = Message::new(vec![0; Limits::DEFAULT_MAX_PAYLOAD_BYTES + 1]);
    let err = publisher.publish("t", big).await.unwrap_err();
    assert!(matches!(err, Error::TooLarge { .. }), "{err}");
}

/// Counts what upstream hears.
#[derive(Clone, Default)]
struct Upstream(Arc<Mutex<Vec<String>>>);

impl AckSink for Upstream {
    fn ack(&self) {
        self.0.lock().unwrap().push("ack".into());
    }
    fn nack(&self, cause: NackCause) {
        self.0.lock().unwrap().push(format!("nack:{cause:?}"));
    }
}

/// A subscriber that replays a fixed list, each with its own acker.
struct Replay(Upstream);

#[async_trait]
impl Subscriber for Replay {
    async fn subscribe(&self, topic: &str) -> Result<MessageStream> {
        let messages: Vec<Result<Message>> = (0..3)
            .map(|i| {
                Message::builder()
                    .subject(format!("{topic}-{i}"))
                    .acker(Acker::new(self.0.clone()))
                    .build()
            })
            .collect();
        Ok(Box::pin(stream::iter(messages)))
    }

    async fn close(&self) -> Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn consumer_settles_each_delivery_and_drops_count_as_nacks() {
    let upstream = Upstream::default();
    let subscriber: Arc<dyn Subscriber> = Arc::new(Replay(upstream.clone()));
    let mut stream = subscriber.subscribe("orders").await.unwrap();

    let first = stream.next().await.unwrap().unwrap();
    assert!(first.ack());
    let second = stream.next().await.unwrap().unwrap();
    assert!(second.nack());
    let third = stream.next().await.unwrap().unwrap();
    assert_eq!(third.acker().state(), AckState::Pending);
    drop(third);
    assert!(stream.next().await.is_none());

    assert_eq!(
        *upstream.0.lock().unwrap(),
        ["ack", "nack:Explicit", "nack:Dropped"]
    );
}

#[tokio::test]
async fn handlers_are_object_safe_and_do_not_settle() {
    let handler: Arc<dyn Handler> = Arc::new(handler_fn(|message: Message| async move {
        let out = Message::builder()
            .message_type("echo")
            .causation_id(message.attributes().id().unwrap_or_default())
            .payload(message.payload().clone())
            .build()?;
        Ok(vec![out])
    }));
    let upstream = Upstream::default();
    let input = Message::builder()
        .payload("x")
        .acker(Acker::new(upstream.clone()))
        .build()
        .unwrap();

    let out = handler.handle(&input).await.unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].attributes().causation_id(), input.attributes().id());
    assert_eq!(
        input.acker().state(),
        AckState::Pending,
        "the caller settles, not the handler"
    );
    assert!(input.ack());
}
