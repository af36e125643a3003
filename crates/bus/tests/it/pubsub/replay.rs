//! Replay: a late subscriber gets the last messages of a topic, once each, when asked.

use switchyard_bus::pubsub::{SlowConsumerPolicy, SubscribeOptions, SubscribeOptionsBuilder};

use super::*;

fn replaying(count: usize) -> SubscribeOptions {
    SubscribeOptions::builder().replay(count).build().unwrap()
}

#[tokio::test]
async fn a_late_subscriber_replays_the_last_messages_then_gets_live_ones() {
    let bus = bus(PubSubConfig::builder().replay(5));
    for n in 0..8 {
        bus.publish("t", msg(n.to_string())).await.unwrap();
    }
    bus.publish("other", msg("x")).await.unwrap();
    let mut late = bus.subscribe_with("t", replaying(3)).unwrap();
    let mut all = bus.subscribe_with("t", replaying(100)).unwrap();
    let mut none = bus
        .subscribe_with("t", SubscribeOptions::default())
        .unwrap();
    bus.publish("t", msg("live")).await.unwrap();
    assert_eq!(recv_acked(&mut late, 4).await, ["5", "6", "7", "live"]);
    assert_eq!(
        recv_acked(&mut all, 6).await,
        ["3", "4", "5", "6", "7", "live"],
        "at most the ring's capacity"
    );
    assert_eq!(recv_acked(&mut none, 1).await, ["live"]);
}

#[tokio::test]
async fn a_pattern_replays_across_its_topics_in_publish_order() {
    let bus = bus(PubSubConfig::builder().replay(10));
    for (topic, text) in [("a.x", "1"), ("b.x", "2"), ("a.y", "3"), ("a.x", "4")] {
        bus.publish(topic, msg(text)).await.unwrap();
    }
    let mut subscription = bus.subscribe_with("a.*", replaying(10)).unwrap();
    assert_eq!(recv_acked(&mut subscription, 3).await, ["1", "3", "4"]);
    assert!(nothing_within(&mut subscription, Duration::from_millis(20)).await);
}

