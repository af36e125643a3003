//! [`EndpointConfig`]: health checking, delivery limits, load balancing, slow-routing
//! threshold and circuit-breaker settings of an [`EndpointRegistry`](super::EndpointRegistry).

use std::time::Duration;

use switchyard_routing::middleware::{ConfigError as PolicyError, breaker::CircuitPolicy};
use tokio::sync::Semaphore;

use super::error::ConfigError;

/// How [`deliver`](super::EndpointRegistry::deliver) spreads messages over the available
/// endpoints of the best priority tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum LoadBalancing {
    /// Each endpoint in turn: the one admitted least recently first. The deliveries of
    /// one route go round its endpoints evenly. Where routes overlap (one endpoint on
    /// `orders.*`, others on `orders.eu` and `orders.us`), each endpoint gets its turn
    /// among all the deliveries it serves, so an endpoint that serves both regions takes
    /// less of each region's traffic than the endpoint of that region alone. Deliveries
    /// made at the same moment on several threads may pick the same endpoint: the spread
    /// is even over time, not call by call.
    #[default]
    RoundRobin,
    /// The endpoint with the fewest deliveries under way; ties go to the one admitted least
    /// recently.
    LeastInFlight,
}

/// The settings of an [`EndpointRegistry`](super::EndpointRegistry), validated by
/// [`EndpointConfigBuilder::build`].
///
/// Every default is meant for production (the health interval and delivery cap are seed
/// 004's `BusConfig` values):
///
/// | Setting | Default |
/// | --- | --- |
/// | [`health_check_interval`](EndpointConfigBuilder::health_check_interval) | 5 s |
/// | [`health_check_timeout`](EndpointConfigBuilder::health_check_timeout) | 2 s |
/// | [`max_concurrent_deliveries`](EndpointConfigBuilder::max_concurrent_deliveries) | 1000 |
/// | [`acquire_timeout`](EndpointConfigBuilder::acquire_timeout) | 5 s |
/// | [`load_balancing`](EndpointConfigBuilder::load_balancing) | round-robin |
/// | [`slow_routing_threshold`](EndpointConfigBuilder::slow_routing_threshold) | 100 µs |
/// | [`max_endpoints`](EndpointConfigBuilder::max_endpoints) | 10 000 |
/// | [`consecutive_failures`](EndpointConfigBuilder::consecutive_failures) | 5 |
/// | [`failure_rate_threshold`](EndpointConfigBuilder::failure_rate_threshold) | 0.5 |
/// | [`failure_rate_window`](EndpointConfigBuilder::failure_rate_window) | 60 s |
/// | [`failure_rate_min_calls`](EndpointConfigBuilder::failure_rate_min_calls) | 20 |
/// | [`circuit_cool_down`](EndpointConfigBuilder::circuit_cool_down) | 30 s |
/// | [`half_open_trial_calls`](EndpointConfigBuilder::half_open_trial_calls) | 1 |
///
/// ```
/// use std::time::Duration;
/// use switchyard_bus::endpoint::{EndpointConfig, LoadBalancing};
///
/// let config = EndpointConfig::builder()
///     .health_check_interval(Duration::from_secs(1))
///     .load_balancing(LoadBalancing::LeastInFlight)
///     .consecutive_failures(3)
///     .build()?;
/// assert_eq!(config.max_concurrent_deliveries(), 1000);
///
/// assert!(EndpointConfig::builder().max_concurrent_deliveries(0).build().is_err());
/// # Ok::<(), switchyard_bus::endpoint::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointConfig {
    health_check_interval: Duration,
    health_check_timeout: Duration,
    max_concurrent_deliveries: usize,
    acquire_timeout: Duration,
    load_balancing: LoadBalancing,
    slow_routing_threshold: Duration,
    max_endpoints: usize,
    breaker: BreakerSettings,
    /// The breaker settings, validated: every endpoint's circuit follows it.
    pub(crate) policy: CircuitPolicy,
}

/// The breaker settings as given, one per builder method.
#[derive(Debug, Clone, Copy, PartialEq)]
struct BreakerSettings {
    consecutive_failures: u32,
    failure_rate: f64,
    window: Duration,
    min_calls: u32,
    cool_down: Duration,
    trial_calls: u32,
}

impl BreakerSettings {
    /// The settings as a circuit policy, with errors named after this builder's methods.
    fn policy(self) -> Result<CircuitPolicy, ConfigError> {
        CircuitPolicy::builder()
            .consecutive_failures(self.consecutive_failures)
            .failure_rate_over(self.failure_rate, self.window, self.min_calls)
            .cool_down(self.cool_down)
            .half_open_probes(self.trial_calls)
            .build()
            .map_err(|err| match err {
                PolicyError::Zero { setting } => ConfigError::Zero {
                    setting: setting_name(setting),
                },
                PolicyError::OutOfRange { setting, reason } => ConfigError::OutOfRange {
                    setting: setting_name(setting),
                    reason,
                },
                // Every setting is given, so no other error can come; should a new one
                // appear, it is reported against the setting that the policy starts from.
                _ => ConfigError::OutOfRange {
                    setting: "consecutive_failures",
                    reason: "is not part of a valid circuit policy",
                },
            })
    }
}

