//! Mutation tests of the conformance suite on the real in-memory pub/sub: `MemoryPubSub`,
//! wrapped so that it breaks the contract in one way at a time (see
//! [`Fault`]). Each check runs a scenario twice, claiming the features the bus really has
//! (as `switchyard-bus` runs the suite): on the bus itself, where it must pass, and on the
//! broken bus, where it must fail with a message that names what was observed. So every
//! scenario listed here is shown to be able to fail, and to fail for the right reason.
//!
//! The runtime's clock is paused, so that each deadline a broken bus runs into passes at
//! once when nothing else can progress.

mod faulty;
mod stream;

use std::{collections::HashSet, panic::AssertUnwindSafe, sync::Arc};

use async_trait::async_trait;
use futures::FutureExt;
use switchyard_conformance::{Features, Harness, Outcome, SuiteConfig, scenarios};
use switchyard_core::{Publisher, Result, Subscriber};

use crate::conformance::FEATURES;
use faulty::{Bus, Fault, Faulty};

/// What the bus guarantees in every configuration, as its conformance run claims it.
const BUS: Features = FEATURES;

/// With one message in flight, the bus also keeps `guaranteed_order`.
const ORDERED: Features = Features {
    guaranteed_order: true,
    ..BUS
};

/// A claim the bus does not make, for the faults that only it would catch: without a
/// fault the bus delivers no message twice in these scenarios, so they pass.
const ONCE: Features = Features {
    exactly_once: true,
    ..BUS
};

/// One row of a check: claiming `features` on `bus`, `scenario` must catch `fault` with a
/// failure that mentions `expected`.
struct Row {
    bus: Bus,
    features: Features,
    fault: Fault,
    scenario: &'static str,
    expected: &'static str,
}

fn row(fault: Fault, scenario: &'static str, expected: &'static str) -> Row {
    Row {
        bus: Bus::Defaults,
        features: BUS,
        fault,
        scenario,
        expected,
    }
}

impl Row {
    fn on(mut self, bus: Bus, features: Features) -> Self {
        self.bus = bus;
        self.features = features;
        self
    }
}

/// Runs one scenario on a fresh harness; `Err` holds the failure's message.
async fn run(harness: &dyn Harness, scenario: &str, features: Features) -> Result<Outcome, String> {
    let config = SuiteConfig::paused_clock();
    let scenario = scenarios::by_name(scenario).expect("a known scenario");
    let result = AssertUnwindSafe(scenario.run(harness, features, &config))
        .catch_unwind()
        .await;
    result.map_err(|panic| {
        panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|text| (*text).to_owned()))
            .unwrap_or_default()
    })
}

/// Checks every row: the scenario passes on the real bus (once per bus, claim and
/// scenario) and fails on the broken one with the expected message.
async fn check(rows: impl IntoIterator<Item = Row>) {
    let mut passed = HashSet::new();
    for Row {
        bus,
        features,
        fault,
        scenario,
        expected,
    } in rows
    {
        if passed.insert((bus, features, scenario)) {
            let outcome = run(&Faulty::new(bus, Fault::Nothing), scenario, features).await;
            assert_eq!(
                outcome,
                Ok(Outcome::Passed),
                "{scenario} must pass on the real bus ({bus:?}) for its failure on a fault to mean \
                 anything"
            );
        }
        let outcome = run(&Faulty::new(bus, fault), scenario, features).await;
        match outcome {
            Err(message) => assert!(
                message.contains(expected),
                "{scenario} failed on {fault:?} ({bus:?}), but with {message:?} instead of \
                 {expected:?}"
            ),
            Ok(outcome) => panic!("{scenario} did not catch {fault:?} ({bus:?}): {outcome:?}"),
        }
    }
}

#[tokio::test(start_paused = true)]
async fn losses_are_caught() {
    check([
        row(
            Fault::LoseEvery(50),
            "publish_subscribe",
            "98 of 100 messages received",
        ),
        row(Fault::LoseEvery(50), "topic", "96 of 100 messages received"),
        row(
            Fault::LoseEvery(5000),
            "concurrent_subscribe",
            "4999 of 5000 messages received",
        ),
        row(
            Fault::LoseEvery(5000),
            "publisher_close",
            "9998 of 10000 messages received",
        ),
    ])
    .await;
}

#[tokio::test(start_paused = true)]
async fn duplicates_are_caught_where_exactly_once_is_claimed() {
    let again = "`msg-2` was delivered again after it was acked, although exactly-once \
                 delivery is claimed";
    check([
        row(Fault::Duplicate(3), "publish_subscribe", again).on(Bus::Defaults, ONCE),
        row(
            Fault::Duplicate(3),
            "continue_after_subscribe_close",
            "`msg-2` was delivered again after it was acked",
        )
        .on(Bus::Defaults, ONCE),
        row(Fault::Duplicate(3), "consumer_groups", again).on(Bus::Defaults, ONCE),
    ])
    .await;
    // At least once, a duplicate is no failure.
    let outcome = run(
        &Faulty::new(Bus::Defaults, Fault::Duplicate(3)),
        "publish_subscribe",
        BUS,
    )
    .await;
    assert_eq!(outcome, Ok(Outcome::Passed));
}

