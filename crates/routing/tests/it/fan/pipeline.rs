//! A FanIn → worker → FanOut pipeline with an internal loop, every buffer at 1, and the
//! edges of the two ends: errors passing through a `FanIn`, unroutable messages without a
//! dead letter.

use std::collections::BTreeSet;

use futures::{StreamExt, stream};
use switchyard_core::{Message, MessageStream};
use switchyard_routing::fan::{
    DeadLetterReason, FanIn, FanInMode, FanOut, FanOutError, Output, OutputKind, SlowConsumerPolicy,
};
use tokio::sync::mpsc;

use super::DEADLINE;

/// How deep the loop goes: each message at depth d < MAX_DEPTH emits two at depth d + 1.
const MAX_DEPTH: u32 = 3;

fn depth(message: &Message) -> u32 {
    message
        .attributes()
        .get("depth")
        .and_then(|depth| depth.parse().ok())
        .unwrap_or(0)
}

/// The "handler": loop messages below the maximum depth fan out into two deeper loop
/// messages; everything else goes to Kafka.
fn handle(message: &Message) -> Vec<Message> {
    let depth = depth(message);
    let next = |destination: &str, depth: u32| {
        Message::builder()
            .destination(destination)
            .attribute("depth", depth.to_string())
            .build()
            .expect("valid message")
    };
    if depth < MAX_DEPTH {
        vec![
            next("loop://again", depth + 1),
            next("loop://again", depth + 1),
        ]
    } else {
        vec![next("kafka://out", depth)]
    }
}

/// Drains a receiver until the fan-out is dropped, counting what it got.
fn drain(mut receiver: mpsc::Receiver<Message>) -> tokio::task::JoinHandle<usize> {
    tokio::spawn(async move {
        let mut count = 0;
        while receiver.recv().await.is_some() {
            count += 1;
        }
        count
    })
}

#[tokio::test]
async fn a_loop_with_every_buffer_at_one_completes_or_dead_letters() {
    let inputs: Vec<(&str, MessageStream)> = ["kafka", "timer"]
        .into_iter()
        .map(|name| {
            let messages: Vec<switchyard_core::Result<Message>> = (0..5)
                .map(|_| Message::builder().destination("kafka://in").build())
                .collect();
            (name, stream::iter(messages).boxed())
        })
        .collect();
    let mut builder = FanIn::builder().mode(FanInMode::RoundRobin);
    for (name, input) in inputs {
        builder = builder.input(name, input);
    }
    let mut fan_in = builder.build().expect("valid");

    let (fan_out, mut receivers) = FanOut::builder()
        .output("kafka://", Output::new("kafka", 1))
        .loop_output(Output::new("loop", 1).policy(SlowConsumerPolicy::DeadLetter))
        .dead_letter(Output::new("deadletter", 1))
        .build()
        .expect("valid");
    let kafka = drain(receivers.take("kafka").expect("kafka"));
    let dead = drain(receivers.take("deadletter").expect("dead letter"));
    let mut looped = receivers.take("loop").expect("loop");

    let worker = async move {
        let (mut routed, mut handled, mut inputs_open) = (0usize, 0usize, true);
        loop {
            // The loop is drained with priority, so it empties before new input comes in.
            let message = match looped.try_recv() {
                Ok(message) => message,
                Err(_) if !inputs_open => break,
                Err(_) => match fan_in.next().await {
                    Some(tagged) => tagged.item.expect("valid input"),
                    None => {
                        inputs_open = false;
                        continue;
                    }
                },
            };
            handled += 1;
            for output in handle(&message) {
                let result = fan_out.route(output).await;
                assert!(result.is_ok(), "nothing is refused here: {result:?}");
                routed += 1;
            }
        }
        (routed, handled, fan_out.stats())
    };
    let (routed, handled, stats) = tokio::time::timeout(DEADLINE, tokio::spawn(worker))
        .await
        .expect("the loop never deadlocks")
        .expect("no panic");
    let kafka = tokio::time::timeout(DEADLINE, kafka)
        .await
        .expect("drained")
        .expect("no panic");
    let dead = tokio::time::timeout(DEADLINE, dead)
        .await
        .expect("drained")
        .expect("no panic");

    let looped_count = stats.output("loop").map_or(0, |s| s.routed) as usize;
    // Every routed message went to exactly one of Kafka, the loop or the dead letter, and
    // every looped message was handled again.
    assert_eq!(kafka + looped_count + dead, routed);
    assert_eq!(handled, 10 + looped_count);
    assert_eq!(
        stats.output("loop").map(|s| s.overflowed),
        Some(dead as u64)
    );
    assert!(kafka > 0, "some messages made it through the whole loop");
}

#[tokio::test]
async fn fan_in_errors_pass_through_untouched() {
    let failing: MessageStream = stream::iter([Err(switchyard_core::Error::Closed {
        component: "test subscriber",
    })])
    .boxed();
    let mut fan_in = FanIn::builder()
        .input("broken", failing)
        .build()
        .expect("valid");
    let tagged = tokio::time::timeout(DEADLINE, fan_in.next())
        .await
        .expect("ready")
        .expect("an item");
    assert_eq!(&*tagged.input, "broken");
    assert!(matches!(
        tagged.item,
        Err(switchyard_core::Error::Closed { .. })
    ));
    assert!(fan_in.next().await.is_none());
}

#[tokio::test]
async fn unroutable_without_dead_letter_keeps_the_message_for_the_caller() {
    let (fan_out, _receivers) = FanOut::builder()
        .loop_output(Output::new("loop", 1))
        .build()
        .expect("valid");
    let err = fan_out
        .route(Message::new("no destination"))
        .await
        .expect_err("unroutable");
    assert!(matches!(
        err,
        FanOutError::Unroutable {
            reason: DeadLetterReason::NoDestination,
            ..
        }
    ));
    let message = Message::builder()
        .destination("loop://x")
        .build()
        .expect("valid");
    assert_eq!(
        fan_out.resolve_output(&message),
        Ok(("loop", OutputKind::Loop))
    );
    let set: BTreeSet<_> = fan_out
        .stats()
        .outputs
        .iter()
        .map(|s| s.name.to_string())
        .collect();
    assert_eq!(set, BTreeSet::from(["loop".to_owned()]));
}
