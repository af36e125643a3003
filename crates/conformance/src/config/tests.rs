//! Tests of `SuiteConfig` validation.

use std::time::Duration;

use super::{ConfigError, SuiteConfig, SuiteConfigBuilder};

const MS: Duration = Duration::from_millis(1);

fn check(builder: SuiteConfigBuilder, expected: Result<(), ConfigError>) {
    assert_eq!(builder.build().map(drop), expected);
}

#[test]
fn the_paused_clock_configuration_is_valid() {
    let config = SuiteConfig::paused_clock();
    let rebuilt = SuiteConfig::builder()
        .message_timeout(config.message_timeout())
        .quiet_period(config.quiet_period())
        .close_timeout(config.close_timeout())
        .restart_timeout(config.restart_timeout())
        .scenario_timeout(config.scenario_timeout())
        .retry_interval(config.retry_interval());
    assert_eq!(rebuilt.build(), Ok(config));
}

#[test]
fn defaults_are_valid() {
    assert_eq!(SuiteConfig::builder().build(), Ok(SuiteConfig::default()));
    let config = SuiteConfig::default();
    assert_eq!(
        config.message_timeout(),
        SuiteConfig::DEFAULT_MESSAGE_TIMEOUT
    );
    assert_eq!(config.quiet_period(), SuiteConfig::DEFAULT_QUIET_PERIOD);
    assert_eq!(config.close_timeout(), SuiteConfig::DEFAULT_CLOSE_TIMEOUT);
    assert_eq!(
        config.restart_timeout(),
        SuiteConfig::DEFAULT_RESTART_TIMEOUT
    );
    assert_eq!(
        config.scenario_timeout(),
        SuiteConfig::DEFAULT_SCENARIO_TIMEOUT
    );
    assert_eq!(config.retry_interval(), SuiteConfig::DEFAULT_RETRY_INTERVAL);
}

#[test]
fn setters_are_kept() {
    let config = SuiteConfig::builder()
        .message_timeout(7 * MS)
        .quiet_period(2 * MS)
        .close_timeout(3 * MS)
        .restart_timeout(4 * MS)
        .scenario_timeout(9 * MS)
        .retry_interval(MS)
        .build()
        .expect("consistent");
    assert_eq!(
        [
            config.message_timeout(),
            config.quiet_period(),
            config.close_timeout(),
            config.restart_timeout(),
            config.scenario_timeout(),
            config.retry_interval(),
        ],
        [7 * MS, 2 * MS, 3 * MS, 4 * MS, 9 * MS, MS]
    );
}

#[test]
fn inconsistent_deadlines_are_rejected() {
    let b = SuiteConfig::builder;
    let inconsistent = |shorter, longer| Err(ConfigError::Inconsistent { shorter, longer });
    check(
        b().quiet_period(Duration::ZERO),
        Err(ConfigError::Zero {
            name: "quiet_period",
        }),
    );
    check(
        b().close_timeout(Duration::ZERO),
        Err(ConfigError::Zero {
            name: "close_timeout",
        }),
    );
    check(
        b().message_timeout(50 * MS).quiet_period(50 * MS),
        inconsistent("quiet_period", "message_timeout"),
    );
    check(b().message_timeout(50 * MS).quiet_period(49 * MS), Ok(()));
    check(
        b().message_timeout(50 * MS)
            .retry_interval(60 * MS)
            .quiet_period(MS),
        inconsistent("retry_interval", "message_timeout"),
    );
    check(
        b().scenario_timeout(SuiteConfig::DEFAULT_MESSAGE_TIMEOUT),
        inconsistent("restart_timeout", "scenario_timeout"),
    );
    check(
        b().scenario_timeout(5 * MS),
        inconsistent("message_timeout", "scenario_timeout"),
    );
    check(
        b().message_timeout(MS * 20)
            .close_timeout(MS * 20)
            .restart_timeout(MS * 20)
            .scenario_timeout(MS * 20)
            .quiet_period(MS)
            .retry_interval(MS),
        Ok(()),
    );
}

#[test]
fn errors_name_the_settings() {
    let err = SuiteConfig::builder()
        .quiet_period(Duration::from_secs(60))
        .build()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "`quiet_period` must be shorter than `message_timeout`"
    );
    let err = SuiteConfig::builder()
        .retry_interval(Duration::ZERO)
        .build()
        .unwrap_err();
    assert_eq!(err.to_string(), "`retry_interval` must be longer than zero");
}
