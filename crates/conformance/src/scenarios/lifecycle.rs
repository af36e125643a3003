//! The lifecycle check: close is idempotent, and a closed client refuses work with a typed
//! error.

use std::fmt::Debug;

use switchyard_core::Error;

use crate::{
    Outcome,
    ctx::{Ctx, within},
    fixture::{batch::Batch, tally::Tally},
};

/// A publisher closed twice refuses `publish` and `publish_batch` with
/// [`Error::Closed`]; other publishers keep working (unless every client is one
/// instance); a subscriber closed twice ends its stream and refuses `subscribe` with
/// [`Error::Closed`].
pub(crate) async fn lifecycle(cx: &Ctx<'_>) -> Outcome {
    let topic = cx.topic();
    let batch = Batch::new(&topic, "msg", 2);
    let (first, second) = (&batch.messages()[..1], &batch.messages()[1..]);
    let tally = Tally::new(
        format!("reading `{topic}`"),
        &[&batch],
        cx.features.exactly_once,
    );
    let mut subscription = cx.open_plain(&topic).await;
    let publisher = cx.publisher().await;
    cx.publish_all(&*publisher, &topic, first).await;
    cx.read_some(&mut subscription.stream, &tally, 1).await;

    cx.close_publisher(&*publisher).await;
    cx.close_publisher(&*publisher).await;
    let wait = cx.config.message_timeout();
    let refused = within(wait, publisher.publish(&topic, second[0].clone()), || {
        "publishing after close".to_owned()
    })
    .await;
    expect_closed("publish after close", refused);
    let refused = within(
        wait,
        publisher.publish_batch(&topic, second.to_vec()),
        || "publishing a batch after close".to_owned(),
    )
    .await;
    expect_closed("publish_batch after close", refused);

    if cx.features.require_single_instance {
        cx.expect_end(
            &mut subscription.stream,
            "a subscription of the one instance, after it was closed as a publisher",
        )
        .await;
    } else {
        // Closing one publisher leaves the others, and the subscribers, working.
        let other = cx.publisher().await;
        cx.publish_all(&*other, &topic, second).await;
        cx.read_all(&mut subscription.stream, &tally).await;
        cx.close_publisher(&*other).await;
    }

    let subscriber = &*subscription.subscriber;
    cx.close_subscriber(subscriber).await;
    cx.expect_end(
        &mut subscription.stream,
        "a subscription after its subscriber closed",
    )
    .await;
    cx.close_subscriber(subscriber).await;
    let refused = within(wait, subscriber.subscribe(&topic), || {
        "subscribing after close".to_owned()
    })
    .await;
    expect_closed("subscribe after close", refused.map(drop));
    Outcome::Passed
}

fn expect_closed<T: Debug>(what: &str, result: Result<T, Error>) {
    match result {
        Err(Error::Closed { .. }) => {}
        Err(other) => panic!(
            "{what} failed with `{}` instead of Error::Closed",
            other.report()
        ),
        Ok(value) => panic!("{what} succeeded ({value:?}) instead of failing with Error::Closed"),
    }
}
