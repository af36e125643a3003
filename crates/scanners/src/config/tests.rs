//! The builder checks every value; the defaults are the documented ones.

use std::time::Duration;

use super::{Config, ConfigBuilder};
use crate::{Backoff, Error, Jitter};

#[test]
fn defaults_are_the_documented_values() {
    let config = Config::builder().build().unwrap();
    assert_eq!(config, Config::default());
    assert_eq!(config.lease_expiry_interval(), Duration::from_millis(1_500));
    assert_eq!(
        config.delayed_promoter_interval(),
        Duration::from_millis(750)
    );
    assert_eq!(config.attempt_timeout_interval(), Duration::from_secs(2));
    assert_eq!(config.retention_trimmer_interval(), Duration::from_secs(60));
    assert_eq!(config.reconciler_interval(), Duration::from_secs(15));
    assert_eq!(config.shutdown_timeout(), Duration::from_secs(15));
    assert_eq!(config.scan_timeout(), Duration::from_secs(30));
    assert_eq!(
        config.restart_backoff(),
        Backoff::new(Duration::from_secs(1), Duration::from_secs(60)).unwrap()
    );
    assert_eq!(config.jitter(), Jitter::new(0.1).unwrap());
    assert_eq!(config.unhealthy_after(), 5);
    assert_eq!(
        config.router().families().collect::<Vec<_>>(),
        [("default", 16)]
    );
}

/// A change to a default builder.
type Change = fn(ConfigBuilder) -> ConfigBuilder;

#[test]
fn build_rejects_invalid_values() {
    let zero = Duration::ZERO;
    let interval = |field: &str| Error::ZeroInterval {
        scanner: field.to_owned(),
    };
    let invalid =
        |field: &'static str, reason: &'static str| Error::InvalidConfig { field, reason };
    let cases: Vec<(Change, Error)> = vec![
        (
            |b| b.lease_expiry_interval(Duration::ZERO),
            interval("lease_expiry_interval"),
        ),
        (
            |b| b.delayed_promoter_interval(Duration::ZERO),
            interval("delayed_promoter_interval"),
        ),
        (
            |b| b.attempt_timeout_interval(Duration::ZERO),
            interval("attempt_timeout_interval"),
        ),
        (
            |b| b.retention_trimmer_interval(Duration::ZERO),
            interval("retention_trimmer_interval"),
        ),
        (
            |b| b.reconciler_interval(Duration::ZERO),
            interval("reconciler_interval"),
        ),
        (|b| b.scan_timeout(Duration::ZERO), interval("scan_timeout")),
        (
            |b| b.family("flow", 8).family("budget", 0),
            Error::ZeroPartitions {
                family: "budget".into(),
            },
        ),
        (
            |b| b.family("", 8),
            invalid("families", "a family name must not be empty"),
        ),
        (
            |b| b.jitter(0.5),
            invalid("jitter", "must be at least 0 and below 0.5"),
        ),
        (
            |b| b.unhealthy_after(0),
            invalid("unhealthy_after", "must be at least 1"),
        ),
        (
            |b| b.restart_backoff(Duration::from_secs(2), Duration::from_secs(1)),
            invalid("backoff", "the cap must not be below the first delay"),
        ),
    ];
    for (change, expected) in cases {
        assert_eq!(change(Config::builder()).build().unwrap_err(), expected);
    }
    // A zero shutdown timeout is allowed: signal, and report at once.
    assert_eq!(
        Config::builder()
            .shutdown_timeout(zero)
            .build()
            .unwrap()
            .shutdown_timeout(),
        zero
    );
}

#[test]
fn declared_families_replace_the_default_one() {
    let config = Config::builder()
        .family("flow", 32)
        .family("budget", 4)
        .family("flow", 8)
        .build()
        .unwrap();
    assert_eq!(
        config.router().families().collect::<Vec<_>>(),
        [("flow", 8), ("budget", 4)]
    );
    assert_eq!(config.router().count("default"), None);
}
