//! The consumer-group scenario: every group gets every message, shared among its members.

use std::collections::HashMap;

use futures::{
    Stream, StreamExt,
    future::{join, join_all},
    stream::select_all,
};

use switchyard_core::{Message, Result};

use crate::{
    Outcome,
    ctx::{Ctx, Subscription, read::marking_end},
    fixture::{batch::Batch, tally::Tally},
};

const GROUPS: usize = 2;
const MEMBERS: usize = 3;
const PUBLISHERS: usize = 3;
const PER_PUBLISHER: usize = 100;

/// Two groups of three members and one subscriber outside any group; 300 messages from
/// three publishers. Each group, and the lone subscriber, receives every message; within
/// a group no message goes to every member (the group shares, it does not broadcast), and
/// with exactly once no message goes to two members.
pub(crate) async fn consumer_groups(cx: &Ctx<'_>) -> Outcome {
    if !cx.features.consumer_groups {
        return Outcome::NotApplicable("needs consumer_groups");
    }
    let topic = cx.topic();
    let batch = Batch::new(&topic, "msg", PUBLISHERS * PER_PUBLISHER);
    let groups: Vec<String> = (0..GROUPS).map(|g| format!("{topic}-group{g}")).collect();
    if cx.publish_first() {
        cx.prepare_topic(&topic).await;
        for group in &groups {
            cx.prepare_group(&topic, group).await;
        }
    }
    let mut members: Vec<Vec<Subscription>> = Vec::new();
    for group in &groups {
        members.push(join_all((0..MEMBERS).map(|_| cx.open_member(&topic, group))).await);
    }
    let mut lone = cx.open_plain(&topic).await;
    let once = cx.features.exactly_once;
    let lone_tally = Tally::new(
        format!("the subscriber of `{topic}` outside any group"),
        &[&batch],
        once,
    );
    let tallies: Vec<Tally> = groups
        .iter()
        .map(|group| Tally::new(format!("group `{group}`"), &[&batch], once))
        .collect();

    let publishers = join_all((0..PUBLISHERS).map(|_| cx.publisher())).await;
    let publish = join_all(
        publishers
            .iter()
            .zip(batch.messages().chunks(PER_PUBLISHER))
            .map(|(publisher, chunk)| cx.publish_all(&**publisher, &topic, chunk)),
    );
    let mut subscribers = Vec::new();
    let mut merged = Vec::new();
    for group_members in members {
        let streams: Vec<_> = group_members
            .into_iter()
            .enumerate()
            .map(|(member, subscription)| {
                subscribers.push(subscription.subscriber);
                // A member's stream that ends before the close fails the read.
                marking_end(subscription.stream).map(move |item| (member, item))
            })
            .collect();
        merged.push(select_all(streams));
    }
    let reads = join(
        join_all(
            merged
                .iter_mut()
                .zip(&tallies)
                .map(|(streams, tally)| read_group(cx, streams, tally)),
        ),
        cx.read_all(&mut lone.stream, &lone_tally),
    );
    join(publish, reads).await;

    for publisher in &publishers {
        cx.close_publisher(&**publisher).await;
    }
    for subscriber in subscribers {
        cx.close_subscriber(&*subscriber).await;
    }
    cx.close_subscription(lone).await;
    Outcome::Passed
}

/// Reads a group's merged member streams until the group has every message, then checks
/// that the group shared them rather than broadcasting.
async fn read_group<S>(cx: &Ctx<'_>, streams: &mut S, tally: &Tally)
where
    S: Stream<Item = (usize, Result<Message>)> + Unpin,
{
    let wait = cx.config.message_timeout();
    let mut receivers: HashMap<String, [bool; MEMBERS]> = HashMap::new();
    while !tally.is_complete() {
        let (member, item) = match tokio::time::timeout(wait, streams.next()).await {
            Ok(Some(tagged)) => tagged,
            Ok(None) => panic!(
                "{}: every member's stream ended ({})",
                tally.what(),
                tally.progress()
            ),
            Err(_) => panic!(
                "{}: no message arrived within {wait:?} ({})",
                tally.what(),
                tally.progress()
            ),
        };
        let message = item.unwrap_or_else(|err| {
            panic!(
                "{}: a member's stream yielded an error: {}",
                tally.what(),
                err.report()
            )
        });
        tally.record(&message);
        let key = tally.inspect(&message).to_owned();
        message.ack();
        receivers.entry(key).or_default()[member] = true;
    }
    if let Some((key, _)) = receivers
        .iter()
        .find(|(_, members)| members.iter().all(|m| *m))
    {
        panic!(
            "{}: `{key}` was delivered to every member: the group broadcasts instead of sharing",
            tally.what()
        );
    }
}
