//! Every builder rejects its invalid settings with a typed error and accepts valid ones.

use std::{fmt::Debug, sync::Arc, time::Duration};

use switchyard_routing::middleware::{
    ConfigError,
    breaker::{CircuitBreakerLayer, CircuitBreakerLayerBuilder, CircuitPolicy},
    dedup::DeduplicatorLayer,
    poison::PoisonQueueLayer,
    retry::RetryLayer,
    throttle::{ThrottleLayer, ThrottleLayerBuilder},
    timeout::TimeoutLayer,
};

use super::support::{Mode, RecordingPublisher};

const ZERO: Duration = Duration::ZERO;
const SECOND: Duration = Duration::from_secs(1);

/// Checks a build result against the expected error, `None` meaning it must succeed.
#[track_caller]
fn check<T: Debug>(built: Result<T, ConfigError>, expected: Option<ConfigError>) {
    match (built, expected) {
        (Ok(_), None) => {}
        (Err(err), Some(expected)) => assert_eq!(err, expected),
        (built, expected) => panic!("built {built:?}, expected {expected:?}"),
    }
}

fn zero(setting: &'static str) -> Option<ConfigError> {
    Some(ConfigError::Zero { setting })
}

fn out_of_range(setting: &'static str) -> Option<ConfigError> {
    Some(ConfigError::OutOfRange {
        setting,
        reason: match setting {
            "max_delay" => "must not be shorter than `min_delay`",
            "factor" => "must be finite and at least 1",
            "calls" => "must be at most 100000 per period; use a shorter period",
            "failure_ratio" => "must be above 0 and at most 1",
            "window" => "must be at most 100000 calls",
            _ => "unknown setting",
        },
    })
}

#[test]
fn retry() {
    let b = RetryLayer::builder;
    check(b().build(), None);
    check(b().max_attempts(1).max_elapsed(SECOND).build(), None);
    check(b().max_attempts(0).build(), zero("max_attempts"));
    check(b().min_delay(ZERO).build(), zero("min_delay"));
    check(
        b().max_delay(Duration::from_millis(1)).build(),
        out_of_range("max_delay"),
    );
    check(b().factor(0.5).build(), out_of_range("factor"));
    check(b().factor(f32::NAN).build(), out_of_range("factor"));
    check(b().factor(f32::INFINITY).build(), out_of_range("factor"));
    check(b().max_elapsed(ZERO).build(), zero("max_elapsed"));
}

#[test]
fn timeout() {
    check(TimeoutLayer::new(SECOND), None);
    check(TimeoutLayer::new(ZERO), zero("after"));
}

#[test]
fn poison() {
    let publisher = RecordingPublisher::new(Mode::Accept);
    let b = |topic: &str| PoisonQueueLayer::builder(publisher.clone(), topic);
    check(b("poison").build(), None);
    check(b("").build(), Some(ConfigError::Empty { setting: "topic" }));
    check(
        b("poison").publish_timeout(ZERO).build(),
        zero("publish_timeout"),
    );
    assert_eq!(b("poison").build().unwrap().topic(), "poison");
}

#[test]
fn throttle() {
    let b = ThrottleLayer::builder;
    check(b(1, SECOND).build(), None);
    check(b(1, SECOND).max_wait(ZERO).build(), None);
    check(b(ThrottleLayerBuilder::MAX_CALLS, SECOND).build(), None);
    check(b(0, SECOND).build(), zero("calls"));
    check(b(1, ZERO).build(), zero("period"));
    check(
        b(ThrottleLayerBuilder::MAX_CALLS + 1, SECOND).build(),
        out_of_range("calls"),
    );
}

#[test]
fn dedup() {
    let b = DeduplicatorLayer::builder;
    check(b().build(), None);
    check(b().max_entries(0).build(), zero("max_entries"));
    check(b().max_age(ZERO).build(), zero("max_age"));
}

#[test]
fn breaker() {
    let b = CircuitBreakerLayer::builder;
    check(b().build(), None);
    check(b().failure_ratio(1.0, 1).build(), None);
    check(
        b().name("").build(),
        Some(ConfigError::Empty { setting: "name" }),
    );
    check(
        b().consecutive_failures(0).build(),
        zero("consecutive_failures"),
    );
    check(
        b().failure_ratio(0.0, 10).build(),
        out_of_range("failure_ratio"),
    );
    check(
        b().failure_ratio(1.5, 10).build(),
        out_of_range("failure_ratio"),
    );
    check(
        b().failure_ratio(f64::NAN, 10).build(),
        out_of_range("failure_ratio"),
    );
    check(b().failure_ratio(0.5, 0).build(), zero("window"));
    let too_wide = CircuitBreakerLayerBuilder::MAX_WINDOW + 1;
    check(
        b().failure_ratio(0.5, too_wide).build(),
        out_of_range("window"),
    );
    check(b().cool_down(ZERO).build(), zero("cool_down"));
    check(b().half_open_probes(0).build(), zero("half_open_probes"));
    // The last trip rule set wins.
    check(
        b().failure_ratio(0.0, 0).consecutive_failures(3).build(),
        None,
    );
    // A policy is valid already; what is set after it is checked again.
    let policy = CircuitPolicy::default();
    check(b().policy(policy).build(), None);
    check(
        b().policy(policy).cool_down(ZERO).build(),
        zero("cool_down"),
    );
    check(
        b().policy(policy).failure_ratio(0.5, 0).build(),
        zero("window"),
    );
    assert_eq!(b().name("payments").build().unwrap().name(), "payments");
}

#[test]
fn errors_name_the_setting() {
    let publisher = RecordingPublisher::new(Mode::Accept);
    let err = PoisonQueueLayer::builder(publisher as Arc<_>, "")
        .build()
        .unwrap_err();
    assert_eq!(err.to_string(), "`topic` must not be empty");
    let err = RetryLayer::builder().factor(0.1).build().unwrap_err();
    assert_eq!(err.to_string(), "`factor` must be finite and at least 1");
}
