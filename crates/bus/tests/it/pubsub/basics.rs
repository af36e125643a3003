//! Exact and pattern subscriptions, topic isolation, the core traits, and the limits.

use std::sync::Arc;

use switchyard_bus::pubsub::{MAX_TOPIC_LEN, SubscribeOptions, TopicError};
use switchyard_core::{Error, Limits, Publisher, Subscriber};

use super::*;

#[tokio::test]
async fn exact_and_pattern_subscriptions_get_what_they_match() {
    let bus = default_bus();
    let options = SubscribeOptions::default;
    let mut exact = bus.subscribe_with("orders.eu.created", options()).unwrap();
    let mut one = bus.subscribe_with("orders.*.created", options()).unwrap();
    let mut deep = bus.subscribe_with("orders.**", options()).unwrap();
    let mut regex = bus.subscribe_with(r"re:^orders\.us\.", options()).unwrap();
    let mut other = bus.subscribe_with("payments.*", options()).unwrap();

    for topic in [
        "orders.eu.created",
        "orders.us.created",
        "orders.us.refunded.late",
    ] {
        bus.publish(topic, msg(topic)).await.unwrap();
    }
    assert_eq!(recv_acked(&mut exact, 1).await, ["orders.eu.created"]);
    assert_eq!(
        recv_acked(&mut one, 2).await,
        ["orders.eu.created", "orders.us.created"]
    );
    assert_eq!(
        recv_acked(&mut deep, 3).await,
        [
            "orders.eu.created",
            "orders.us.created",
            "orders.us.refunded.late"
        ]
    );
    assert_eq!(
        recv_acked(&mut regex, 2).await,
        ["orders.us.created", "orders.us.refunded.late"]
    );
    for subscription in [&mut exact, &mut one, &mut deep, &mut regex, &mut other] {
        assert!(nothing_within(subscription, Duration::from_millis(20)).await);
    }
    assert_eq!(bus.snapshot().stats.unrouted, 0);
    bus.close().await.unwrap();
}

#[tokio::test]
async fn payload_and_attributes_arrive_intact_and_unrouted_messages_are_counted() {
    let bus = default_bus();
    let mut subscription = bus
        .subscribe_with("a", SubscribeOptions::default())
        .unwrap();
    bus.publish("nobody.listens", msg("lost")).await.unwrap();
    let sent = Message::builder()
        .message_type("orders.created")
        .attribute("tenant", "acme")
        .payload("{}")
        .build()
        .unwrap();
    bus.publish("a", sent.clone()).await.unwrap();
    let received = recv(&mut subscription).await;
    assert_eq!(received.payload(), sent.payload());
    assert_eq!(received.attributes(), sent.attributes());
    assert!(
        !received.acker().same_delivery(sent.acker()),
        "a delivery of its own"
    );
    assert_eq!(bus.snapshot().stats.unrouted, 1);
}

#[tokio::test]
async fn anything_written_against_the_core_traits_runs_on_it() {
    let bus = default_bus();
    let publisher: Arc<dyn Publisher> = Arc::new(bus.clone());
    let subscriber: Arc<dyn Subscriber> = Arc::new(bus.clone());
    let mut stream = subscriber.subscribe("jobs.*").await.unwrap();
    publisher
        .publish_batch("jobs.a", vec![msg("1"), msg("2")])
        .await
        .unwrap();
    for expected in ["1", "2"] {
        let message = tokio::time::timeout(DEADLINE, stream.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(body(&message), expected);
        message.ack();
    }
    Publisher::close(&*publisher).await.unwrap();
    Subscriber::close(&*subscriber).await.unwrap();
    assert!(
        tokio::time::timeout(DEADLINE, stream.next())
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn invalid_patterns_and_long_topics_are_typed_errors() {
    let bus = default_bus();
    let error = bus
        .subscribe_with("orders.[a-", SubscribeOptions::default())
        .unwrap_err();
    let Error::Transport { transient, source } = &error else {
        panic!("unexpected {error:?}");
    };
    assert!(!transient);
    assert!(matches!(
        source.downcast_ref::<TopicError>(),
        Some(TopicError::InvalidPattern(_))
    ));
    assert!(error.report().contains("invalid topic pattern"));

    let long = "x".repeat(MAX_TOPIC_LEN + 1);
    let error = bus.publish(&long, msg("m")).await.unwrap_err();
    let Error::Transport { source, .. } = &error else {
        panic!("unexpected {error:?}");
    };
    assert!(matches!(
        source.downcast_ref::<TopicError>(),
        Some(TopicError::TooLong { len, max }) if *len == MAX_TOPIC_LEN + 1 && *max == MAX_TOPIC_LEN
    ));
    bus.publish(&long[1..], msg("m")).await.unwrap();
}

#[tokio::test]
async fn the_size_limit_is_enforced_on_publish() {
    let limits = Limits::new().with_max_payload_bytes(4);
    let bus = bus(PubSubConfig::builder().limits(limits));
    let mut subscription = bus
        .subscribe_with("t", SubscribeOptions::default())
        .unwrap();
    let error = bus.publish("t", msg("12345")).await.unwrap_err();
    assert!(matches!(
        error,
        Error::TooLarge {
            size: 5,
            limit: 4,
            ..
        }
    ));
    bus.publish("t", msg("1234")).await.unwrap();
    assert_eq!(recv_acked(&mut subscription, 1).await, ["1234"]);
    assert_eq!(
        subscription.stats().delivered,
        1,
        "the rejected one was not delivered"
    );
}
