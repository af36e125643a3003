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
const TOTAL: usize = 1000;

/// The partition key of message `i`: publisher `i % 4` owns keys `4p .. 4p + 3` and cycles
/// through them, so that 16 keys interleave and each key has one publisher.
fn partition(i: usize) -> usize {
    let publisher = i % PUBLISHERS;
    publisher * KEYS_PER_PUBLISHER + (i / PUBLISHERS) % KEYS_PER_PUBLISHER
}

/// 1000 messages over 16 partition keys from 4 concurrent publishers, each publishing its
/// keys in order: a single subscriber receives every key's messages in publish order.
pub(crate) async fn publish_subscribe_in_order(cx: &Ctx<'_>) -> Outcome {
    if !cx.features.ordered_for_single_subscriber() {
        return Outcome::NotApplicable(
            "needs guaranteed_order or guaranteed_order_single_subscriber",
        );
    }
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
    if let Err(violation) = check_order(&batch, &tally.first_order()) {
        panic!("reading `{topic}`: {violation}");
    }
    for publisher in &publishers {
        cx.close_publisher(&**publisher).await;
    }
    cx.close_subscription(subscription).await;
    Outcome::Passed
}

/// Checks that, for every partition key, the keys in `received` (first deliveries, in
/// arrival order) come in publish order.
pub(crate) fn check_order(batch: &Batch, received: &[String]) -> Result<(), String> {
    let mut last: HashMap<usize, usize> = HashMap::new();
    for key in received {
        let Some(index) = batch.index_of(key) else {
            return Err(format!("`{key}` is not a message of this batch"));
        };
        let partition = partition(index);
        if let Some(&previous) = last.get(&partition)
            && previous > index
        {
            return Err(format!(
                "partition key{partition}: `{key}` arrived after `{}`, which was published later",
                batch.key(previous)
            ));
        }
        last.insert(partition, index);
    }
    Ok(())
}
