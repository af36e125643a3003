//! Scenarios about settling deliveries: nacks, unacked messages, and what ack and close
//! release.

use futures::future::join;
use switchyard_core::AckState;

use super::handover::{NEEDS_GROUPS, hand_over, with_first_member};
use crate::{
    Outcome,
    ctx::{Ctx, Subscription},
    fixture::{
        batch::{Batch, key_of},
        tally::Tally,
    },
};

/// The first 10 deliveries are nacked: all 100 messages still arrive. With
/// `guaranteed_order`, each of the 10 is the first message again (a nacked message comes
/// back before anything published after it), and the messages arrive in publish order.
pub(crate) async fn resend_on_error(cx: &Ctx<'_>) -> Outcome {
    const TOTAL: usize = 100;
    const NACKS: usize = 10;
    let topic = cx.topic();
    let batch = Batch::new(&topic, "msg", TOTAL);
    let tally = Tally::new(
        format!("reading `{topic}`"),
        &[&batch],
        cx.features.exactly_once,
    );
    let mut subscription = cx.open_plain(&topic).await;
    let publisher = cx.publisher().await;
    let ordered = cx.features.guaranteed_order;
    let consume = async {
        for nth in 1..=NACKS {
            let message = cx.receive(&mut subscription.stream, &tally).await;
            tally.inspect(&message);
            if ordered {
                expect_key(
                    &message,
                    &batch.key(0),
                    &format!(
                        "delivery {nth}, after the first message was nacked {} times",
                        nth - 1
                    ),
                );
            }
            message.nack();
        }
        cx.read_all(&mut subscription.stream, &tally).await;
        cx.expect_no_redelivery(&mut subscription.stream).await;
    };
    join(
        cx.publish_all(&*publisher, &topic, batch.messages()),
        consume,
    )
    .await;
    if ordered {
        expect_publish_order(&batch, &tally);
    }
    cx.close_publisher(&*publisher).await;
    cx.close_subscription(subscription).await;
    Outcome::Passed
}

/// Checks that the messages of `batch`, published one by one by one publisher, first
/// arrived in publish order.
fn expect_publish_order(batch: &Batch, tally: &Tally) {
    let received = tally.first_order();
    if let Some((position, key)) = received
        .iter()
        .enumerate()
        .find(|(i, key)| **key != batch.key(*i))
    {
        panic!(
            "{}: `{key}` arrived as message {} instead of `{}`, although order is guaranteed",
            tally.what(),
            position + 1,
            batch.key(position)
        );
    }
}

/// While the first message is unacked the second is not delivered, although it was
/// published; once the first is acked, the second follows, and once that is acked nothing
/// comes again.
pub(crate) async fn no_ack(cx: &Ctx<'_>) -> Outcome {
    if !cx.features.guaranteed_order {
        return Outcome::NotApplicable(
            "needs guaranteed_order: without it the next message may come before the ack",
        );
    }
    let topic = cx.topic();
    let batch = Batch::new(&topic, "msg", 2);
    let (first, second) = (&batch.messages()[..1], &batch.messages()[1..]);
    let tally = Tally::new(
        format!("reading `{topic}`"),
        &[&batch],
        cx.features.exactly_once,
    );
    let publisher = cx.publisher().await;
    let mut subscription = if cx.publish_first() {
        cx.prepare_topic(&topic).await;
        cx.publish_all(&*publisher, &topic, batch.messages()).await;
        cx.open_plain(&topic).await
    } else {
        let subscription = cx.open_plain(&topic).await;
        cx.publish_all(&*publisher, &topic, first).await;
        subscription
    };
    let delivered = cx.receive(&mut subscription.stream, &tally).await;
    expect_key(&delivered, &batch.key(0), "the first delivery");
    tally.record(&delivered);
    if !cx.publish_first() {
        // The quiet period starts only once the second message was published: watching
        // while its publish is still under way would prove nothing on a broker whose
        // publish takes longer than the period.
        cx.publish_all(&*publisher, &topic, second).await;
    }
    cx.expect_quiet(
        &mut subscription.stream,
        "the next message while the previous one is unacked",
    )
    .await;
    delivered.ack();
    let next = cx.receive(&mut subscription.stream, &tally).await;
    expect_key(
        &next,
        &batch.key(1),
        "the delivery after the first was acked",
    );
    tally.record(&next);
    next.ack();
    // As in Watermill: the acked message is not sent again.
    cx.expect_acks_honoured(&mut subscription.stream).await;
    cx.close_publisher(&*publisher).await;
    cx.close_subscription(subscription).await;
    Outcome::Passed
}

