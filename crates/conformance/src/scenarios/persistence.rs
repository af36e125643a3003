//! Scenarios about what outlives a subscriber or the broker itself: old messages for new
//! subscribers, and delivery across broker restarts.

use futures::future::join;

use crate::{
    Outcome,
    ctx::{Ctx, read::StreamErrors, within},
    fixture::{batch::Batch, tally::Tally},
};

/// 100 messages published before anyone subscribed, with no preparation: two subscribers
/// that subscribe afterwards each receive all of them.
pub(crate) async fn new_subscriber_receives_old_messages(cx: &Ctx<'_>) -> Outcome {
    const TOTAL: usize = 100;
    const SUBSCRIBERS: usize = 2;
    if !cx.features.new_subscriber_receives_old_messages {
        return Outcome::NotApplicable("needs new_subscriber_receives_old_messages");
    }
    let topic = cx.topic();
    let batch = Batch::new(&topic, "old", TOTAL);
    let publisher = cx.publisher().await;
    cx.publish_all(&*publisher, &topic, batch.messages()).await;
    let mut subscriptions = Vec::new();
    for i in 0..SUBSCRIBERS {
        let tally = Tally::new(
            format!("new subscriber {i} of `{topic}`"),
            &[&batch],
            cx.features.exactly_once,
        );
        let mut subscription = cx.open_plain(&topic).await;
        cx.read_all(&mut subscription.stream, &tally).await;
        subscriptions.push(subscription);
    }
    cx.close_publisher(&*publisher).await;
    for subscription in subscriptions {
        cx.close_subscription(subscription).await;
    }
    Outcome::Passed
}

/// 10000 messages published one by one while the broker is restarted twice (after a third
/// and after half of them): everything published arrives. Transient errors from the
/// publisher and the stream are retried and skipped, within the restart timeout.
pub(crate) async fn reconnect(cx: &Ctx<'_>) -> Outcome {
    const TOTAL: usize = 10_000;
    const RESTARTS: [usize; 2] = [TOTAL / 3, TOTAL / 2];
    if !cx.features.restart_service {
        return Outcome::NotApplicable("needs restart_service");
    }
    let topic = cx.topic();
    let batch = Batch::new(&topic, "msg", TOTAL);
    let tally = Tally::new(
        format!("reading `{topic}` across restarts"),
        &[&batch],
        cx.features.exactly_once,
    );
    let wait = cx.config.restart_timeout();
    if cx.publish_first() {
        cx.prepare_topic(&topic).await;
    }
    let mut subscription = cx.open_plain(&topic).await;
    let publisher = cx.publisher().await;
    let publish = async {
        for (i, message) in batch.messages().iter().enumerate() {
            if RESTARTS.contains(&i) {
                let restarted = within(wait, cx.harness().restart(), || {
                    format!("restarting the broker after {i} messages")
                })
                .await;
                restarted.unwrap_or_else(|err| {
                    panic!("the harness could not restart the broker: {}", err.report())
                });
            }
            cx.publish(&*publisher, &topic, message, wait).await;
        }
    };
    let read = async {
        while !tally.is_complete() {
            let message = cx
                .receive_within(
                    &mut subscription.stream,
                    &tally,
                    wait,
                    StreamErrors::SkipTransient,
                )
                .await;
            tally.record(&message);
            message.ack();
        }
    };
    join(publish, read).await;
    cx.close_publisher(&*publisher).await;
    cx.close_subscription(subscription).await;
    Outcome::Passed
}