/// This builder's name for a setting of [`CircuitPolicy`]'s builder.
fn setting_name(policy_setting: &'static str) -> &'static str {
    match policy_setting {
        "failure_rate_over" => "failure_rate_threshold",
        "window" => "failure_rate_window",
        "min_calls" => "failure_rate_min_calls",
        "cool_down" => "circuit_cool_down",
        "half_open_probes" => "half_open_trial_calls",
        other => other,
    }
}

impl EndpointConfig {
    /// A builder holding the defaults.
    pub fn builder() -> EndpointConfigBuilder {
        EndpointConfigBuilder {
            config: EndpointConfig {
                health_check_interval: Duration::from_secs(5),
                health_check_timeout: Duration::from_secs(2),
                max_concurrent_deliveries: 1000,
                acquire_timeout: Duration::from_secs(5),
                load_balancing: LoadBalancing::RoundRobin,
                slow_routing_threshold: Duration::from_micros(100),
                max_endpoints: 10_000,
                breaker: BreakerSettings {
                    consecutive_failures: 5,
                    failure_rate: 0.5,
                    window: Duration::from_secs(60),
                    min_calls: 20,
                    cool_down: Duration::from_secs(30),
                    trial_calls: 1,
                },
                // The same settings, as a policy; a test checks that they agree.
                policy: CircuitPolicy::default(),
            },
        }
    }

    /// How often the health monitor checks every endpoint.
    pub fn health_check_interval(&self) -> Duration {
        self.health_check_interval
    }

    /// How long one health check may take before it counts as failed.
    pub fn health_check_timeout(&self) -> Duration {
        self.health_check_timeout
    }

    /// How many deliveries may run at once across the registry.
    pub fn max_concurrent_deliveries(&self) -> usize {
        self.max_concurrent_deliveries
    }

    /// How long a delivery waits for a slot when `max_concurrent_deliveries` are running.
    pub fn acquire_timeout(&self) -> Duration {
        self.acquire_timeout
    }

    /// How deliveries are spread within a priority tier.
    pub fn load_balancing(&self) -> LoadBalancing {
        self.load_balancing
    }

    /// A routing decision that takes longer is logged at warn level and counted.
    pub fn slow_routing_threshold(&self) -> Duration {
        self.slow_routing_threshold
    }

    /// How many endpoints the registry holds at most.
    pub fn max_endpoints(&self) -> usize {
        self.max_endpoints
    }

    /// A closed circuit opens after this many failures in a row.
    pub fn consecutive_failures(&self) -> u32 {
        self.breaker.consecutive_failures
    }

    /// A closed circuit opens when at least this share of the calls in the window failed.
    pub fn failure_rate_threshold(&self) -> f64 {
        self.breaker.failure_rate
    }

    /// The span of the failure-rate window.
    pub fn failure_rate_window(&self) -> Duration {
        self.breaker.window
    }

    /// The failure rate is judged only once the window holds this many calls.
    pub fn failure_rate_min_calls(&self) -> u32 {
        self.breaker.min_calls
    }

    /// How long an open circuit refuses calls before letting trial calls through.
    pub fn circuit_cool_down(&self) -> Duration {
        self.breaker.cool_down
    }

    /// How many trial calls a half-open circuit lets through; that many successes close it.
    pub fn half_open_trial_calls(&self) -> u32 {
        self.breaker.trial_calls
    }
}

impl Default for EndpointConfig {
    /// The defaults listed on [`EndpointConfig`]; every one is a production value.
    fn default() -> Self {
        EndpointConfig::builder().config
    }
}

/// Builds an [`EndpointConfig`]; made by [`EndpointConfig::builder`].
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct EndpointConfigBuilder {
    config: EndpointConfig,
}

impl EndpointConfigBuilder {
    /// The largest `max_endpoints`: the registry copies its table on every registration,
    /// so it is meant for thousands of endpoints, not millions.
    pub const MAX_ENDPOINTS: usize = 1 << 20;

    /// How often the health monitor checks every endpoint. Must not be zero.
    pub fn health_check_interval(mut self, interval: Duration) -> Self {
        self.config.health_check_interval = interval;
        self
    }

    /// How long one health check may take; a check that takes longer marks its endpoint
    /// unhealthy. Must not be zero. A round of checks lasts at most this long, so keep it
    /// under the interval.
    pub fn health_check_timeout(mut self, timeout: Duration) -> Self {
        self.config.health_check_timeout = timeout;
        self
    }

    /// How many deliveries ([`deliver`](super::EndpointRegistry::deliver),
    /// [`deliver_to`](super::EndpointRegistry::deliver_to) and each endpoint of a
    /// [`notify`](super::EndpointRegistry::notify)) may run at once across the registry.
    /// Must not be zero.
    pub fn max_concurrent_deliveries(mut self, limit: usize) -> Self {
        self.config.max_concurrent_deliveries = limit;
        self
    }

    /// How long a delivery waits for a slot once `max_concurrent_deliveries` are running,
    /// before it fails with [`EndpointError::Saturated`](super::EndpointError::Saturated).
    /// Must not be zero.
    pub fn acquire_timeout(mut self, timeout: Duration) -> Self {
        self.config.acquire_timeout = timeout;
        self
    }

    /// How deliveries are spread within a priority tier.
    pub fn load_balancing(mut self, balancing: LoadBalancing) -> Self {
        self.config.load_balancing = balancing;
        self
    }

    /// A routing decision (matching the topic and choosing an endpoint, not calling it)
    /// that takes at least this long is logged at warn level and counted. Must not be zero.
    pub fn slow_routing_threshold(mut self, threshold: Duration) -> Self {
        self.config.slow_routing_threshold = threshold;
        self
    }

    /// How many endpoints the registry holds at most. Must not be zero nor above
    /// [`MAX_ENDPOINTS`](Self::MAX_ENDPOINTS).
    pub fn max_endpoints(mut self, max: usize) -> Self {
        self.config.max_endpoints = max;
        self
    }

    /// A closed circuit opens after this many failures in a row. Must not be zero; use
    /// `u32::MAX` to open on the failure rate only.
    pub fn consecutive_failures(mut self, failures: u32) -> Self {
        self.config.breaker.consecutive_failures = failures;
        self
    }

    /// A closed circuit opens when, after a failure, at least this share (above 0, at most
    /// 1) of the calls that ended within the window failed.
    pub fn failure_rate_threshold(mut self, rate: f64) -> Self {
        self.config.breaker.failure_rate = rate;
        self
    }

    /// The span of time over which the failure rate is measured. Must not be zero nor above
    /// a year.
    pub fn failure_rate_window(mut self, window: Duration) -> Self {
        self.config.breaker.window = window;
        self
    }

    /// The failure rate is judged only once this many calls ended within the window, so
    /// that one failure out of one call does not open the circuit. Must not be zero.
    pub fn failure_rate_min_calls(mut self, calls: u32) -> Self {
        self.config.breaker.min_calls = calls;
        self
    }

    /// How long an open circuit refuses calls before it lets trial calls through. Must not
    /// be zero nor above a year.
    pub fn circuit_cool_down(mut self, cool_down: Duration) -> Self {
        self.config.breaker.cool_down = cool_down;
        self
    }

    /// How many trial calls a half-open circuit lets through at once; when that many have
    /// succeeded it closes, and the first failure opens it again. Must not be zero.
    pub fn half_open_trial_calls(mut self, calls: u32) -> Self {
        self.config.breaker.trial_calls = calls;
        self
    }

    /// Validates the settings.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Zero`] for a zero interval, timeout, threshold, limit or count, and
    /// [`ConfigError::OutOfRange`] for a failure rate outside `(0, 1]`, a failure-rate window
    /// or cool-down above a year, too many endpoints or more concurrent deliveries than a
    /// semaphore holds.
    pub fn build(self) -> Result<EndpointConfig, ConfigError> {
        let mut config = self.config;
        let durations = [
            ("health_check_interval", config.health_check_interval),
            ("health_check_timeout", config.health_check_timeout),
            ("acquire_timeout", config.acquire_timeout),
            ("slow_routing_threshold", config.slow_routing_threshold),
        ];
        let counts = [
            (
                "max_concurrent_deliveries",
                config.max_concurrent_deliveries,
            ),
            ("max_endpoints", config.max_endpoints),
        ];
        let zero = durations
            .iter()
            .find(|(_, value)| value.is_zero())
            .map(|(setting, _)| *setting)
            .or_else(|| {
                counts
                    .iter()
                    .find(|(_, value)| *value == 0)
                    .map(|(setting, _)| *setting)
            });
        if let Some(setting) = zero {
            return Err(ConfigError::Zero { setting });
        }
        if config.max_endpoints > EndpointConfigBuilder::MAX_ENDPOINTS {
            return Err(ConfigError::OutOfRange {
                setting: "max_endpoints",
                reason: "must be at most 1048576",
            });
        }
        if config.max_concurrent_deliveries > Semaphore::MAX_PERMITS {
            return Err(ConfigError::OutOfRange {
                setting: "max_concurrent_deliveries",
                reason: "must fit in a tokio semaphore",
            });
        }
        config.policy = config.breaker.policy()?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests;
