//! The suite against deliberately broken variants of the reference transport: each
//! breakage must make the scenario meant to catch it fail, with a message that says what
//! was observed. Together with `suite.rs` (the same scenarios pass on the correct
//! reference), this shows that the scenarios can fail.

use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use switchyard_conformance::{Features, Outcome, SuiteConfig, scenarios};

use crate::reference::{Faults, Mode, Reference};

/// Runs `scenario` on a reference with `mode` and `faults`, claiming `features`, and
/// checks that it fails with a message containing `expected`.
async fn check(mode: Mode, faults: Faults, features: Features, scenario: &str, expected: &str) {
    let harness = Reference::broken(mode, faults);
    let config = SuiteConfig::paused_clock();
    let run = scenarios::by_name(scenario)
        .expect("a known scenario")
        .run(&harness, features, &config);
    let result: Result<Outcome, _> = AssertUnwindSafe(run).catch_unwind().await;
    let panic = match result {
        Ok(outcome) => panic!("{scenario} did not catch {faults:?}: {outcome:?}"),
        Err(panic) => panic,
    };
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or_default();
    assert!(
        message.contains(expected),
        "{scenario} failed on {faults:?}, but with {message:?} instead of {expected:?}"
    );
}

const GROUPS: Features = Features {
    consumer_groups: true,
    exactly_once: false,
    guaranteed_order: false,
    guaranteed_order_single_subscriber: false,
    persistent: false,
    restart_service: false,
    new_subscriber_receives_old_messages: false,
    require_single_instance: false,
};

fn faults(f: impl FnOnce(&mut Faults)) -> Faults {
    let mut faults = Faults::default();
    f(&mut faults);
    faults
}

#[tokio::test(start_paused = true)]
async fn losses_are_caught() {
    let lossy = faults(|f| f.lose_every = Some(37));
    check(
        Mode::default(),
        lossy,
        GROUPS,
        "publish_subscribe",
        "98 of 100 messages",
    )
    .await;
    check(
        Mode::default(),
        lossy,
        GROUPS,
        "concurrent_subscribe",
        "messages received",
    )
    .await;
    check(
        Mode::default(),
        lossy,
        GROUPS,
        "publisher_close",
        "messages received",
    )
    .await;
    check(
        Mode::default(),
        lossy,
        GROUPS,
        "concurrent_subscribe_multiple_topics",
        "messages received",
    )
    .await;
    check(
        Mode::default(),
        lossy,
        GROUPS,
        "continue_after_subscribe_close",
        "missing: ",
    )
    .await;
}

#[tokio::test(start_paused = true)]
async fn changed_messages_are_caught() {
    let corrupt = faults(|f| f.corrupt_check = true);
    check(
        Mode::default(),
        corrupt,
        GROUPS,
        "publish_subscribe",
        "arrived changed: attribute `confcheck` is \"corrupted\"",
    )
    .await;
}

#[tokio::test(start_paused = true)]
async fn broken_nacks_are_caught() {
    let drop_nacked = faults(|f| f.drop_nacked = true);
    check(
        Mode::default(),
        drop_nacked,
        GROUPS,
        "resend_on_error",
        "no message arrived",
    )
    .await;
    check(
        Mode::default(),
        drop_nacked,
        GROUPS,
        "continue_after_errors",
        "no message arrived",
    )
    .await;
    let lose_dropped = faults(|f| f.lose_dropped = true);
    check(
        Mode::default(),
        lose_dropped,
        GROUPS,
        "subscribe_cancel",
        "no message arrived",
    )
    .await;
}

#[tokio::test(start_paused = true)]
async fn broken_isolation_is_caught() {
    let leak = faults(|f| f.leak_topics = true);
    check(
        Mode::default(),
        leak,
        GROUPS,
        "topic",
        "which was not published to this topic",
    )
    .await;
    let broadcast = faults(|f| f.groups_broadcast = true);
    check(
        Mode::default(),
        broadcast,
        GROUPS,
        "consumer_groups",
        "the group broadcasts instead of sharing",
    )
    .await;
}

#[tokio::test(start_paused = true)]
async fn broken_ordering_is_caught() {
    let ordered = Features {
        guaranteed_order: true,
        ..GROUPS
    };
    // The reference delivers ahead of acks unless ordered: claiming order is then false.
    check(
        Mode::default(),
        Faults::default(),
        ordered,
        "no_ack",
        "was delivered within",
    )
    .await;
    let reorder = faults(|f| f.reorder_every = Some(10));
    check(
        Mode::default(),
        reorder,
        ordered,
        "publish_subscribe_in_order",
        "which was published later",
    )
    .await;
}

#[tokio::test(start_paused = true)]
async fn redelivery_after_every_ack_is_caught_with_or_without_exactly_once() {
    // Every ack queues the message again, behind the others: once every message was
    // received and acked, with nothing nacked, they keep coming back. Delivery at least
    // once does not excuse that.
    let duplicate = faults(|f| f.duplicate_after_ack = true);
    let once = Features {
        exactly_once: true,
        ..GROUPS
    };
    for features in [GROUPS, once] {
        check(
            Mode::default(),
            duplicate,
            features,
            "publish_subscribe",
            "with nothing nacked: an ack was not honoured: `msg-0` was delivered within",
        )
        .await;
    }
}

#[tokio::test(start_paused = true)]
async fn broken_closes_are_caught() {
    let survive = faults(|f| f.streams_survive_close = true);
    check(
        Mode::default(),
        survive,
        GROUPS,
        "lifecycle",
        "the stream did not end within",
    )
    .await;
    check(
        Mode::default(),
        survive,
        GROUPS,
        "message_cancellation",
        "the stream did not end",
    )
    .await;
    let accept = faults(|f| f.accept_after_close = true);
    check(
        Mode::default(),
        accept,
        GROUPS,
        "lifecycle",
        "publish after close succeeded (()) instead of failing with Error::Closed",
    )
    .await;
    check(
        Mode::default(),
        accept,
        GROUPS,
        "publisher_close",
        "instead of Error::Closed",
    )
    .await;
}

#[tokio::test(start_paused = true)]
async fn features_that_are_claimed_but_missing_are_caught() {
    let claims = |f: fn(&mut Features)| {
        let mut features = GROUPS;
        f(&mut features);
        features
    };
    let none = Faults::default();
    check(
        Mode::default(),
        none,
        claims(|f| f.persistent = true),
        "publish_subscribe",
        "no message arrived",
    )
    .await;
    check(
        Mode::default(),
        none,
        claims(|f| f.new_subscriber_receives_old_messages = true),
        "new_subscriber_receives_old_messages",
        "no message arrived",
    )
    .await;
    check(
        Mode::default(),
        none,
        claims(|f| f.restart_service = true),
        "reconnect",
        "could not restart the broker",
    )
    .await;
    // One instance that says its clients are independent: the lifecycle check closes one
    // publisher and expects another to keep working.
    let single = Mode {
        single_instance: true,
        ..Mode::default()
    };
    check(
        single,
        none,
        GROUPS,
        "lifecycle",
        "failed: reference publisher is closed",
    )
    .await;
}
