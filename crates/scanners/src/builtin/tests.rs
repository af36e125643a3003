//! The built-in scanners' builders check their settings.

use std::time::Duration;

use crate::{
    AttemptTimeoutScanner, Config, DelayedPromoter, Error, LeaseExpiryScanner, MemoryStore,
    Retention, RetentionTrimmer, Scanner,
};

fn store() -> MemoryStore {
    MemoryStore::builder(1).build().unwrap()
}

#[test]
fn defaults_follow_the_config_defaults() {
    let lease = LeaseExpiryScanner::builder(store()).build().unwrap();
    let delayed = DelayedPromoter::builder(store()).build().unwrap();
    let attempt = AttemptTimeoutScanner::builder(store()).build().unwrap();
    let retention = RetentionTrimmer::builder(store()).build().unwrap();
    let scanners: [(&dyn Scanner, &str, Duration); 4] = [
        (
            &lease,
            "lease_expiry",
            Config::DEFAULT_LEASE_EXPIRY_INTERVAL,
        ),
        (
            &delayed,
            "delayed_promoter",
            Config::DEFAULT_DELAYED_PROMOTER_INTERVAL,
        ),
        (
            &attempt,
            "attempt_timeout",
            Config::DEFAULT_ATTEMPT_TIMEOUT_INTERVAL,
        ),
        (
            &retention,
            "retention_trimmer",
            Config::DEFAULT_RETENTION_TRIMMER_INTERVAL,
        ),
    ];
    for (scanner, name, interval) in scanners {
        assert_eq!(
            (scanner.name(), scanner.interval(), scanner.family()),
            (name, interval, "default")
        );
    }
}

#[test]
fn builders_reject_invalid_settings() {
    let invalid = |field, reason| Error::InvalidConfig { field, reason };
    let cases = [
        (
            LeaseExpiryScanner::builder(store())
                .interval(Duration::ZERO)
                .build()
                .map(drop),
            Error::ZeroInterval {
                scanner: "lease_expiry".into(),
            },
        ),
        (
            LeaseExpiryScanner::builder(store())
                .max_deliveries(0)
                .build()
                .map(drop),
            invalid("max_deliveries", "must be at least 1"),
        ),
        (
            AttemptTimeoutScanner::builder(store())
                .max_deliveries(0)
                .build()
                .map(drop),
            invalid("max_deliveries", "must be at least 1"),
        ),
        (
            DelayedPromoter::builder(store())
                .batch_size(0)
                .build()
                .map(drop),
            invalid("batch_size", "must be at least 1"),
        ),
        (
            DelayedPromoter::builder(store())
                .max_batches(0)
                .build()
                .map(drop),
            invalid("max_batches", "must be at least 1"),
        ),
        (
            DelayedPromoter::builder(store()).name("").build().map(drop),
            invalid("name", "must not be empty"),
        ),
        (
            RetentionTrimmer::builder(store())
                .topic("t", Retention::new().max_len(0))
                .build()
                .map(drop),
            invalid("retention max_len", "must be at least 1"),
        ),
        (
            RetentionTrimmer::builder(store())
                .default_retention(Retention::new().max_age(Duration::ZERO))
                .build()
                .map(drop),
            invalid("retention max_age", "must not be zero"),
        ),
    ];
    for (built, expected) in cases {
        assert_eq!(built.unwrap_err(), expected);
    }
}

#[test]
fn topic_retention_overrides_the_default() {
    let day = Duration::from_secs(24 * 3600);
    let trimmer = RetentionTrimmer::builder(store())
        .default_retention(Retention::new().max_age(day))
        .topic("audit", Retention::new())
        .topic("clicks", Retention::new().max_len(5))
        .topic("clicks", Retention::new().max_len(10))
        .build()
        .unwrap();
    let cases = [
        ("orders", Some(Retention::new().max_age(day))),
        ("audit", None),
        ("clicks", Some(Retention::new().max_len(10))),
    ];
    for (topic, expected) in cases {
        assert_eq!(trimmer.retention_of(topic), expected, "{topic}");
    }
}