#[tokio::test]
async fn replay_is_off_by_default_and_the_config_sets_what_plain_subscribers_replay() {
    let bus = default_bus();
    bus.publish("t", msg("old")).await.unwrap();
    let mut late = bus.subscribe_with("t", replaying(10)).unwrap();
    assert!(nothing_within(&mut late, Duration::from_millis(20)).await);

    let bus = bus_with_subscribe_replay();
    bus.publish("t", msg("old")).await.unwrap();
    let mut stream = switchyard_core::Subscriber::subscribe(&bus, "t")
        .await
        .unwrap();
    let message = tokio::time::timeout(DEADLINE, stream.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(body(&message), "old");
}

fn bus_with_subscribe_replay() -> MemoryPubSub {
    bus(PubSubConfig::builder().replay(4).replay_on_subscribe(4))
}

#[tokio::test]
async fn only_so_many_topics_keep_a_ring() {
    let bus = bus(PubSubConfig::builder().replay(2).max_replay_topics(2));
    for topic in ["a", "b", "c"] {
        bus.publish(topic, msg(topic)).await.unwrap();
    }
    let mut a = bus.subscribe_with("a", replaying(2)).unwrap();
    let mut c = bus.subscribe_with("c", replaying(2)).unwrap();
    assert!(
        nothing_within(&mut a, Duration::from_millis(20)).await,
        "a's ring was dropped"
    );
    assert_eq!(recv_acked(&mut c, 1).await, ["c"]);
}

#[tokio::test]
async fn a_replayed_message_that_is_nacked_comes_back() {
    let bus = bus(PubSubConfig::builder()
        .replay(2)
        .redelivery_delay(Duration::from_millis(1)));
    bus.publish("t", msg("old")).await.unwrap();
    let mut subscription = bus.subscribe_with("t", replaying(1)).unwrap();
    recv(&mut subscription).await.nack();
    assert_eq!(recv_acked(&mut subscription, 1).await, ["old"]);
}

#[tokio::test]
async fn a_group_replays_once_and_hands_the_rest_of_its_replay_over() {
    let bus = bus(PubSubConfig::builder().replay(10));
    for n in 0..4 {
        bus.publish("t", msg(n.to_string())).await.unwrap();
    }
    let member = |replay| {
        SubscribeOptions::builder()
            .group("g")
            .replay(replay)
            .build()
            .unwrap()
    };
    let mut first = bus.subscribe_with("t", member(10)).unwrap();
    let mut second = bus.subscribe_with("t", member(10)).unwrap();
    assert_eq!(recv_acked(&mut first, 1).await, ["0"]);
    assert!(
        nothing_within(&mut second, Duration::from_millis(20)).await,
        "a joining member does not replay"
    );
    drop(first);
    assert_eq!(recv_acked(&mut second, 3).await, ["1", "2", "3"]);
    bus.publish("t", msg("live")).await.unwrap();
    assert_eq!(recv_acked(&mut second, 1).await, ["live"]);
    assert_eq!(bus.snapshot().stats.discarded, 0);
}

fn blocking(buffer: usize) -> SubscribeOptionsBuilder {
    SubscribeOptions::builder()
        .buffer(buffer)
        .policy(SlowConsumerPolicy::Block {
            timeout: Duration::from_secs(3600),
        })
}

/// Publishes blocked on the only member of a group, which leaves, while a new member forms
/// the group again with replay: the publishes follow the group to the new member, which
/// must get each message once, replayed or live. They used to arrive twice: replayed (they
/// were recorded before the new member's snapshot) and live.
#[tokio::test(start_paused = true)]
async fn a_group_formed_again_with_replay_gets_the_publishes_that_waited_for_it_once() {
    let bus = bus(PubSubConfig::builder().replay(10));
    let member = |replay| blocking(1).group("g").replay(replay).build().unwrap();
    let only = bus.subscribe_with("t", member(0)).unwrap();
    bus.publish("t", msg("queued")).await.unwrap();
    let blocked: Vec<_> = ["older", "newer"]
        .into_iter()
        .map(|text| {
            let bus = bus.clone();
            tokio::spawn(async move { bus.publish("t", msg(text)).await })
        })
        .collect();
    tokio::task::yield_now().await;
    assert!(
        blocked.iter().all(|task| !task.is_finished()),
        "the only member is full"
    );

    drop(only);
    // It replays the last message only: "newer". "older" is not replayed and is delivered
    // live; "queued" left with the member that had it.
    let mut formed_again = bus.subscribe_with("t", member(1)).unwrap();
    assert_eq!(recv_acked(&mut formed_again, 2).await, ["newer", "older"]);
    assert!(
        nothing_within(&mut formed_again, Duration::from_secs(1)).await,
        "delivered twice: {:?}",
        formed_again.stats()
    );
    for task in blocked {
        let result = tokio::time::timeout(DEADLINE, task).await.unwrap().unwrap();
        assert!(result.is_ok(), "{result:?}");
    }
}

/// The same for a group that a publish had not reached yet, as it waited for room in
/// another subscription first.
#[tokio::test(start_paused = true)]
async fn a_group_formed_again_with_replay_while_a_publish_waits_elsewhere_gets_it_once() {
    let bus = bus(PubSubConfig::builder().replay(10));
    let mut slow = bus
        .subscribe_with("t", blocking(1).build().unwrap())
        .unwrap();
    let member = |replay| {
        SubscribeOptions::builder()
            .group("g")
            .replay(replay)
            .build()
            .unwrap()
    };
    let only = bus.subscribe_with("t", member(0)).unwrap();
    bus.publish("t", msg("first")).await.unwrap();
    let blocked = {
        let bus = bus.clone();
        tokio::spawn(async move { bus.publish("t", msg("waiting")).await })
    };
    tokio::task::yield_now().await;
    assert!(!blocked.is_finished(), "the slow subscription is full");

    drop(only);
    let mut formed_again = bus.subscribe_with("t", member(10)).unwrap();
    assert_eq!(recv_acked(&mut slow, 2).await, ["first", "waiting"]);
    let result = tokio::time::timeout(DEADLINE, blocked)
        .await
        .unwrap()
        .unwrap();
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(recv_acked(&mut formed_again, 2).await, ["first", "waiting"]);
    assert!(
        nothing_within(&mut formed_again, Duration::from_secs(1)).await,
        "delivered live as well: {:?}",
        formed_again.stats()
    );
}
