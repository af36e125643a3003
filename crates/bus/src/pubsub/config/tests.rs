//! Unit tests of `config.rs`: defaults, validation and the backoff schedule.

use std::time::Duration;

use super::*;

#[test]
fn defaults_are_the_documented_ones() {
    let config = PubSubConfig::default();
    assert_eq!(config, PubSubConfig::builder().build().unwrap());
    assert_eq!(config.buffer(), 1024);
    assert_eq!(
        config.policy(),
        SlowConsumerPolicy::Block {
            timeout: Duration::from_secs(1)
        }
    );
    assert_eq!(config.max_in_flight(), 1000);
    assert_eq!(config.redelivery_delay(), Duration::from_millis(100));
    assert_eq!(config.max_redelivery_delay(), Duration::from_secs(10));
    assert_eq!(config.replay_capacity(), 0, "replay is off by default");
    assert_eq!(config.max_replay_topics(), 1024);
    assert_eq!(config.replay_on_subscribe(), 0);
    assert_eq!(config.max_subscriptions(), 65_536);
    assert_eq!(config.close_timeout(), Duration::from_secs(5));
    assert_eq!(config.limits(), Limits::default());
}

fn check(builder: PubSubConfigBuilder, expected: Result<(), ConfigError>) {
    assert_eq!(builder.build().map(drop), expected);
}

#[test]
fn build_rejects_zeros_and_inconsistencies() {
    let zero = |field| Err(ConfigError::Zero { field });
    let invalid = |field, reason| Err(ConfigError::Invalid { field, reason });
    let b = PubSubConfig::builder;
    check(b().buffer(0), zero("buffer"));
    check(b().max_in_flight(0), zero("max_in_flight"));
    check(
        b().redelivery_delay(Duration::ZERO),
        zero("redelivery_delay"),
    );
    check(b().max_replay_topics(0), zero("max_replay_topics"));
    check(b().max_subscriptions(0), zero("max_subscriptions"));
    check(b().close_timeout(Duration::ZERO), zero("close_timeout"));
    check(
        b().policy(SlowConsumerPolicy::Block {
            timeout: Duration::ZERO,
        }),
        zero("policy timeout"),
    );
    check(
        b().redelivery_delay(Duration::from_secs(2))
            .max_redelivery_delay(Duration::from_secs(1)),
        invalid(
            "max_redelivery_delay",
            "it is shorter than redelivery_delay",
        ),
    );
    check(
        b().replay(5).replay_on_subscribe(6),
        invalid(
            "replay_on_subscribe",
            "it is larger than the replay capacity",
        ),
    );
    check(b().replay(5).replay_on_subscribe(5), Ok(()));
    check(b().policy(SlowConsumerPolicy::Fail).buffer(1), Ok(()));
}

#[test]
fn backoff_doubles_from_the_first_delay_up_to_the_cap() {
    let config = PubSubConfig::builder()
        .redelivery_delay(Duration::from_millis(100))
        .max_redelivery_delay(Duration::from_millis(1000))
        .build()
        .unwrap();
    let delays: Vec<u64> = (1..=7)
        .map(|deliveries| config.backoff(deliveries).as_millis() as u64)
        .collect();
    assert_eq!(delays, [100, 200, 400, 800, 1000, 1000, 1000]);
    // Huge delivery counts neither overflow nor pass the cap.
    assert_eq!(config.backoff(u32::MAX), Duration::from_millis(1000));
    assert_eq!(config.backoff(0), Duration::from_millis(100));
}

#[test]
fn no_backoff_passes_the_cap_whatever_the_settings() {
    let cap = PubSubConfig::MAX_REDELIVERY_DELAY;
    let uncapped = PubSubConfig::builder()
        .redelivery_delay(Duration::from_millis(100))
        .max_redelivery_delay(Duration::MAX)
        .build()
        .unwrap();
    assert_eq!(uncapped.backoff(u32::MAX), cap);
    assert_eq!(uncapped.backoff(25), Duration::from_millis(100 << 24));
    let slow = PubSubConfig::builder()
        .redelivery_delay(Duration::MAX)
        .max_redelivery_delay(Duration::MAX)
        .build()
        .unwrap();
    assert_eq!(slow.backoff(1), cap);
}
