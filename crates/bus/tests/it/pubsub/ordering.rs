//! Per-publisher order for a single subscriber, against the trivial model: what one
//! publisher publishes one after the other arrives in that order, whatever the buffer.

use proptest::prelude::*;
use switchyard_bus::pubsub::{SlowConsumerPolicy, SubscribeOptions};

use super::*;

/// Publishes `count` messages from each of `publishers` concurrent publishers to one
/// subscriber, and returns what arrived, as (publisher, sequence) pairs.
async fn run(publishers: usize, count: usize, buffer: usize, pattern: bool) -> Vec<(usize, usize)> {
    let bus = default_bus();
    let options = SubscribeOptions::builder()
        .buffer(buffer)
        .policy(SlowConsumerPolicy::Block {
            timeout: Duration::from_secs(60),
        })
        .build()
        .unwrap();
    let mut subscription = bus
        .subscribe_with(if pattern { "orders.*" } else { "orders.eu" }, options)
        .unwrap();
    let tasks: Vec<_> = (0..publishers)
        .map(|publisher| {
            let bus = bus.clone();
            tokio::spawn(async move {
                for sequence in 0..count {
                    let text = format!("{publisher}:{sequence}");
                    bus.publish("orders.eu", msg(text)).await.unwrap();
                }
            })
        })
        .collect();
    let mut arrived = Vec::new();
    for text in recv_acked(&mut subscription, publishers * count).await {
        let (publisher, sequence) = text.split_once(':').unwrap();
        arrived.push((publisher.parse().unwrap(), sequence.parse().unwrap()));
    }
    for task in tasks {
        task.await.unwrap();
    }
    bus.close().await.unwrap();
    arrived
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn each_publishers_messages_arrive_in_order(
        publishers in 1usize..5,
        count in 1usize..60,
        buffer in 1usize..8,
        pattern in any::<bool>(),
    ) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let arrived = runtime.block_on(run(publishers, count, buffer, pattern));
        prop_assert_eq!(arrived.len(), publishers * count);
        for publisher in 0..publishers {
            let sequences: Vec<usize> = arrived
                .iter()
                .filter(|(from, _)| *from == publisher)
                .map(|(_, sequence)| *sequence)
                .collect();
            prop_assert_eq!(sequences, (0..count).collect::<Vec<_>>());
        }
    }
}