#[tokio::test(start_paused = true)]
async fn reorders_are_caught_where_order_is_claimed() {
    // `SwapPublishes(2)`: each publisher publishes its 3rd message before its 2nd. In the
    // ordering scenario, publisher 0's messages are msg-0, msg-4, msg-8, ...
    check([
        row(
            Fault::SwapPublishes(2),
            "publish_subscribe_in_order",
            "partition key0: `msg-4` arrived after `msg-8`",
        ),
        row(
            Fault::SwapPublishes(2),
            "publish_subscribe_in_order",
            "publisher 0: `msg-4` arrived after `msg-8`",
        )
        .on(Bus::InFlightOne, ORDERED),
        // Across two partition keys: only per-publisher order forbids it.
        row(
            Fault::SwapPublishes(4),
            "publish_subscribe_in_order",
            "publisher 0: `msg-12` arrived after `msg-16`",
        )
        .on(Bus::InFlightOne, ORDERED),
        row(
            Fault::SwapPublishes(2),
            "resend_on_error",
            "`msg-2` arrived as message 2 instead of `msg-1`",
        )
        .on(Bus::InFlightOne, ORDERED),
        // A nacked message that comes back behind newer ones.
        row(
            Fault::NackRequeues,
            "resend_on_error",
            "delivery 2, after the first message was nacked 1 times is `msg-1` instead of \
             `msg-0`",
        )
        .on(Bus::InFlightOne, ORDERED),
    ])
    .await;
    // The next message before the previous one is acked: the bus with its default
    // in-flight limit does not keep `guaranteed_order`, and `no_ack` says so.
    let outcome = run(
        &Faulty::new(Bus::Defaults, Fault::Nothing),
        "no_ack",
        ORDERED,
    )
    .await;
    let message = outcome.expect_err("no_ack catches deliveries ahead of the ack");
    assert!(
        message.contains("`msg-1` was delivered within"),
        "{message}"
    );
}

