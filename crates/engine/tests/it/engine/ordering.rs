//! Partition-key ordering: the same key in order, different keys in parallel.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
};

use switchyard_core::{Message, handler_fn};
use switchyard_engine::{Engine, KeyOrdering, RouterOptions};
use switchyard_routing::router::Router;
use tokio::sync::Notify;

use super::support::{ChannelSubscriber, RecordingPublisher, within};

const KEYS: usize = 8;
const PER_KEY: usize = 30;

fn keyed(key: &str, seq: usize) -> Message {
    Message::builder()
        .message_type("orders.step")
        .partition_key(key)
        .attribute("seq", seq.to_string())
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_with_the_same_key_are_handled_in_order() {
    let handled: Arc<Mutex<BTreeMap<String, Vec<usize>>>> = Arc::default();
    let log = handled.clone();
    let router = Router::builder()
        .handle(
            "orders.step",
            handler_fn(move |message: Message| {
                let log = log.clone();
                async move {
                    let attributes = message.attributes();
                    let key = attributes.partition_key().unwrap_or_default().to_owned();
                    let seq: usize = attributes
                        .get("seq")
                        .and_then(|s| s.parse().ok())
                        .unwrap_or(0);
                    // Uneven work, so that keys overtake each other across workers.
                    for _ in 0..(seq * 7 + key.len()) % 5 {
                        tokio::task::yield_now().await;
                    }
                    log.lock().unwrap().entry(key).or_default().push(seq);
                    Ok(vec![])
                }
            }),
        )
        .unwrap()
        .build();
    let engine = Engine::new();
    let (subscriber, feeder) = ChannelSubscriber::new(KEYS * PER_KEY);
    engine.add_subscriber("in", subscriber, "orders").unwrap();
    engine
        .add_router_with("orders", router, RouterOptions::new().workers(4))
        .unwrap();
    engine
        .add_publisher("mem://", RecordingPublisher::new())
        .unwrap();
    within("start", engine.start()).await.unwrap();
    for seq in 0..PER_KEY {
        for key in 0..KEYS {
            feeder.send(keyed(&format!("customer-{key}"), seq)).await;
        }
    }
    feeder.log.settled(KEYS * PER_KEY).await;
    let handled = handled.lock().unwrap().clone();
    assert_eq!(handled.len(), KEYS);
    let in_order: Vec<usize> = (0..PER_KEY).collect();
    for (key, seqs) in handled {
        assert_eq!(seqs, in_order, "{key}");
    }
}

/// The first message (key `blocker`) waits until a message with another key has been
/// handled: if keys were serialized, it would wait forever and the deadline would fail.
async fn check_other_keys_overtake_a_blocked_one(ordering: KeyOrdering) {
    let other_done = Arc::new(Notify::new());
    let notify = other_done.clone();
    let router = Router::builder()
        .handle(
            "orders.step",
            handler_fn(move |message: Message| {
                let notify = notify.clone();
                async move {
                    if message.attributes().partition_key() == Some("blocker") {
                        notify.notified().await;
                    } else {
                        notify.notify_one();
                    }
                    Ok(vec![])
                }
            }),
        )
        .unwrap()
        .build();
    let engine = Engine::new();
    let (subscriber, feeder) = ChannelSubscriber::new(32);
    engine.add_subscriber("in", subscriber, "orders").unwrap();
    engine
        .add_router_with(
            "orders",
            router,
            RouterOptions::new().workers(2).ordering(ordering),
        )
        .unwrap();
    within("start", engine.start()).await.unwrap();
    feeder.send(keyed("blocker", 0)).await;
    for key in 0..16 {
        feeder.send(keyed(&format!("other-{key}"), 0)).await;
    }
    feeder.log.settled(17).await;
}

#[tokio::test]
async fn different_keys_run_in_parallel() {
    check_other_keys_overtake_a_blocked_one(KeyOrdering::PerPartitionKey).await;
}

#[tokio::test]
async fn unordered_routers_run_everything_in_parallel() {
    check_other_keys_overtake_a_blocked_one(KeyOrdering::Unordered).await;
}