fn expect_key(message: &switchyard_core::Message, expected: &str, what: &str) {
    let key = key_of(message).unwrap_or_default();
    assert_eq!(
        key, expected,
        "{what} is `{key}` instead of `{expected}`, although order is guaranteed"
    );
}

/// Three successive members of a group each nack 100 deliveries of 50 messages and leave;
/// a last member then receives all 50.
pub(crate) async fn continue_after_errors(cx: &Ctx<'_>) -> Outcome {
    const TOTAL: usize = 50;
    const NACKERS: usize = 3;
    const NACKS: usize = 100;
    if !cx.features.consumer_groups {
        return Outcome::NotApplicable(NEEDS_GROUPS);
    }
    let topic = cx.topic();
    let group = format!("{topic}-errors");
    let batch = Batch::new(&topic, "msg", TOTAL);
    let tally = Tally::new(
        format!("the member of `{group}` after {NACKERS} that only nacked"),
        &[&batch],
        cx.features.exactly_once,
    );
    let (tally, topic, group) = (&tally, topic.as_str(), group.as_str());
    let last = with_first_member(cx, topic, group, &batch, |mut current| async move {
        for _ in 0..NACKERS {
            cx.nack_some(&mut current.stream, tally, NACKS).await;
            current = hand_over(cx, current, topic, group).await;
        }
        cx.read_all(&mut current.stream, tally).await;
        current
    })
    .await;
    cx.close_subscription(last).await;
    Outcome::Passed
}

/// Each of 20 deliveries arrives unsettled and is settled by its ack alone (a later nack
/// changes nothing); a 21st, held unacked, does not stop the subscriber from closing, the
/// stream ends, and settling it afterwards is harmless.
pub(crate) async fn message_cancellation(cx: &Ctx<'_>) -> Outcome {
    const ACKED: usize = 20;
    let topic = cx.topic();
    let batch = Batch::new(&topic, "msg", ACKED + 1);
    let tally = Tally::new(
        format!("reading `{topic}`"),
        &[&batch],
        cx.features.exactly_once,
    );
    let publisher = cx.publisher().await;
    let consume = |mut subscription: Subscription| {
        let tally = &tally;
        async move {
            for _ in 0..ACKED {
                let message = cx.receive(&mut subscription.stream, tally).await;
                let key = tally.inspect(&message).to_owned();
                assert_eq!(
                    message.acker().state(),
                    AckState::Pending,
                    "`{key}` was delivered already settled"
                );
                tally.record(&message);
                assert!(message.ack(), "`{key}`: the ack did not decide the outcome");
                assert_eq!(message.acker().state(), AckState::Acked);
                assert!(
                    !message.nack(),
                    "`{key}`: a nack after the ack changed the outcome"
                );
            }
            let held = cx.receive(&mut subscription.stream, tally).await;
            tally.inspect(&held);
            (subscription, held)
        }
    };
    let (subscription, held) = if cx.publish_first() {
        cx.prepare_topic(&topic).await;
        cx.publish_all(&*publisher, &topic, batch.messages()).await;
        consume(cx.open_plain(&topic).await).await
    } else {
        let subscription = cx.open_plain(&topic).await;
        join(
            cx.publish_all(&*publisher, &topic, batch.messages()),
            consume(subscription),
        )
        .await
        .1
    };
    let Subscription {
        subscriber,
        mut stream,
    } = subscription;
    // Close must not wait for the held message to be settled.
    cx.close_subscriber(&*subscriber).await;
    cx.expect_end(
        &mut stream,
        "a subscription closed with a message in flight",
    )
    .await;
    held.ack();
    assert_ne!(
        held.acker().state(),
        AckState::Pending,
        "a delivery could not be settled after its subscriber closed"
    );
    drop(held);
    cx.close_publisher(&*publisher).await;
    Outcome::Passed
}
