//! Unit tests of [`BatchConfig`] validation.

use std::time::Duration;

use switchyard_core::Limits;

use super::{BatchConfig, BatchConfigBuilder, BatchConfigError};

fn check(builder: BatchConfigBuilder, expected: Result<(), BatchConfigError>) {
    assert_eq!(builder.build().map(|_| ()), expected);
}

fn zero(setting: &'static str) -> Result<(), BatchConfigError> {
    Err(BatchConfigError::Zero { setting })
}

fn out_of_range(setting: &'static str, reason: &'static str) -> Result<(), BatchConfigError> {
    Err(BatchConfigError::OutOfRange { setting, reason })
}

#[test]
fn defaults_are_the_documented_values() {
    let config = BatchConfig::builder().build().unwrap();
    assert_eq!(config, BatchConfig::default());
    assert_eq!(config.max_batch_size(), 100);
    assert_eq!(config.max_latency(), Duration::from_millis(5));
    assert_eq!(config.max_pending(), 10_000);
    assert_eq!(config.max_concurrent_batches(), 32);
    assert_eq!(config.close_timeout(), Duration::from_secs(30));
    assert_eq!(config.limits(), None);
}

#[test]
fn build_validates_every_setting() {
    let b = BatchConfig::builder;
    check(b().max_batch_size(1).max_pending(1), Ok(()));
    check(b().max_batch_size(0), zero("max_batch_size"));
    check(b().max_latency(Duration::ZERO), zero("max_latency"));
    check(b().max_pending(0), zero("max_pending"));
    check(
        b().max_concurrent_batches(0),
        zero("max_concurrent_batches"),
    );
    check(b().close_timeout(Duration::ZERO), zero("close_timeout"));
    check(b().max_latency(BatchConfig::MAX_LATENCY_LIMIT), Ok(()));
    check(
        b().max_latency(BatchConfig::MAX_LATENCY_LIMIT + Duration::from_nanos(1)),
        out_of_range("max_latency", "must be at most one hour"),
    );
    check(b().max_pending(BatchConfig::MAX_PENDING_LIMIT), Ok(()));
    check(
        b().max_pending(BatchConfig::MAX_PENDING_LIMIT + 1),
        out_of_range("max_pending", "must be at most 2^24 messages"),
    );
    check(
        b().max_batch_size(11).max_pending(10),
        out_of_range("max_batch_size", "must not exceed `max_pending`"),
    );
}

#[test]
fn setters_are_kept() {
    let config = BatchConfig::builder()
        .max_batch_size(7)
        .max_latency(Duration::from_millis(9))
        .max_pending(70)
        .max_concurrent_batches(3)
        .close_timeout(Duration::from_secs(2))
        .limits(Limits::new().with_max_payload_bytes(10))
        .build()
        .unwrap();
    assert_eq!(
        (
            config.max_batch_size(),
            config.max_latency(),
            config.max_pending(),
            config.max_concurrent_batches(),
            config.close_timeout()
        ),
        (7, Duration::from_millis(9), 70, 3, Duration::from_secs(2))
    );
    assert_eq!(config.limits().map(|l| l.max_payload_bytes()), Some(10));
}

#[test]
fn errors_name_the_setting() {
    let err = BatchConfig::builder().max_pending(0).build().unwrap_err();
    assert_eq!(err.to_string(), "`max_pending` must not be zero");
    let err = BatchConfig::builder()
        .max_batch_size(20)
        .max_pending(10)
        .build()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "`max_batch_size` must not exceed `max_pending`"
    );
}