#[tokio::test(start_paused = true)]
async fn redeliveries_of_acked_messages_are_caught_without_a_nack() {
    let ignored = "a delivery after every message was acked, with nothing nacked: an ack was \
                   not honoured";
    check([
        // Every ack ignored: each message comes back forever, which delivery at least once
        // does not excuse when nothing was nacked.
        row(Fault::AckRedelivers(1), "publish_subscribe", ignored),
        row(Fault::AckRedelivers(7), "publish_subscribe", ignored),
        // The last message again, once the reader has everything: a second delivery that
        // nothing explains, whatever the claim.
        row(
            Fault::Duplicate(100),
            "publish_subscribe",
            "an ack was not honoured: `msg-99` was delivered within",
        ),
        // As in Watermill, `no_ack` watches after the second message's ack too.
        row(
            Fault::AckRedelivers(2),
            "no_ack",
            "an ack was not honoured: `msg-1` was delivered within",
        )
        .on(Bus::InFlightOne, ORDERED),
    ])
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_slow_publish_does_not_hide_a_delivery_ahead_of_the_ack() {
    // The second message takes a second to publish, longer than the quiet period: the
    // ordered bus still passes, and the bus that delivers ahead of acks, claiming order,
    // still fails, because the quiet period starts once the second message is published.
    let slow = Fault::SlowPublish(2);
    let outcome = run(&Faulty::new(Bus::InFlightOne, slow), "no_ack", ORDERED).await;
    assert_eq!(outcome, Ok(Outcome::Passed));
    let outcome = run(&Faulty::new(Bus::Defaults, slow), "no_ack", ORDERED).await;
    let message = outcome.expect_err("no_ack catches deliveries ahead of the ack");
    assert!(
        message.contains("`msg-1` was delivered within"),
        "{message}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_group_member_whose_stream_ends_unclosed_is_caught() {
    // The rest of the group takes over what the member held, so nothing is lost: only the
    // end of one stream among the merged ones shows the fault.
    let ended = "a member's stream ended before its subscriber was closed";
    check([
        row(Fault::FirstStreamEnds, "concurrent_subscribe", ended),
        row(Fault::FirstStreamEnds, "consumer_groups", ended),
    ])
    .await;
}

#[tokio::test(start_paused = true)]
async fn changed_messages_are_caught() {
    check([
        row(
            Fault::CorruptPayload(3),
            "publish_subscribe",
            "`msg-2` arrived changed: payload",
        ),
        row(
            Fault::CorruptAttribute(3),
            "publish_subscribe",
            "`msg-2` arrived changed: attribute `type` is \"corrupted\"",
        ),
        row(
            Fault::CorruptAttribute(3),
            "consumer_groups",
            "arrived changed: attribute `type`",
        ),
    ])
    .await;
}

#[tokio::test(start_paused = true)]
async fn ignored_nacks_are_caught() {
    check([
        row(
            Fault::NackAcks,
            "resend_on_error",
            "no message arrived within 5s (90 of 100 messages received",
        ),
        row(
            Fault::NackAcks,
            "continue_after_errors",
            "no message arrived",
        ),
        row(Fault::NackAcks, "subscribe_cancel", "no message arrived"),
    ])
    .await;
}

#[tokio::test(start_paused = true)]
async fn broken_isolation_is_caught() {
    let stray = "which was not published to this topic";
    check([
        row(Fault::Misroute(7), "topic", stray),
        row(
            Fault::Misroute(7),
            "concurrent_subscribe_multiple_topics",
            "no message arrived",
        ),
        row(Fault::Leak(7), "topic", stray),
        // The very last message, once its topic's reader has everything.
        row(
            Fault::Leak(200),
            "topic",
            "received `second-99`, which was not published to this topic",
        ),
        // The first message of the second topic, into the first one, read to the end.
        row(
            Fault::Leak(101),
            "concurrent_subscribe_multiple_topics",
            stray,
        ),
        row(
            Fault::GroupsBroadcast,
            "consumer_groups",
            "the group broadcasts instead of sharing",
        ),
    ])
    .await;
}

#[tokio::test(start_paused = true)]
async fn broken_closes_are_caught() {
    let no_end = "the stream did not end within";
    check([
        row(Fault::IgnoreSubscriberClose, "message_cancellation", no_end),
        row(
            Fault::IgnorePublisherClose,
            "lifecycle",
            "publish after close succeeded",
        ),
        row(Fault::StreamsNeverEnd, "lifecycle", no_end),
        row(Fault::StreamsNeverEnd, "publish_subscribe", no_end),
        row(Fault::StreamsNeverEnd, "concurrent_subscribe", no_end),
        row(
            Fault::DeliverAfterClose,
            "publish_subscribe",
            "`msg-99` was delivered after the close returned",
        ),
        row(
            Fault::DeliverAfterClose,
            "message_cancellation",
            "`msg-20` was delivered after the close returned",
        ),
        row(
            Fault::PublisherCloseTwiceFails,
            "lifecycle",
            "closing a publisher failed: transport error: closed twice",
        ),
        row(
            Fault::SubscriberCloseTwiceFails,
            "lifecycle",
            "closing a subscriber failed: transport error: closed twice",
        ),
        row(
            Fault::PublishAfterClose,
            "lifecycle",
            "publish after close succeeded",
        ),
        row(
            Fault::PublishAfterClose,
            "publisher_close",
            "publishing after close returned Ok(()) instead of Error::Closed",
        ),
        row(
            Fault::SubscribeAfterClose,
            "lifecycle",
            "subscribe after close succeeded",
        ),
    ])
    .await;
}

/// A harness that fails the test when a scenario touches it.
struct Untouchable;

#[async_trait]
impl Harness for Untouchable {
    async fn publisher(&self) -> Result<Arc<dyn Publisher>> {
        panic!("a scenario that does not apply asked for a publisher")
    }

    async fn subscriber(&self) -> Result<Arc<dyn Subscriber>> {
        panic!("a scenario that does not apply asked for a subscriber")
    }

    async fn subscriber_in_group(&self, _group: &str) -> Result<Arc<dyn Subscriber>> {
        panic!("a scenario that does not apply asked for a group member")
    }
}

#[tokio::test(start_paused = true)]
async fn exactly_the_scenarios_that_do_not_apply_to_the_bus_say_so_before_running() {
    let replay = Features {
        new_subscriber_receives_old_messages: true,
        ..BUS
    };
    for (features, not_applicable) in [
        (
            BUS,
            &[
                "no_ack",
                "new_subscriber_receives_old_messages",
                "reconnect",
            ][..],
        ),
        (
            ORDERED,
            &["new_subscriber_receives_old_messages", "reconnect"],
        ),
        (replay, &["no_ack", "reconnect"]),
    ] {
        for scenario in scenarios::ALL {
            let name = scenario.name();
            let outcome = run(&Untouchable, name, features).await;
            if not_applicable.contains(&name) {
                assert!(
                    matches!(outcome, Ok(Outcome::NotApplicable(reason)) if reason.starts_with("needs ")),
                    "{name} with {features:?}: {outcome:?}"
                );
            } else {
                // Every other scenario applies: it reaches for the harness at once, and so
                // is never skipped in silence.
                assert!(
                    matches!(&outcome, Err(panic) if panic.contains("does not apply asked")),
                    "{name} with {features:?} should apply: {outcome:?}"
                );
            }
        }
    }
}
