//! Scenarios about concurrency: many publishers and subscribers at once, subscribers that
//! close together, publishers that close after a burst.

use std::sync::Arc;

use futures::{
    StreamExt,
    future::{join, join_all},
    stream::select_all,
};
use switchyard_core::{Error, MessageStream, Publisher};

use crate::{
    Outcome,
    ctx::{Ctx, read::marking_end, within},
    fixture::{batch::Batch, tally::Tally},
};

/// 5000 messages from 50 concurrent publishers. With consumer groups, 50 members of one
/// group share them and together receive every one; without, 4 independent subscribers
/// each receive every one. Once everything is closed, every stream ends.
pub(crate) async fn concurrent_subscribe(cx: &Ctx<'_>) -> Outcome {
    const PUBLISHERS: usize = 50;
    const PER_PUBLISHER: usize = 100;
    const MEMBERS: usize = 50;
    const PLAIN_SUBSCRIBERS: usize = 4;
    let topic = cx.topic();
    let batch = Batch::new(&topic, "msg", PUBLISHERS * PER_PUBLISHER);
    let publishers = join_all((0..PUBLISHERS).map(|_| cx.publisher())).await;
    let publish = join_all(
        publishers
            .iter()
            .zip(batch.messages().chunks(PER_PUBLISHER))
            .map(|(publisher, chunk)| cx.publish_all(&**publisher, &topic, chunk)),
    );
    let once = cx.features.exactly_once;
    let (subscribers, mut streams): (Vec<_>, Vec<MessageStream>) = if cx.features.consumer_groups {
        let group = format!("{topic}-workers");
        let members = join_all((0..MEMBERS).map(|_| cx.open_member(&topic, &group))).await;
        let (subscribers, streams): (Vec<_>, Vec<_>) = members
            .into_iter()
            .map(|member| (member.subscriber, member.stream))
            .unzip();
        // Ends once every member's stream has ended; a member's stream that ends before
        // the close fails the read.
        let mut merged = select_all(streams.into_iter().map(marking_end)).boxed();
        let tally = Tally::new(format!("group `{group}` on `{topic}`"), &[&batch], once);
        join(publish, cx.read_all(&mut merged, &tally)).await;
        (subscribers, vec![merged])
    } else {
        let mut subscriptions =
            join_all((0..PLAIN_SUBSCRIBERS).map(|_| cx.open_plain(&topic))).await;
        let tallies: Vec<Tally> = (0..PLAIN_SUBSCRIBERS)
            .map(|i| Tally::new(format!("subscriber {i} of `{topic}`"), &[&batch], once))
            .collect();
        let reads = join_all(
            subscriptions
                .iter_mut()
                .zip(&tallies)
                .map(|(subscription, tally)| cx.read_all(&mut subscription.stream, tally)),
        );
        join(publish, reads).await;
        subscriptions
            .into_iter()
            .map(|subscription| (subscription.subscriber, subscription.stream))
            .unzip()
    };
    close_all(cx, &publishers).await;
    for subscriber in subscribers {
        cx.close_subscriber(&*subscriber).await;
    }
    for (at, stream) in streams.iter_mut().enumerate() {
        cx.expect_end(
            stream,
            &format!("stream {at} of `{topic}`, after every close"),
        )
        .await;
    }
    Outcome::Passed
}

/// 20 subscribers subscribe at once, then close at once while messages are being
/// published; afterwards a new subscriber still receives 100 new messages.
pub(crate) async fn concurrent_close(cx: &Ctx<'_>) -> Outcome {
    const SUBSCRIBERS: usize = 20;
    let topic = cx.topic();
    let noise = Batch::new(&topic, "noise", 200);
    let batch = Batch::new(&topic, "msg", 100);
    let subscriptions = join_all((0..SUBSCRIBERS).map(|_| cx.open_plain(&topic))).await;
    let noise_publisher = cx.publisher().await;
    join(
        cx.publish_all(&*noise_publisher, &topic, noise.messages()),
        join_all(
            subscriptions
                .into_iter()
                .map(|subscription| cx.leave(subscription)),
        ),
    )
    .await;

    let publisher = cx.publisher().await;
    let tally = Tally::new(
        format!("a subscriber of `{topic}` after the others closed"),
        &[&batch],
        cx.features.exactly_once,
    )
    .ignoring(&noise);
    let mut subscription = cx.open_plain(&topic).await;
    join(
        cx.publish_all(&*publisher, &topic, batch.messages()),
        cx.read_all(&mut subscription.stream, &tally),
    )
    .await;
    cx.close_publisher(&*noise_publisher).await;
    cx.close_publisher(&*publisher).await;
    cx.close_subscription(subscription).await;
    Outcome::Passed
}

/// 10000 messages from 20 concurrent publishers, which then close: nothing they published
/// is lost, and each refuses to publish afterwards.
pub(crate) async fn publisher_close(cx: &Ctx<'_>) -> Outcome {
    const PUBLISHERS: usize = 20;
    const PER_PUBLISHER: usize = 500;
    let topic = cx.topic();
    let batch = Batch::new(&topic, "msg", PUBLISHERS * PER_PUBLISHER);
    let tally = Tally::new(
        format!("reading `{topic}`"),
        &[&batch],
        cx.features.exactly_once,
    );
    let publishers = join_all((0..PUBLISHERS).map(|_| cx.publisher())).await;
    let publish = async {
        join_all(
            publishers
                .iter()
                .zip(batch.messages().chunks(PER_PUBLISHER))
                .map(|(publisher, chunk)| cx.publish_all(&**publisher, &topic, chunk)),
        )
        .await;
    };
    let subscription = if cx.features.require_single_instance {
        // Closing a publisher closes the subscriptions too: read everything first, then
        // close every publisher at once and check that the stream ends.
        let mut subscription = cx.open_plain(&topic).await;
        join(publish, cx.read_all(&mut subscription.stream, &tally)).await;
        close_all(cx, &publishers).await;
        cx.expect_end(&mut subscription.stream, "after every publisher was closed")
            .await;
        subscription
    } else if cx.publish_first() {
        cx.prepare_topic(&topic).await;
        publish.await;
        close_all(cx, &publishers).await;
        let mut subscription = cx.open_plain(&topic).await;
        cx.read_all(&mut subscription.stream, &tally).await;
        subscription
    } else {
        let mut subscription = cx.open_plain(&topic).await;
        let publish_then_close = async {
            publish.await;
            close_all(cx, &publishers).await;
        };
        join(
            publish_then_close,
            cx.read_all(&mut subscription.stream, &tally),
        )
        .await;
        subscription
    };
    let late = batch.messages()[0].clone();
    for publisher in &publishers {
        let result = within(
            cx.config.message_timeout(),
            publisher.publish(&topic, late.clone()),
            || "publishing after close".to_owned(),
        )
        .await;
        match result {
            Err(Error::Closed { .. }) => {}
            other => panic!("publishing after close returned {other:?} instead of Error::Closed"),
        }
    }
    cx.close_subscription(subscription).await;
    Outcome::Passed
}

/// Closes every publisher at once.
async fn close_all(cx: &Ctx<'_>, publishers: &[Arc<dyn Publisher>]) {
    join_all(
        publishers
            .iter()
            .map(|publisher| cx.close_publisher(&**publisher)),
    )
    .await;
}
