//! Every setting's validation, as a table.

use super::*;

type Change = fn(EndpointConfigBuilder) -> EndpointConfigBuilder;

fn check(change: Change, expected: Result<(), ConfigError>) {
    let built = change(EndpointConfig::builder()).build();
    assert_eq!(built.map(|_| ()), expected);
}

fn zero(setting: &'static str) -> Result<(), ConfigError> {
    Err(ConfigError::Zero { setting })
}

fn out_of_range(setting: &'static str) -> Result<(), ConfigError> {
    Err(ConfigError::OutOfRange {
        setting,
        reason: match setting {
            "failure_rate_threshold" => "must be above 0 and at most 1",
            "max_endpoints" => "must be at most 1048576",
            "failure_rate_window" | "circuit_cool_down" => "must be at most a year",
            _ => "must fit in a tokio semaphore",
        },
    })
}

#[test]
fn defaults_are_valid_and_documented() {
    let built = EndpointConfig::builder().build().unwrap();
    assert_eq!(built, EndpointConfig::default());
    assert_eq!(built.health_check_interval(), Duration::from_secs(5));
    assert_eq!(built.health_check_timeout(), Duration::from_secs(2));
    assert_eq!(built.max_concurrent_deliveries(), 1000);
    assert_eq!(built.acquire_timeout(), Duration::from_secs(5));
    assert_eq!(built.load_balancing(), LoadBalancing::RoundRobin);
    assert_eq!(built.slow_routing_threshold(), Duration::from_micros(100));
    assert_eq!(built.max_endpoints(), 10_000);
    assert_eq!(built.consecutive_failures(), 5);
    assert_eq!(built.failure_rate_threshold(), 0.5);
    assert_eq!(built.failure_rate_window(), Duration::from_secs(60));
    assert_eq!(built.failure_rate_min_calls(), 20);
    assert_eq!(built.circuit_cool_down(), Duration::from_secs(30));
    assert_eq!(built.half_open_trial_calls(), 1);
}

#[test]
fn settings_are_validated_on_build() {
    let cases: &[(Change, Result<(), ConfigError>)] = &[
        (
            |b| b.health_check_interval(Duration::ZERO),
            zero("health_check_interval"),
        ),
        (
            |b| b.health_check_timeout(Duration::ZERO),
            zero("health_check_timeout"),
        ),
        (
            |b| b.acquire_timeout(Duration::ZERO),
            zero("acquire_timeout"),
        ),
        (
            |b| b.slow_routing_threshold(Duration::ZERO),
            zero("slow_routing_threshold"),
        ),
        (
            |b| b.failure_rate_window(Duration::ZERO),
            zero("failure_rate_window"),
        ),
        (
            |b| b.circuit_cool_down(Duration::ZERO),
            zero("circuit_cool_down"),
        ),
        (
            |b| b.max_concurrent_deliveries(0),
            zero("max_concurrent_deliveries"),
        ),
        (|b| b.max_endpoints(0), zero("max_endpoints")),
        (|b| b.consecutive_failures(0), zero("consecutive_failures")),
        (
            |b| b.failure_rate_min_calls(0),
            zero("failure_rate_min_calls"),
        ),
        (
            |b| b.half_open_trial_calls(0),
            zero("half_open_trial_calls"),
        ),
        (
            |b| b.failure_rate_threshold(0.0),
            out_of_range("failure_rate_threshold"),
        ),
        (
            |b| b.failure_rate_threshold(1.5),
            out_of_range("failure_rate_threshold"),
        ),
        (
            |b| b.failure_rate_threshold(f64::NAN),
            out_of_range("failure_rate_threshold"),
        ),
        (|b| b.failure_rate_threshold(1.0), Ok(())),
        (|b| b.max_endpoints(1 << 20), Ok(())),
        (
            |b| b.max_endpoints((1 << 20) + 1),
            out_of_range("max_endpoints"),
        ),
        (
            |b| b.max_concurrent_deliveries(Semaphore::MAX_PERMITS + 1),
            out_of_range("max_concurrent_deliveries"),
        ),
        (|b| b.consecutive_failures(u32::MAX), Ok(())),
        (
            |b| b.failure_rate_window(Duration::from_secs(366 * 24 * 60 * 60)),
            out_of_range("failure_rate_window"),
        ),
        (
            |b| b.circuit_cool_down(Duration::from_secs(366 * 24 * 60 * 60)),
            out_of_range("circuit_cool_down"),
        ),
        (|b| b.load_balancing(LoadBalancing::LeastInFlight), Ok(())),
        (
            |b| b.slow_routing_threshold(Duration::from_nanos(1)),
            Ok(()),
        ),
    ];
    for (change, expected) in cases {
        check(*change, expected.clone());
    }
}
