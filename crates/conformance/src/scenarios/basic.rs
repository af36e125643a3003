//! The basic scenarios: one topic end to end, two isolated topics, twenty topics at once.

use std::sync::Arc;

use futures::future::{join, join_all};
use switchyard_core::{MessageStream, Publisher};

use crate::{
    Outcome,
    ctx::{Ctx, Subscription},
    fixture::{batch::Batch, tally::Tally},
};

/// 100 messages (half published one by one, half in a batch) arrive with payloads and
/// attributes intact, and none arrives again once all are acked (nothing was nacked, so
/// even at least once nothing may); after close, the stream ends.
pub(crate) async fn publish_subscribe(cx: &Ctx<'_>) -> Outcome {
    let topic = cx.topic();
    let batch = Batch::new(&topic, "msg", 100);
    let tally = Tally::new(
        format!("reading `{topic}`"),
        &[&batch],
        cx.features.exactly_once,
    );
    let (one_by_one, batched) = batch.messages().split_at(50);
    let publisher = cx.publisher().await;
    let publish = async {
        cx.publish_all(&*publisher, &topic, one_by_one).await;
        cx.publish_batch(&*publisher, &topic, batched).await;
    };
    let mut subscription = if cx.publish_first() {
        cx.prepare_topic(&topic).await;
        publish.await;
        let mut subscription = cx.open_plain(&topic).await;
        cx.read_all(&mut subscription.stream, &tally).await;
        subscription
    } else {
        let mut subscription = cx.open_plain(&topic).await;
        join(publish, cx.read_all(&mut subscription.stream, &tally)).await;
        subscription
    };
    cx.expect_acks_honoured(&mut subscription.stream).await;
    cx.close_publisher(&*publisher).await;
    cx.close_subscriber(&*subscription.subscriber).await;
    cx.expect_end(&mut subscription.stream, "after close").await;
    Outcome::Passed
}

/// Two topics published to in turn: each subscription receives its topic's 100 messages
/// and none of the other's.
pub(crate) async fn topic(cx: &Ctx<'_>) -> Outcome {
    let topics = [cx.topic(), cx.topic()];
    let batches = [
        Batch::new(&topics[0], "first", 100),
        Batch::new(&topics[1], "second", 100),
    ];
    let tallies = [0, 1].map(|i| {
        Tally::new(
            format!("reading `{}`", topics[i]),
            &[&batches[i]],
            cx.features.exactly_once,
        )
    });
    let publisher = cx.publisher().await;
    let publish = async {
        for (first, second) in batches[0].messages().iter().zip(batches[1].messages()) {
            let budget = cx.config.message_timeout();
            cx.publish(&*publisher, &topics[0], first, budget).await;
            cx.publish(&*publisher, &topics[1], second, budget).await;
        }
    };
    // One subscriber for both topics, as in Watermill.
    let subscriber = cx.subscriber().await;
    let mut streams = Vec::new();
    if cx.publish_first() {
        for topic in &topics {
            cx.prepare_topic(topic).await;
        }
        publish.await;
        for topic in &topics {
            streams.push(cx.subscribe(&*subscriber, topic).await);
        }
        read_each(cx, &mut streams, &tallies).await;
    } else {
        for topic in &topics {
            streams.push(cx.subscribe(&*subscriber, topic).await);
        }
        join(publish, read_each(cx, &mut streams, &tallies)).await;
    }
    expect_no_strays(cx, &mut streams, &tallies).await;
    cx.close_publisher(&*publisher).await;
    cx.close_subscriber(&*subscriber).await;
    for stream in &mut streams {
        cx.expect_end(stream, "after close").await;
    }
    Outcome::Passed
}

/// Reads every stream to completion at once, each against its tally.
async fn read_each(cx: &Ctx<'_>, streams: &mut [MessageStream], tallies: &[Tally]) {
    join_all(
        streams
            .iter_mut()
            .zip(tallies)
            .map(|(stream, tally)| cx.read_all(stream, tally)),
    )
    .await;
}

/// Watches every stream at once for messages that arrive after its reader finished.
async fn expect_no_strays(cx: &Ctx<'_>, streams: &mut [MessageStream], tallies: &[Tally]) {
    join_all(
        streams
            .iter_mut()
            .zip(tallies)
            .map(|(stream, tally)| cx.expect_no_strays(stream, tally)),
    )
    .await;
}

/// 20 topics × 100 messages, each topic with its own publisher and subscriber, all at
/// once: every message arrives, on its own topic only.
pub(crate) async fn concurrent_subscribe_multiple_topics(cx: &Ctx<'_>) -> Outcome {
    const TOPICS: usize = 20;
    const MESSAGES: usize = 100;
    let mut topics = join_all((0..TOPICS).map(|i| one_topic(cx, i, MESSAGES))).await;
    // A reader that is done may still get a stray from a topic that is not: watch them all
    // once every topic is done.
    join_all(
        topics
            .iter_mut()
            .map(|(_, subscription, tally)| cx.expect_no_strays(&mut subscription.stream, tally)),
    )
    .await;
    // Close only once every topic is done: with a single instance, any close ends all.
    for (publisher, subscription, _) in topics {
        cx.close_publisher(&*publisher).await;
        cx.close_subscription(subscription).await;
    }
    Outcome::Passed
}

async fn one_topic(
    cx: &Ctx<'_>,
    i: usize,
    count: usize,
) -> (Arc<dyn Publisher>, Subscription, Tally) {
    let topic = cx.topic();
    let batch = Batch::new(&topic, &format!("topic{i}"), count);
    let tally = Tally::new(
        format!("reading `{topic}`"),
        &[&batch],
        cx.features.exactly_once,
    );
    let publisher = cx.publisher().await;
    let subscription = if cx.publish_first() {
        cx.prepare_topic(&topic).await;
        cx.publish_all(&*publisher, &topic, batch.messages()).await;
        let mut subscription = cx.open_plain(&topic).await;
        cx.read_all(&mut subscription.stream, &tally).await;
        subscription
    } else {
        let mut subscription = cx.open_plain(&topic).await;
        join(
            cx.publish_all(&*publisher, &topic, batch.messages()),
            cx.read_all(&mut subscription.stream, &tally),
        )
        .await;
        subscription
    };
    (publisher, subscription, tally)
}
