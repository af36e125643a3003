//! Unit tests of every slow-consumer policy with a buffer of 1, and of closed outputs.

use std::{sync::Arc, time::Duration};

use tokio::time::Instant;

use super::{Recorder, id, to};
use crate::fan::{
    DEAD_LETTER_REASON, DeadLetterReason, Delivery, FanOut, FanOutError, FanOutReceivers, Output,
    OutputKind, SlowConsumerPolicy,
};

/// A fan-out with one route, `out`, of buffer 1 under `policy`, and a dead letter.
fn single(policy: SlowConsumerPolicy, recorder: Arc<Recorder>) -> (FanOut, FanOutReceivers) {
    FanOut::builder()
        .output("kafka://", Output::new("out", 1).policy(policy))
        .dead_letter(Output::new("deadletter", 4))
        .observer(recorder)
        .build()
        .expect("valid")
}

#[tokio::test]
async fn fail_gives_the_message_back_when_full() {
    let (fan_out, _receivers) = single(SlowConsumerPolicy::Fail, Arc::default());
    fan_out.route(to("kafka://a")).await.expect("room for one");
    let second = to("kafka://b");
    let second_id = id(&second);
    let err = fan_out.route(second).await.expect_err("full");
    assert!(matches!(&err, FanOutError::Full { output, .. } if &**output == "out"));
    assert!(err.is_transient());
    assert_eq!(id(err.message()), second_id);
    let stats = fan_out.stats();
    let out = stats.output("out").expect("stats");
    assert_eq!(
        (
            out.routed,
            out.failed,
            out.dropped,
            out.queued,
            out.capacity
        ),
        (1, 1, 0, 1, 1)
    );
}

#[tokio::test]
async fn drop_newest_counts_and_reports_the_drop() {
    let recorder = Arc::new(Recorder::default());
    let (fan_out, mut receivers) = single(SlowConsumerPolicy::DropNewest, recorder.clone());
    let first = to("kafka://a");
    let first_id = id(&first);
    fan_out.route(first).await.expect("room for one");
    let second = to("kafka://b");
    let second_id = id(&second);
    let routed = fan_out
        .route(second)
        .await
        .expect("dropped is not an error");
    assert_eq!(routed.delivery(), Delivery::Dropped);
    assert_eq!(routed.output(), "out");
    assert_eq!(recorder.events(), [format!("drop out {second_id}")]);
    let out = fan_out.stats().output("out").cloned().expect("stats");
    assert_eq!((out.routed, out.dropped, out.failed), (1, 1, 0));
    let mut rx = receivers.take("out").expect("receiver");
    assert_eq!(id(&rx.try_recv().expect("the first stays")), first_id);
}

#[tokio::test]
async fn dead_letter_policy_diverts_overflow_with_a_reason() {
    let recorder = Arc::new(Recorder::default());
    let (fan_out, mut receivers) = single(SlowConsumerPolicy::DeadLetter, recorder.clone());
    fan_out.route(to("kafka://a")).await.expect("room for one");
    let second = to("kafka://b");
    let second_id = id(&second);
    let routed = fan_out.route(second).await.expect("diverted");
    assert_eq!(routed.kind(), OutputKind::DeadLetter);
    assert_eq!(
        routed.dead_letter_reason(),
        Some(DeadLetterReason::Overflow)
    );
    assert_eq!(recorder.events(), [format!("overflow out {second_id}")]);
    let dead = receivers
        .take("deadletter")
        .expect("receiver")
        .try_recv()
        .expect("queued");
    assert_eq!(
        (id(&dead), dead.attributes().get(DEAD_LETTER_REASON)),
        (second_id, Some("overflow"))
    );
    assert_eq!(fan_out.stats().output("out").map(|s| s.overflowed), Some(1));
    assert_eq!(fan_out.stats().unroutable, 0, "overflow is not a no-match");
}

#[tokio::test]
async fn block_waits_for_room() {
    let (fan_out, mut receivers) = single(SlowConsumerPolicy::Block, Arc::default());
    fan_out.route(to("kafka://a")).await.expect("room for one");
    let mut rx = receivers.take("out").expect("receiver");
    let second = fan_out.route(to("kafka://b"));
    tokio::pin!(second);
    assert!(
        futures::poll!(second.as_mut()).is_pending(),
        "waits while full"
    );
    assert!(rx.recv().await.is_some());
    let routed = tokio::time::timeout(Duration::from_secs(5), second)
        .await
        .expect("room frees the sender")
        .expect("routed");
    assert_eq!(
        (routed.output(), routed.delivery()),
        ("out", Delivery::Queued)
    );
}

#[tokio::test(start_paused = true)]
async fn block_for_times_out_and_gives_the_message_back() {
    let after = Duration::from_millis(250);
    let (fan_out, _receivers) = single(SlowConsumerPolicy::BlockFor(after), Arc::default());
    fan_out.route(to("kafka://a")).await.expect("room for one");
    let second = to("kafka://b");
    let second_id = id(&second);
    let start = Instant::now();
    let err = fan_out.route(second).await.expect_err("times out");
    assert_eq!(
        start.elapsed(),
        after,
        "paused clock: waits exactly the timeout"
    );
    assert!(matches!(&err, FanOutError::Timeout { after: t, .. } if *t == after));
    assert_eq!(err.output(), Some("out"));
    assert_eq!(id(&err.into_message()), second_id);
    assert_eq!(fan_out.stats().output("out").map(|s| s.failed), Some(1));
}

#[tokio::test]
async fn a_closed_output_gives_the_message_back_under_every_policy() {
    let policies = [
        SlowConsumerPolicy::Block,
        SlowConsumerPolicy::BlockFor(Duration::from_secs(1)),
        SlowConsumerPolicy::Fail,
        SlowConsumerPolicy::DropNewest,
        SlowConsumerPolicy::DeadLetter,
    ];
    for policy in policies {
        let (fan_out, mut receivers) = single(policy, Arc::default());
        drop(receivers.take("out"));
        let message = to("kafka://a");
        let message_id = id(&message);
        let err = fan_out.route(message).await.expect_err("closed");
        assert!(
            matches!(&err, FanOutError::Closed { output, .. } if &**output == "out"),
            "{policy:?}"
        );
        assert!(!err.is_transient());
        assert_eq!(id(&err.into_message()), message_id, "{policy:?}");
        let out = fan_out.stats().output("out").cloned().expect("stats");
        assert!(out.closed, "{policy:?}");
        assert_eq!((out.routed, out.failed), (0, 1), "{policy:?}");
    }
}
