//! Scenarios in which successive members of one consumer group take turns: each reads
//! part of the messages and leaves mid-stream, and the next continues.

use futures::future::join;

use crate::{
    Outcome,
    ctx::{Ctx, Subscription},
    fixture::{batch::Batch, tally::Tally},
};

/// Why the hand-over scenarios need consumer groups.
pub(crate) const NEEDS_GROUPS: &str =
    "needs consumer_groups: successive subscribers continue from the position their group keeps";

/// Replaces `current` by a new member of `group`.
///
/// On a persistent transport the old member leaves first, so the group must keep its
/// position while it has no member. Otherwise the new member joins first, so that the
/// group is never empty and what the old member had not settled goes to the new one.
pub(crate) async fn hand_over(
    cx: &Ctx<'_>,
    current: Subscription,
    topic: &str,
    group: &str,
) -> Subscription {
    if cx.publish_first() {
        cx.leave(current).await;
        cx.open_member(topic, group).await
    } else {
        let next = cx.open_member(topic, group).await;
        cx.leave(current).await;
        next
    }
}

/// Runs `consume` on the first member of `group` while `batch` is published: after it on
/// a persistent transport (the group prepared first), alongside it otherwise.
pub(crate) async fn with_first_member<F, Fut>(
    cx: &Ctx<'_>,
    topic: &str,
    group: &str,
    batch: &Batch,
    consume: F,
) -> Subscription
where
    F: FnOnce(Subscription) -> Fut,
    Fut: Future<Output = Subscription>,
{
    let publisher = cx.publisher().await;
    let last = if cx.publish_first() {
        cx.prepare_group(topic, group).await;
        cx.publish_all(&*publisher, topic, batch.messages()).await;
        let first = cx.open_member(topic, group).await;
        consume(first).await
    } else {
        let first = cx.open_member(topic, group).await;
        join(
            cx.publish_all(&*publisher, topic, batch.messages()),
            consume(first),
        )
        .await
        .1
    };
    cx.close_publisher(&*publisher).await;
    last
}

/// 5000 messages read by successive members of one group, 1000 deliveries each, every one
/// leaving mid-stream: together they receive everything.
pub(crate) async fn continue_after_subscribe_close(cx: &Ctx<'_>) -> Outcome {
    const TOTAL: usize = 5000;
    const PER_MEMBER: usize = 1000;
    // Watermill allows four times as many turns as the batches need.
    const MAX_TURNS: usize = 4 * TOTAL / PER_MEMBER;
    if !cx.features.consumer_groups {
        return Outcome::NotApplicable(NEEDS_GROUPS);
    }
    let topic = cx.topic();
    let group = format!("{topic}-readers");
    let batch = Batch::new(&topic, "msg", TOTAL);
    let tally = Tally::new(
        format!("successive members of `{group}`"),
        &[&batch],
        cx.features.exactly_once,
    );
    let (tally, topic, group) = (&tally, topic.as_str(), group.as_str());
    let last = with_first_member(cx, topic, group, &batch, |mut current| async move {
        for turn in 1.. {
            cx.read_some(&mut current.stream, tally, PER_MEMBER).await;
            if tally.is_complete() {
                break;
            }
            assert!(
                turn < MAX_TURNS,
                "{}: still incomplete after {MAX_TURNS} members ({})",
                tally.what(),
                tally.progress()
            );
            current = hand_over(cx, current, topic, group).await;
        }
        current
    })
    .await;
    cx.close_subscription(last).await;
    Outcome::Passed
}

/// A member of a group receives ten messages, nacks nine, holds the tenth and cancels its
/// subscription by dropping the stream: the next member receives every message,
/// including the nacked and the held ones.
pub(crate) async fn subscribe_cancel(cx: &Ctx<'_>) -> Outcome {
    const TOTAL: usize = 50;
    const NACKED: usize = 9;
    if !cx.features.consumer_groups {
        return Outcome::NotApplicable(NEEDS_GROUPS);
    }
    let topic = cx.topic();
    let group = format!("{topic}-cancel");
    let batch = Batch::new(&topic, "msg", TOTAL);
    let tally = Tally::new(
        format!("the member of `{group}` after a cancelled one"),
        &[&batch],
        cx.features.exactly_once,
    );
    let (tally, topic, group) = (&tally, topic.as_str(), group.as_str());
    let last = with_first_member(cx, topic, group, &batch, |mut first| async move {
        // Nack one at a time, so that this also works where the next message waits for
        // the previous one to be settled.
        cx.nack_some(&mut first.stream, tally, NACKED).await;
        let held = cx.receive(&mut first.stream, tally).await;
        tally.inspect(&held);
        let cancel = |first: Subscription| {
            let Subscription { subscriber, stream } = first;
            drop(stream);
            drop(held);
            subscriber
        };
        let (cancelled, mut next) = if cx.publish_first() {
            let cancelled = cancel(first);
            (cancelled, cx.open_member(topic, group).await)
        } else {
            let next = cx.open_member(topic, group).await;
            (cancel(first), next)
        };
        cx.read_all(&mut next.stream, tally).await;
        if !cx.features.require_single_instance {
            cx.close_subscriber(&*cancelled).await;
        }
        next
    })
    .await;
    cx.close_subscription(last).await;
    Outcome::Passed
}
