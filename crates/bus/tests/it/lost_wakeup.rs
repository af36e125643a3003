//! Regression test: on a multi-threaded runtime, a subscriber racing a publisher that stops
//! must still receive every message, with no wake-up lost at the end.

use std::time::Duration;

use futures::StreamExt;
use switchyard_bus::pubsub::{MemoryPubSub, PubSubConfig, SubscribeOptions};
use switchyard_core::Message;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_racing_a_publisher_receives_everything() {
    for round in 0..50 {
        let bus = MemoryPubSub::new(PubSubConfig::default());
        let mut subscription = bus
            .subscribe_with("t", SubscribeOptions::default())
            .unwrap();
        let publisher = bus.clone();
        let sent = 500;
        let producer = tokio::spawn(async move {
            for i in 0..sent {
                publisher
                    .publish("t", Message::new(format!("{i}")))
                    .await
                    .unwrap();
                if i % 20 == 0 {
                    tokio::task::yield_now().await;
                }
            }
        });
        let mut received = 0;
        while received < sent {
            match tokio::time::timeout(Duration::from_secs(5), subscription.next()).await {
                Ok(Some(Ok(message))) => {
                    message.ack();
                    received += 1;
                }
                other => panic!("round {round}: got {received} of {sent}, then {other:?}"),
            }
        }
        producer.await.unwrap();
        bus.close().await.unwrap();
    }
}
