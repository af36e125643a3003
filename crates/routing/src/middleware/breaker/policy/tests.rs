//! The policy builder's validation, as a table of builders and the error each must give.

use std::time::Duration;

use super::{CircuitPolicy, CircuitPolicyBuilder, ConfigError};

fn zero(setting: &'static str) -> Option<ConfigError> {
    Some(ConfigError::Zero { setting })
}

fn out_of_range(setting: &'static str) -> Option<ConfigError> {
    let reason = match setting {
        "failure_ratio" | "failure_rate_over" => "must be above 0 and at most 1",
        "window" => "must be at most 100000 calls",
        _ => "must be at most a year",
    };
    Some(ConfigError::OutOfRange { setting, reason })
}

fn check(builder: CircuitPolicyBuilder, expected: Option<ConfigError>) {
    let built = builder.clone().build();
    assert_eq!(built.err(), expected, "{builder:?}");
}

#[test]
fn every_setting_is_validated() {
    let b = CircuitPolicy::builder;
    let minute = Duration::from_secs(60);
    check(
        b(),
        Some(ConfigError::MissingOneOf {
            settings: "`consecutive_failures`, `failure_ratio`, `failure_rate_over`",
        }),
    );
    check(b().consecutive_failures(1), None);
    check(b().failure_ratio(1.0, 1), None);
    check(b().failure_rate_over(0.5, minute, 1), None);
    check(
        b().consecutive_failures(5)
            .failure_rate_over(0.5, minute, 20),
        None,
    );
    check(b().consecutive_failures(0), zero("consecutive_failures"));
    for ratio in [0.0, 1.5, f64::NAN] {
        check(b().failure_ratio(ratio, 10), out_of_range("failure_ratio"));
        check(
            b().failure_rate_over(ratio, minute, 10),
            out_of_range("failure_rate_over"),
        );
    }
    check(b().failure_ratio(0.5, 0), zero("window"));
    check(
        b().failure_ratio(0.5, CircuitPolicy::MAX_WINDOW_CALLS + 1),
        out_of_range("window"),
    );
    check(
        b().failure_rate_over(0.5, Duration::ZERO, 10),
        zero("window"),
    );
    check(b().failure_rate_over(0.5, minute, 0), zero("min_calls"));
    let too_long = CircuitPolicy::MAX_DURATION + Duration::from_secs(1);
    check(
        b().failure_rate_over(0.5, too_long, 10),
        Some(ConfigError::OutOfRange {
            setting: "window",
            reason: "must be at most a year",
        }),
    );
    let rule = || b().consecutive_failures(1);
    check(rule().cool_down(Duration::ZERO), zero("cool_down"));
    check(rule().cool_down(too_long), out_of_range("cool_down"));
    check(rule().cool_down(CircuitPolicy::MAX_DURATION), None);
    check(rule().half_open_probes(0), zero("half_open_probes"));
}

#[test]
fn the_last_failure_rate_given_wins() {
    let policy = CircuitPolicy::builder()
        .failure_ratio(0.0, 0)
        .failure_rate_over(0.5, Duration::from_secs(1), 1)
        .build();
    assert!(policy.is_ok(), "the invalid ratio was replaced: {policy:?}");
}

#[test]
fn the_default_is_what_its_builder_makes() {
    let built = CircuitPolicy::builder()
        .consecutive_failures(5)
        .failure_rate_over(0.5, Duration::from_secs(60), 20)
        .build();
    assert_eq!(built, Ok(CircuitPolicy::default()));
}
