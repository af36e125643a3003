//! Consumer groups: one member per message, every group and every ungrouped subscriber
//! gets everything, full members are skipped, and a leaving member's messages stay in the
//! group.

use switchyard_bus::pubsub::{SlowConsumerPolicy, SubscribeOptions};

use super::*;

fn member_of(group: &str) -> SubscribeOptions {
    SubscribeOptions::builder().group(group).build().unwrap()
}

#[tokio::test]
async fn each_group_gets_every_message_once_and_members_take_turns() {
    let bus = default_bus();
    let mut billing_a = bus
        .subscribe_with("orders.*", member_of("billing"))
        .unwrap();
    let mut billing_b = bus
        .subscribe_with("orders.*", member_of("billing"))
        .unwrap();
    let mut audit = bus.subscribe_with("orders.*", member_of("audit")).unwrap();
    let mut alone = bus
        .subscribe_with("orders.*", SubscribeOptions::default())
        .unwrap();

    for n in 0..10 {
        bus.publish("orders.created", msg(n.to_string()))
            .await
            .unwrap();
    }
    let mut billed = recv_acked(&mut billing_a, 5).await;
    let from_b = recv_acked(&mut billing_b, 5).await;
    assert!(nothing_within(&mut billing_a, Duration::from_millis(20)).await);
    assert!(nothing_within(&mut billing_b, Duration::from_millis(20)).await);
    // Round-robin: the members alternate.
    assert_eq!(billed, ["0", "2", "4", "6", "8"]);
    assert_eq!(from_b, ["1", "3", "5", "7", "9"]);
    billed.extend(from_b);
    billed.sort_by_key(|n| n.parse::<u32>().unwrap());
    assert_eq!(billed, numbers(10));
    assert_eq!(recv_acked(&mut audit, 10).await, numbers(10));
    assert_eq!(recv_acked(&mut alone, 10).await, numbers(10));

    let snapshot = bus.snapshot();
    let groups: Vec<_> = snapshot
        .subscriptions
        .iter()
        .map(|s| (s.group.as_deref(), s.stats.acked))
        .collect();
    assert_eq!(
        groups,
        [
            (Some("billing"), 5),
            (Some("billing"), 5),
            (Some("audit"), 10),
            (None, 10)
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_full_member_is_skipped_while_another_has_room() {
    let bus = default_bus();
    let small = SubscribeOptions::builder()
        .group("g")
        .buffer(1)
        .policy(SlowConsumerPolicy::Fail)
        .build()
        .unwrap();
    let mut stuck = bus.subscribe_with("t", small).unwrap();
    let mut busy = bus.subscribe_with("t", member_of("g")).unwrap();
    for n in 0..6 {
        bus.publish("t", msg(n.to_string())).await.unwrap();
    }
    // The stuck member took one message and then was full: the rest went to the other.
    assert_eq!(stuck.stats().queue_depth, 1);
    assert_eq!(recv_acked(&mut busy, 5).await, ["1", "2", "3", "4", "5"]);
    assert_eq!(recv_acked(&mut stuck, 1).await, ["0"]);

    // With every member full, the policy of the member whose turn it is applies.
    let mut full = bus
        .subscribe_with(
            "u",
            SubscribeOptions::builder()
                .group("h")
                .buffer(1)
                .policy(SlowConsumerPolicy::Fail)
                .build()
                .unwrap(),
        )
        .unwrap();
    bus.publish("u", msg("a")).await.unwrap();
    assert!(matches!(
        bus.publish("u", msg("b")).await,
        Err(switchyard_core::Error::QueueFull { .. })
    ));
    assert_eq!(recv_acked(&mut full, 1).await, ["a"]);
}

#[tokio::test(start_paused = true)]
async fn a_leaving_member_hands_its_queued_and_unacked_messages_to_the_group() {
    let bus = bus(PubSubConfig::builder().redelivery_delay(Duration::from_millis(100)));
    let mut leaving = bus.subscribe_with("t", member_of("g")).unwrap();
    let mut staying = bus.subscribe_with("t", member_of("g")).unwrap();
    for n in 0..4 {
        bus.publish("t", msg(n.to_string())).await.unwrap();
    }
    // "0" and "2" went to the leaving member; it holds "0" unacked and "2" is queued.
    let unacked = recv(&mut leaving).await;
    assert_eq!(body(&unacked), "0");
    assert_eq!(recv_acked(&mut staying, 2).await, ["1", "3"]);
    drop(leaving);
    assert_eq!(bus.snapshot().subscriptions.len(), 1);

    // The queued one moves at once; the unacked one once it is dropped and backed off.
    assert_eq!(recv_acked(&mut staying, 1).await, ["2"]);
    let dropped_at = tokio::time::Instant::now();
    drop(unacked);
    assert_eq!(recv_acked(&mut staying, 1).await, ["0"]);
    assert!(dropped_at.elapsed() >= Duration::from_millis(100));
    let stats = staying.stats();
    assert_eq!((stats.acked, stats.redelivered, stats.in_flight), (4, 1, 0));
    assert_eq!(bus.snapshot().stats.discarded, 0, "nothing lost");
}

#[tokio::test(start_paused = true)]
async fn a_nack_after_the_whole_group_left_goes_to_the_group_formed_again() {
    let bus = default_bus();
    let mut first = bus.subscribe_with("t", member_of("g")).unwrap();
    bus.publish("t", msg("m")).await.unwrap();
    let message = recv(&mut first).await;
    message.nack();
    drop(message);
    drop(first);
    let mut second = bus.subscribe_with("t", member_of("g")).unwrap();
    assert_eq!(recv_acked(&mut second, 1).await, ["m"]);
}

#[tokio::test(start_paused = true)]
async fn a_stalled_member_is_not_handed_the_redeliveries_of_a_member_that_nacks() {
    const BUFFER: usize = 2;
    const MAX_IN_FLIGHT: usize = 2;
    let bus = bus(PubSubConfig::builder()
        .redelivery_delay(Duration::from_millis(1))
        .max_redelivery_delay(Duration::from_millis(1)));
    let options = SubscribeOptions::builder()
        .group("workers")
        .buffer(BUFFER)
        .max_in_flight(MAX_IN_FLIGHT)
        .policy(SlowConsumerPolicy::Fail)
        .build()
        .unwrap();
    let stalled = bus.subscribe_with("jobs", options.clone()).unwrap();
    let mut failing = bus.subscribe_with("jobs", options).unwrap();
    for n in 0..200 {
        // Refused with `QueueFull` once both members are full: that is the backpressure.
        let _ = bus.publish("jobs", msg(n.to_string())).await;
        for _ in 0..4 {
            match tokio::time::timeout(Duration::from_millis(3), failing.next()).await {
                Ok(Some(Ok(message))) => {
                    message.nack();
                }
                _ => break,
            }
        }
    }
    // The stalled member's queue and retry lane stay within its buffer and in-flight
    // limit (one more for a move racing its own stream); they used to take every
    // redelivery of the nacking member, without bound.
    let stats = stalled.stats();
    assert!(
        stats.queue_depth <= BUFFER + MAX_IN_FLIGHT + 1 && stats.in_flight <= MAX_IN_FLIGHT + 1,
        "{stats:?}"
    );
    assert!(failing.stats().redelivered > 100, "{:?}", failing.stats());
}

/// Second reading: random deliveries, acks, nacks, drops, leaves and joins in a
/// two-member group, against a model: nothing is lost, nothing is delivered again while
/// an earlier delivery of it is unsettled, every message is acked once, each member's
/// in-flight count returns to 0, and none is taken past its limit while no member left.
mod slot_model {
    use std::collections::{HashMap, HashSet};

    use futures::FutureExt;
    use proptest::prelude::*;
    use switchyard_bus::pubsub::{SubscribeOptions, Subscription};
    use switchyard_core::Message;

    use super::*;

    const MAX_IN_FLIGHT: usize = 2;

    #[derive(Debug, Clone)]
    enum Op {
        Publish,
        Poll(usize),
        Ack(usize),
        Nack(usize),
        DropMessage(usize),
        Leave(usize),
        Join(usize),
        Advance(u64),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => Just(Op::Publish),
            4 => (0usize..2).prop_map(Op::Poll),
            2 => any::<usize>().prop_map(Op::Ack),
            2 => any::<usize>().prop_map(Op::Nack),
            1 => any::<usize>().prop_map(Op::DropMessage),
            1 => (0usize..2).prop_map(Op::Leave),
            1 => (0usize..2).prop_map(Op::Join),
            2 => (0u64..150).prop_map(Op::Advance),
        ]
    }

    fn options() -> SubscribeOptions {
        SubscribeOptions::builder()
            .group("g")
            .buffer(64)
            .max_in_flight(MAX_IN_FLIGHT)
            .build()
            .unwrap()
    }

    struct Model {
        bus: MemoryPubSub,
        members: [Option<Subscription>; 2],
        held: Vec<(Message, String)>,
        unsettled: HashMap<String, usize>,
        acked: HashSet<String>,
        published: usize,
        left: bool,
    }

    impl Model {
        fn poll(&mut self, at: usize) -> Result<bool, TestCaseError> {
            let Some(member) = self.members[at].as_mut() else {
                return Ok(false);
            };
            let Some(Some(Ok(message))) = member.next().now_or_never() else {
                return Ok(false);
            };
            let text = body(&message);
            prop_assert!(
                !self.acked.contains(&text),
                "{text} delivered after its ack"
            );
            let unsettled = self.unsettled.entry(text.clone()).or_default();
            prop_assert_eq!(*unsettled, 0, "{} delivered twice without a nack", text);
            *unsettled += 1;
            self.held.push((message, text));
            Ok(true)
        }

        fn settle(&mut self, at: usize, how: u8) -> Result<(), TestCaseError> {
            if self.held.is_empty() {
                return Ok(());
            }
            let (message, text) = self.held.swap_remove(at % self.held.len());
            *self.unsettled.get_mut(&text).unwrap() -= 1;
            match how {
                0 => {
                    prop_assert!(message.ack());
                    prop_assert!(self.acked.insert(text.clone()), "{} acked twice", text);
                }
                1 => {
                    prop_assert!(message.nack());
                }
                _ => drop(message),
            }
            Ok(())
        }

        async fn run_bus_task(&self, millis: u64) {
            tokio::time::advance(Duration::from_millis(millis)).await;
            for _ in 0..8 {
                tokio::task::yield_now().await;
            }
        }

        fn check_limits(&self) -> Result<(), TestCaseError> {
            if self.left {
                return Ok(());
            }
            for member in self.members.iter().flatten() {
                let stats = member.stats();
                prop_assert!(stats.in_flight <= MAX_IN_FLIGHT, "{:?}", stats);
            }
            Ok(())
        }
    }

    async fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
        let bus = bus(PubSubConfig::builder()
            .redelivery_delay(Duration::from_millis(10))
            .max_redelivery_delay(Duration::from_millis(100)));
        let members = [
            Some(bus.subscribe_with("t", options()).unwrap()),
            Some(bus.subscribe_with("t", options()).unwrap()),
        ];
        let mut model = Model {
            bus,
            members,
            held: Vec::new(),
            unsettled: HashMap::new(),
            acked: HashSet::new(),
            published: 0,
            left: false,
        };
        for op in ops {
            match op {
                Op::Publish => {
                    model
                        .bus
                        .publish("t", msg(model.published.to_string()))
                        .await
                        .unwrap();
                    model.published += 1;
                }
                Op::Poll(at) => {
                    model.poll(at)?;
                }
                Op::Ack(at) => model.settle(at, 0)?,
                Op::Nack(at) => model.settle(at, 1)?,
                Op::DropMessage(at) => model.settle(at, 2)?,
                Op::Leave(at) => {
                    // One member always stays, so that nothing is discarded.
                    if model.members[1 - at].is_some() {
                        model.members[at] = None;
                        model.left = true;
                    }
                }
                Op::Join(at) => {
                    if model.members[at].is_none() {
                        model.members[at] = Some(model.bus.subscribe_with("t", options()).unwrap());
                    }
                }
                Op::Advance(millis) => model.run_bus_task(millis).await,
            }
            model.check_limits()?;
        }
        // Drain: ack everything, let redeliveries come back, until all is acked.
        for _ in 0..200 {
            while !model.held.is_empty() {
                model.settle(0, 0)?;
            }
            model.run_bus_task(200).await;
            while model.poll(0)? || model.poll(1)? {}
            if model.held.is_empty() && model.acked.len() == model.published {
                break;
            }
        }
        prop_assert_eq!(model.acked.len(), model.published, "messages lost");
        for member in model.members.iter().flatten() {
            let stats = member.stats();
            prop_assert_eq!(stats.in_flight, 0, "a slot leaked: {:?}", stats);
        }
        prop_assert_eq!(model.bus.snapshot().stats.discarded, 0);
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn slots_return_to_zero_and_nothing_is_lost(ops in prop::collection::vec(op(), 1..60)) {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .start_paused(true)
                .build()
                .unwrap();
            runtime.block_on(run(ops))?;
        }
    }
}

fn blocking_member(group: &str, buffer: usize, timeout: Duration) -> SubscribeOptions {
    SubscribeOptions::builder()
        .group(group)
        .buffer(buffer)
        .policy(SlowConsumerPolicy::Block { timeout })
        .build()
        .unwrap()
}

/// A publisher blocked because every member of a group is full goes on as soon as a new
/// member with room joins: the group skips full members while another has room.
#[tokio::test(start_paused = true)]
async fn a_member_joining_a_full_group_unblocks_its_publishers() {
    let bus = default_bus();
    let options = blocking_member("g", 1, Duration::from_secs(10));
    let (_stalled, blocked) = blocked_behind(&bus, options.clone()).await;
    let mut joined = bus.subscribe_with("t", options).unwrap();
    let result = tokio::time::timeout(DEADLINE, blocked)
        .await
        .unwrap()
        .unwrap();
    assert!(
        result.is_ok(),
        "the publisher waited out its whole timeout while a member had room: {result:?}"
    );
    assert_eq!(body(&recv(&mut joined).await), "blocked");
}

/// A publish blocked on the only member of a group, which leaves, while a new member forms
/// the group again: the group is the same (same topic, same name), so the new member gets
/// the message. It used to go nowhere, counted as unrouted, though the group had a member
/// with room when the publish returned `Ok`.
#[tokio::test(start_paused = true)]
async fn a_publish_blocked_on_a_group_that_is_emptied_and_formed_again_reaches_the_new_member() {
    let bus = default_bus();
    let options = blocking_member("g", 1, Duration::from_secs(3600));
    let (only, blocked) = blocked_behind(&bus, options.clone()).await;

    // The publisher is not polled in between: the group is empty for no moment it sees.
    drop(only);
    let mut formed_again = bus.subscribe_with("t", options).unwrap();
    let result = tokio::time::timeout(DEADLINE, blocked)
        .await
        .unwrap()
        .unwrap();
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(body(&recv(&mut formed_again).await), "blocked");
    let stats = bus.snapshot().stats;
    // Only the queued message left with the member that took it.
    assert_eq!((stats.unrouted, stats.discarded), (0, 1), "{stats:?}");
}

/// The same, for a group the publish had not reached yet: it waited for room in another
/// subscription meanwhile. The group used to miss the message without it being counted
/// anywhere, since the other subscription took it.
#[tokio::test(start_paused = true)]
async fn a_group_formed_again_while_a_publish_waits_elsewhere_still_gets_the_message() {
    let bus = default_bus();
    let slow = SubscribeOptions::builder()
        .buffer(1)
        .policy(SlowConsumerPolicy::Block {
            timeout: Duration::from_secs(3600),
        })
        .build()
        .unwrap();
    let mut slow = bus.subscribe_with("t", slow).unwrap();
    let only = bus.subscribe_with("t", member_of("g")).unwrap();
    bus.publish("t", msg("fills the slow one")).await.unwrap();
    let blocked = {
        let bus = bus.clone();
        tokio::spawn(async move { bus.publish("t", msg("blocked")).await })
    };
    tokio::task::yield_now().await;
    assert!(!blocked.is_finished(), "the slow subscription is full");

    drop(only);
    let mut formed_again = bus.subscribe_with("t", member_of("g")).unwrap();
    assert_eq!(
        recv_acked(&mut slow, 2).await,
        ["fills the slow one", "blocked"]
    );
    let result = tokio::time::timeout(DEADLINE, blocked)
        .await
        .unwrap()
        .unwrap();
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(recv_acked(&mut formed_again, 1).await, ["blocked"]);
}

/// A redelivery waiting in a leaving member's queue moves to another member of its group:
/// `SubscriptionStats::redelivered` counts redeliveries placed in a subscription's queue,
/// moved ones included, so the member it moves to counts it, as it does when the bus's task
/// moves one. The move by a leaving member used to go uncounted.
#[tokio::test(start_paused = true)]
async fn a_redelivery_handed_over_by_a_leaving_member_is_counted_where_it_goes() {
    let bus = bus(PubSubConfig::builder().redelivery_delay(Duration::from_millis(10)));
    let mut leaving = bus.subscribe_with("t", member_of("g")).unwrap();
    bus.publish("t", msg("m")).await.unwrap();
    recv(&mut leaving).await.nack();
    // On the paused clock: the backoff ends at once and the bus's task puts the message in
    // the leaving member's retry lane; its stream is not polled, so it stays there.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(leaving.stats().redelivered, 1);

    let mut staying = bus.subscribe_with("t", member_of("g")).unwrap();
    drop(leaving);
    assert_eq!(recv_acked(&mut staying, 1).await, ["m"]);
    let stats = staying.stats();
    assert_eq!(
        (
            stats.delivered,
            stats.redelivered,
            stats.acked,
            stats.in_flight
        ),
        (1, 1, 1, 0),
        "{stats:?}"
    );
}
