//! Unit tests of `FanOut`: longest-prefix routing, the loop, the dead letter, counters and
//! receivers; the slow-consumer policies and the build errors have their own modules.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use switchyard_core::Message;

use super::{Delivery, FanOut, FanOutReceivers, Routed};
use crate::fan::{
    DEAD_LETTER_REASON, DeadLetterReason, FanOutError, FanOutObserver, Output, OutputKind,
};

/// A message addressed to `destination`.
fn to(destination: &str) -> Message {
    Message::builder()
        .destination(destination)
        .build()
        .expect("valid message")
}

fn id(message: &Message) -> String {
    message.attributes().id().expect("generated id").to_owned()
}

/// Records every hook call as a line of text.
#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

impl Recorder {
    fn events(&self) -> Vec<String> {
        self.0.lock().expect("not poisoned").clone()
    }

    fn push(&self, event: String) {
        self.0.lock().expect("not poisoned").push(event);
    }
}

impl FanOutObserver for Recorder {
    fn on_no_match(&self, message: &Message, reason: DeadLetterReason) {
        self.push(format!("no_match {reason} {}", id(message)));
    }

    fn on_drop(&self, output: &str, message: &Message) {
        self.push(format!("drop {output} {}", id(message)));
    }

    fn on_overflow(&self, output: &str, message: &Message) {
        self.push(format!("overflow {output} {}", id(message)));
    }
}

/// A fan-out with three nested kafka prefixes, redis, a loop and a dead letter, all with
/// room for 16 messages.
fn standard(observer: Arc<Recorder>) -> (FanOut, FanOutReceivers) {
    FanOut::builder()
        .output("kafka://orders", Output::new("orders", 16))
        .output("kafka://", Output::new("kafka", 16))
        .output("kafka://orders.eu", Output::new("orders-eu", 16))
        .output("redis://", Output::new("redis", 16))
        .loop_output(Output::new("loop", 16))
        .dead_letter(Output::new("deadletter", 16))
        .observer(observer)
        .build()
        .expect("valid")
}

/// Routes a message to `destination` (or one without a destination) and checks where it
/// went: the output's name, and the dead-letter reason if any.
async fn check(
    fan_out: &FanOut,
    destination: Option<&str>,
    expected: &str,
    reason: Option<DeadLetterReason>,
) {
    let message = match destination {
        Some(destination) => to(destination),
        None => Message::new("no destination"),
    };
    let resolved = fan_out.resolve_output(&message);
    let routed = fan_out.route(message).await.expect("routed");
    assert_eq!(routed.output(), expected, "destination {destination:?}");
    assert_eq!(
        routed.dead_letter_reason(),
        reason,
        "destination {destination:?}"
    );
    assert_eq!(routed.delivery(), Delivery::Queued);
    match reason {
        Some(reason) => assert_eq!(resolved, Err(reason)),
        None => assert_eq!(resolved.map(|(name, _)| name), Ok(expected)),
    }
}

#[tokio::test]
async fn routes_by_longest_prefix_loop_scheme_and_dead_letter() {
    let (fan_out, _receivers) = standard(Arc::default());
    let cases: &[(Option<&str>, &str, Option<DeadLetterReason>)] = &[
        (Some("kafka://orders.eu.created"), "orders-eu", None),
        (Some("kafka://orders.us"), "orders", None),
        (Some("kafka://orders"), "orders", None),
        (Some("kafka://payments"), "kafka", None),
        (Some("redis://stream"), "redis", None),
        (Some("loop://billing"), "loop", None),
        (Some("loop://"), "loop", None),
        (
            Some("nats://x"),
            "deadletter",
            Some(DeadLetterReason::NoRoute),
        ),
        (
            Some("kafka:/"),
            "deadletter",
            Some(DeadLetterReason::NoRoute),
        ),
        (Some(""), "deadletter", Some(DeadLetterReason::NoRoute)),
        (None, "deadletter", Some(DeadLetterReason::NoDestination)),
    ];
    for &(destination, expected, reason) in cases {
        check(&fan_out, destination, expected, reason).await;
    }
}

#[tokio::test]
async fn the_loop_goes_first_and_its_scheme_is_configurable() {
    let (fan_out, mut receivers) = FanOut::builder()
        .output("loop://", Output::new("not-the-loop", 4))
        .loop_scheme("internal://")
        .loop_output(Output::new("loop", 4))
        .build()
        .expect("`loop://` is an ordinary prefix once the loop scheme changes");
    assert_eq!(fan_out.loop_scheme(), "internal://");
    let routed = fan_out
        .route(to("internal://orders"))
        .await
        .expect("routed");
    assert_eq!((routed.output(), routed.kind()), ("loop", OutputKind::Loop));
    let routed = fan_out.route(to("loop://orders")).await.expect("routed");
    assert_eq!(
        (routed.output(), routed.kind()),
        ("not-the-loop", OutputKind::Route)
    );
    let mut looped = receivers.take("loop").expect("loop receiver");
    let message = looped.try_recv().expect("queued on the loop");
    assert_eq!(
        message.attributes().destination(),
        Some("internal://orders")
    );
}

