//! The whole suite on the correct reference transport, under several feature sets: what
//! applies passes, and exactly the scenarios whose features are missing are reported as
//! not applicable.

use std::{future::ready, panic::AssertUnwindSafe};

use futures::FutureExt;
use switchyard_conformance::{Features, SuiteConfig, run_all, scenarios};

use crate::reference::{Faults, Mode, Reference};

async fn check(mode: Mode, features: Features, not_applicable: &[&str]) {
    let report = run_all(
        || ready(Reference::new(mode)),
        features,
        &SuiteConfig::paused_clock(),
    )
    .await;
    let skipped: Vec<&str> = report
        .not_applicable()
        .iter()
        .map(|(name, _)| *name)
        .collect();
    assert_eq!(skipped, not_applicable, "{report}");
    let mut every: Vec<&str> = report.passed().to_vec();
    every.extend(&skipped);
    every.sort_unstable();
    let mut all: Vec<&str> = scenarios::ALL.iter().map(|s| s.name()).collect();
    all.sort_unstable();
    assert_eq!(every, all, "every scenario is reported once");
}

#[tokio::test(start_paused = true)]
async fn an_unordered_in_process_transport_with_groups() {
    let mode = Mode::default();
    let features = Features {
        consumer_groups: true,
        guaranteed_order_single_subscriber: true,
        ..Features::default()
    };
    check(
        mode,
        features,
        &[
            "no_ack",
            "new_subscriber_receives_old_messages",
            "reconnect",
        ],
    )
    .await;
}

#[tokio::test(start_paused = true)]
async fn an_ordered_single_instance() {
    let mode = Mode {
        ordered: true,
        single_instance: true,
        ..Mode::default()
    };
    let features = Features {
        consumer_groups: true,
        guaranteed_order: true,
        require_single_instance: true,
        ..Features::default()
    };
    check(
        mode,
        features,
        &["new_subscriber_receives_old_messages", "reconnect"],
    )
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_persistent_restartable_exactly_once_broker() {
    let mode = Mode {
        persistent: true,
        replay: true,
        ordered: true,
        restartable: true,
        ..Mode::default()
    };
    let features = Features {
        consumer_groups: true,
        exactly_once: true,
        guaranteed_order: true,
        guaranteed_order_single_subscriber: true,
        persistent: true,
        restart_service: true,
        new_subscriber_receives_old_messages: true,
        require_single_instance: false,
    };
    check(mode, features, &[]).await;
}

#[tokio::test(start_paused = true)]
async fn a_transport_that_claims_nothing() {
    check(
        Mode::default(),
        Features::default(),
        &[
            "no_ack",
            "continue_after_subscribe_close",
            "continue_after_errors",
            "publish_subscribe_in_order",
            "subscribe_cancel",
            "new_subscriber_receives_old_messages",
            "reconnect",
            "consumer_groups",
        ],
    )
    .await;
}

#[tokio::test(start_paused = true)]
async fn run_all_runs_every_scenario_before_reporting_failures() {
    // Losing every 7th message breaks every scenario that reads more than a few, and the
    // lifecycle check (2 messages) still passes: the panic must name the failures and
    // still list what passed after the first failure.
    let faults = Faults {
        lose_every: Some(7),
        ..Faults::default()
    };
    let config = SuiteConfig::paused_clock();
    let run = run_all(
        || ready(Reference::broken(Mode::default(), faults)),
        Features::default(),
        &config,
    );
    let panic = AssertUnwindSafe(run)
        .catch_unwind()
        .await
        .expect_err("a lossy transport fails");
    let message = panic
        .downcast_ref::<String>()
        .expect("run_all panics with a formatted message");
    assert!(
        message.contains("conformance scenarios failed:\n- publish_subscribe: "),
        "{message}"
    );
    assert!(message.contains("\n- publisher_close: "), "{message}");
    assert!(message.contains("passed (1): lifecycle"), "{message}");
    assert!(message.contains("not applicable (8):"), "{message}");
}

#[test]
fn scenarios_have_unique_names_and_are_found_by_name() {
    let names: Vec<&str> = scenarios::ALL.iter().map(|s| s.name()).collect();
    assert_eq!(names.len(), 17, "16 scenarios and the lifecycle check");
    for name in &names {
        let found = scenarios::by_name(name).expect("listed");
        assert_eq!(found.name(), *name);
        assert_eq!(
            names.iter().filter(|n| *n == name).count(),
            1,
            "{name} is unique"
        );
    }
    assert!(scenarios::by_name("nothing").is_none());
}
