//! The ordering scenario: per-key order at a single subscriber.

use std::collections::HashMap;

use futures::future::{join, join_all};
use switchyard_core::Message;

use crate::{
    Outcome,
    ctx::Ctx,
    fixture::{batch::Batch, tally::Tally},
};

const PUBLISHERS: usize = 4;
const KEYS_PER_PUBLISHER: usize = 4;
/// How many successive messages of one publisher share a partition key. More than one, so
/// that two adjacent messages of a publisher that swap places break per-key order (three
/// times in four); the keys still interleave, within each publisher's messages and across
/// publishers.
const RUN: usize = 4;
const TOTAL: usize = 1000;

/// The publisher of message `i`: messages are dealt to the publishers in turn.
fn publisher(i: usize) -> usize {
    i % PUBLISHERS
}

/// The partition key of message `i`: publisher `p` owns keys `4p .. 4p + 3` and cycles
/// through them in runs of [`RUN`] messages, so that 16 keys interleave and each key has
/// one publisher.
fn partition(i: usize) -> usize {
    let nth_of_publisher = i / PUBLISHERS;
    publisher(i) * KEYS_PER_PUBLISHER + (nth_of_publisher / RUN) % KEYS_PER_PUBLISHER
}

/// Which order a transport keeps at a single subscriber.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Order {
    /// Messages of one publisher with one partition key
    /// ([`guaranteed_order_single_subscriber`](crate::Features::guaranteed_order_single_subscriber)).
    PerKey,
    /// Every message of one publisher, whatever its key
    /// ([`guaranteed_order`](crate::Features::guaranteed_order)).
    PerPublisher,
}

/// 1000 messages over 16 partition keys from 4 concurrent publishers: a single subscriber
/// receives every key's messages in publish order, and with `guaranteed_order` every
/// publisher's.
pub(crate) async fn publish_subscribe_in_order(cx: &Ctx<'_>) -> Outcome {
    if !cx.features.ordered_for_single_subscriber() {
        return Outcome::NotApplicable(
            "needs guaranteed_order or guaranteed_order_single_subscriber",
        );
    }
    let order = if cx.features.guaranteed_order {
        Order::PerPublisher
    } else {
        Order::PerKey
    };
    let topic = cx.topic();
    let batch = Batch::partitioned(&topic, "msg", TOTAL, |i| format!("key{}", partition(i)));
    let tally = Tally::new(
        format!("reading `{topic}`"),
        &[&batch],
        cx.features.exactly_once,
    );
    let per_publisher: Vec<Vec<Message>> = (0..PUBLISHERS)
        .map(|p| {
            batch
                .messages()
                .iter()
                .skip(p)
                .step_by(PUBLISHERS)
                .cloned()
                .collect()
        })
        .collect();
    let publishers = join_all((0..PUBLISHERS).map(|_| cx.publisher())).await;
    let publish = join_all(
        publishers
            .iter()
            .zip(&per_publisher)
            .map(|(publisher, messages)| cx.publish_all(&**publisher, &topic, messages)),
    );
    let subscription = if cx.publish_first() {
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
    if let Err(violation) = check_order(&batch, &tally.first_order(), order) {
        panic!("reading `{topic}`: {violation}");
    }
    for publisher in &publishers {
        cx.close_publisher(&**publisher).await;
    }
    cx.close_subscription(subscription).await;
    Outcome::Passed
}

/// Checks that the keys in `received` (first deliveries, in arrival order) come in publish
/// order for every partition key, or for every publisher.
pub(crate) fn check_order(batch: &Batch, received: &[String], order: Order) -> Result<(), String> {
    let mut last: HashMap<usize, usize> = HashMap::new();
    for key in received {
        let Some(index) = batch.index_of(key) else {
            return Err(format!("`{key}` is not a message of this batch"));
        };
        let (group, what) = match order {
            Order::PerKey => (partition(index), "partition key"),
            Order::PerPublisher => (publisher(index), "publisher "),
        };
        if let Some(&previous) = last.get(&group)
            && previous > index
        {
            return Err(format!(
                "{what}{group}: `{key}` arrived after `{}`, which was published later",
                batch.key(previous)
            ));
        }
        last.insert(group, index);
    }
    Ok(())
}