#[tokio::test]
async fn dead_letter_carries_the_reason_and_fires_on_no_match() {
    let recorder = Arc::new(Recorder::default());
    let (fan_out, mut receivers) = FanOut::builder()
        .output("kafka://", Output::new("kafka", 4))
        .dead_letter(Output::new("deadletter", 4))
        .observer(recorder.clone())
        .build()
        .expect("valid");
    let lost = to("nats://orders");
    let lost_id = id(&lost);
    let looped = to("loop://orders");
    let looped_id = id(&looped);
    fan_out.route(lost).await.expect("dead-lettered");
    let routed = fan_out.route(looped).await.expect("dead-lettered");
    assert_eq!(routed.kind(), OutputKind::DeadLetter);
    assert_eq!(routed.dead_letter_reason(), Some(DeadLetterReason::NoLoop));

    let mut dead = receivers.take("deadletter").expect("dead-letter receiver");
    let first = dead.try_recv().expect("first");
    assert_eq!(
        (id(&first), first.attributes().get(DEAD_LETTER_REASON)),
        (lost_id.clone(), Some("no-route"))
    );
    let second = dead.try_recv().expect("second");
    assert_eq!(second.attributes().get(DEAD_LETTER_REASON), Some("no-loop"));
    assert_eq!(
        recorder.events(),
        [
            format!("no_match no-route {lost_id}"),
            format!("no_match no-loop {looped_id}")
        ]
    );
    assert_eq!(fan_out.stats().unroutable, 2);
    assert_eq!(
        fan_out.stats().output("deadletter").map(|s| s.routed),
        Some(2)
    );
}

#[tokio::test]
async fn without_a_dead_letter_an_unroutable_message_comes_back() {
    let recorder = Arc::new(Recorder::default());
    let (fan_out, _receivers) = FanOut::builder()
        .output("kafka://", Output::new("kafka", 4))
        .observer(recorder.clone())
        .build()
        .expect("valid");
    let message = to("redis://x");
    let message_id = id(&message);
    let err = fan_out.route(message).await.expect_err("unroutable");
    assert!(matches!(
        err,
        FanOutError::Unroutable {
            reason: DeadLetterReason::NoRoute,
            ..
        }
    ));
    assert!(!err.is_transient());
    assert_eq!(err.output(), None);
    assert_eq!(
        recorder.events(),
        [format!("no_match no-route {message_id}")]
    );
    let back = err.into_message();
    assert_eq!(id(&back), message_id);
    assert_eq!(back.attributes().get(DEAD_LETTER_REASON), None);
}

#[tokio::test]
async fn dead_letter_on_request_uses_the_callers_reason() {
    let recorder = Arc::new(Recorder::default());
    let (fan_out, mut receivers) = standard(recorder.clone());
    let routed = fan_out
        .dead_letter(to("kafka://orders"), DeadLetterReason::Other("hop-limit"))
        .await
        .expect("dead-lettered");
    assert_eq!(
        routed.dead_letter_reason(),
        Some(DeadLetterReason::Other("hop-limit"))
    );
    let message = receivers
        .take("deadletter")
        .expect("receiver")
        .try_recv()
        .expect("queued");
    assert_eq!(
        message.attributes().get(DEAD_LETTER_REASON),
        Some("hop-limit")
    );
    assert!(recorder.events().is_empty(), "not a no-match");
}

#[test]
fn into_parts_maps_to_core_errors_and_keeps_transience() {
    let message = to("kafka://a");
    let cases = [
        FanOutError::Full {
            output: "out".into(),
            message: message.clone(),
        },
        FanOutError::Timeout {
            output: "out".into(),
            after: Duration::from_secs(1),
            message: message.clone(),
        },
        FanOutError::Closed {
            output: "out".into(),
            message: message.clone(),
        },
        FanOutError::Unroutable {
            reason: DeadLetterReason::NoRoute,
            message: message.clone(),
        },
    ];
    for err in cases {
        let transient = err.is_transient();
        let text = err.to_string();
        let (core, back) = err.into_parts();
        assert_eq!(core.is_transient(), transient, "{text}");
        assert_eq!(id(&back), id(&message));
        assert!(
            !text.contains("kafka://a"),
            "the destination stays out of {text:?}"
        );
    }
}

#[test]
fn stats_list_outputs_in_registration_order_then_loop_then_dead_letter() {
    let (fan_out, receivers) = standard(Arc::default());
    let names: Vec<String> = fan_out
        .stats()
        .outputs
        .iter()
        .map(|s| s.name.to_string())
        .collect();
    assert_eq!(
        names,
        [
            "orders",
            "kafka",
            "orders-eu",
            "redis",
            "loop",
            "deadletter"
        ]
    );
    let kinds: Vec<OutputKind> = fan_out.stats().outputs.iter().map(|s| s.kind).collect();
    assert_eq!(
        kinds[3..],
        [OutputKind::Route, OutputKind::Loop, OutputKind::DeadLetter]
    );
    assert_eq!(receivers.names().collect::<Vec<_>>(), names);
}

#[test]
fn receivers_are_taken_once() {
    let (_fan_out, mut receivers) = standard(Arc::default());
    assert!(receivers.take("kafka").is_some());
    assert!(receivers.take("kafka").is_none());
    assert!(receivers.take("unknown").is_none());
    let rest: Vec<String> = receivers
        .into_iter()
        .map(|(name, _)| name.to_string())
        .collect();
    assert_eq!(rest, ["orders", "orders-eu", "redis", "loop", "deadletter"]);
}

#[test]
fn routed_reports_the_output() {
    // `Routed` values are compared in other tests through accessors; make sure equality
    // covers the fields too.
    let (fan_out, _receivers) = standard(Arc::default());
    let a: Routed = futures::executor::block_on(fan_out.route(to("redis://a"))).expect("routed");
    let b: Routed = futures::executor::block_on(fan_out.route(to("redis://b"))).expect("routed");
    assert_eq!(a, b);
    assert_ne!(
        a,
        futures::executor::block_on(fan_out.route(to("kafka://x"))).expect("routed")
    );
}

mod config;
mod policies;
