//! `BusConfig`: the bus's settings in one place, with documented defaults, validated when
//! built.

use std::time::Duration;

use switchyard_core::Limits;

use crate::{
    batch::{BatchConfig, BatchConfigError},
    endpoint::{self, EndpointConfig},
    pubsub::{self, PubSubConfig},
};

/// The settings of a [`Bus`](crate::Bus).
///
/// The five that the bus's design names have their own setters; everything else comes from
/// the pub/sub, endpoint and batching configurations, which can be replaced whole.
///
/// | setting | default |
/// |---|---|
/// | [`max_message_bytes`](BusConfigBuilder::max_message_bytes) | 1 MiB ([`Limits::DEFAULT_MAX_PAYLOAD_BYTES`]) |
/// | [`correlation_timeout`](BusConfigBuilder::correlation_timeout) | 30 s |
/// | [`health_check_interval`](BusConfigBuilder::health_check_interval) | 5 s |
/// | [`batch_size`](BusConfigBuilder::batch_size) | 100 |
/// | [`max_concurrent_deliveries`](BusConfigBuilder::max_concurrent_deliveries) | 1000 |
/// | [`max_pending_requests`](BusConfigBuilder::max_pending_requests) | 10 000 |
///
/// ```
/// use std::time::Duration;
/// use switchyard_bus::BusConfig;
///
/// let config = BusConfig::builder().correlation_timeout(Duration::from_secs(5)).build()?;
/// assert_eq!(config.correlation_timeout(), Duration::from_secs(5));
/// assert!(BusConfig::builder().batch_size(0).build().is_err());
/// # Ok::<(), switchyard_bus::BusConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct BusConfig {
    pubsub: PubSubConfig,
    endpoints: EndpointConfig,
    batch: BatchConfig,
    correlation_timeout: Duration,
    max_pending_requests: usize,
}

impl BusConfig {
    /// The default correlation timeout: how long [`Bus::call`](crate::Bus::call) waits.
    pub const DEFAULT_CORRELATION_TIMEOUT: Duration = Duration::from_secs(30);
    /// The default bound of the map of requests awaiting a response.
    pub const DEFAULT_MAX_PENDING_REQUESTS: usize = 10_000;

    /// A builder with every default.
    pub fn builder() -> BusConfigBuilder {
        BusConfigBuilder::default()
    }

    /// The pub/sub settings.
    pub fn pubsub(&self) -> &PubSubConfig {
        &self.pubsub
    }

    /// The endpoint registry's settings.
    pub fn endpoints(&self) -> &EndpointConfig {
        &self.endpoints
    }

    /// The settings of publishers made by [`Bus::batching`](crate::Bus::batching).
    pub fn batch(&self) -> &BatchConfig {
        &self.batch
    }

    /// How long a request waits for its response by default.
    pub fn correlation_timeout(&self) -> Duration {
        self.correlation_timeout
    }

    /// How many requests may be pending at once: waiting for a response, or answered but
    /// not yet taken by their caller.
    pub fn max_pending_requests(&self) -> usize {
        self.max_pending_requests
    }
}

/// Builds a [`BusConfig`]; created by [`BusConfig::builder`].
#[derive(Debug, Default)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct BusConfigBuilder {
    max_message_bytes: Option<usize>,
    correlation_timeout: Option<Duration>,
    health_check_interval: Option<Duration>,
    batch_size: Option<usize>,
    max_concurrent_deliveries: Option<usize>,
    max_pending_requests: Option<usize>,
    pubsub: Option<PubSubConfig>,
    endpoints: Option<EndpointConfig>,
    batch: Option<BatchConfig>,
}

impl BusConfigBuilder {
    /// The largest payload accepted on publish, in bytes.
    pub fn max_message_bytes(mut self, bytes: usize) -> Self {
        self.max_message_bytes = Some(bytes);
        self
    }

    /// How long [`Bus::call`](crate::Bus::call) waits for a response.
    pub fn correlation_timeout(mut self, timeout: Duration) -> Self {
        self.correlation_timeout = Some(timeout);
        self
    }

    /// How often the endpoints' health checks run.
    pub fn health_check_interval(mut self, interval: Duration) -> Self {
        self.health_check_interval = Some(interval);
        self
    }

    /// The batch size of publishers made by [`Bus::batching`](crate::Bus::batching).
    pub fn batch_size(mut self, messages: usize) -> Self {
        self.batch_size = Some(messages);
        self
    }

    /// How many endpoint deliveries may run at once.
    pub fn max_concurrent_deliveries(mut self, deliveries: usize) -> Self {
        self.max_concurrent_deliveries = Some(deliveries);
        self
    }

    /// How many requests may be pending at once: waiting for a response, or answered but
    /// not yet taken by their caller.
    pub fn max_pending_requests(mut self, requests: usize) -> Self {
        self.max_pending_requests = Some(requests);
        self
    }

    /// Replaces the pub/sub settings whole. Setting `max_message_bytes` too is a
    /// [`BusConfigError::Conflict`]: set the limit in this configuration instead.
    pub fn pubsub(mut self, config: PubSubConfig) -> Self {
        self.pubsub = Some(config);
        self
    }

    /// Replaces the endpoint settings whole. Setting `health_check_interval` or
    /// `max_concurrent_deliveries` too is a [`BusConfigError::Conflict`].
    pub fn endpoints(mut self, config: EndpointConfig) -> Self {
        self.endpoints = Some(config);
        self
    }

    /// Replaces the batching settings whole. Setting `batch_size` too is a
    /// [`BusConfigError::Conflict`].
    pub fn batch(mut self, config: BatchConfig) -> Self {
        self.batch = Some(config);
        self
    }

    /// Validates and builds the configuration.
    pub fn build(self) -> Result<BusConfig, BusConfigError> {
        let correlation_timeout = self
            .correlation_timeout
            .unwrap_or(BusConfig::DEFAULT_CORRELATION_TIMEOUT);
        if correlation_timeout.is_zero() {
            return Err(BusConfigError::Zero {
                setting: "correlation_timeout",
            });
        }
        let max_pending_requests = self
            .max_pending_requests
            .unwrap_or(BusConfig::DEFAULT_MAX_PENDING_REQUESTS);
        if max_pending_requests == 0 {
            return Err(BusConfigError::Zero {
                setting: "max_pending_requests",
            });
        }

        let pubsub = match (self.pubsub, self.max_message_bytes) {
            (Some(_), Some(_)) => {
                return Err(BusConfigError::Conflict {
                    setting: "max_message_bytes",
                    config: "pubsub",
                });
            }
            (Some(config), None) => config,
            (None, bytes) => {
                let mut builder = PubSubConfig::builder();
                if let Some(bytes) = bytes {
                    if bytes == 0 {
                        return Err(BusConfigError::Zero {
                            setting: "max_message_bytes",
                        });
                    }
                    builder = builder.limits(Limits::new().with_max_payload_bytes(bytes));
                }
                builder.build()?
            }
        };

        let endpoint_settings =
            self.health_check_interval.is_some() || self.max_concurrent_deliveries.is_some();
        let endpoints = match self.endpoints {
            Some(_) if endpoint_settings => {
                return Err(BusConfigError::Conflict {
                    setting: "health_check_interval or max_concurrent_deliveries",
                    config: "endpoints",
                });
            }
            Some(config) => config,
            None => {
                let mut builder = EndpointConfig::builder();
                if let Some(interval) = self.health_check_interval {
                    builder = builder.health_check_interval(interval);
                }
                if let Some(deliveries) = self.max_concurrent_deliveries {
                    builder = builder.max_concurrent_deliveries(deliveries);
                }
                builder.build()?
            }
        };

        let batch = match (self.batch, self.batch_size) {
            (Some(_), Some(_)) => {
                return Err(BusConfigError::Conflict {
                    setting: "batch_size",
                    config: "batch",
                });
            }
            (Some(config), None) => config,
            (None, size) => {
                let mut builder = BatchConfig::builder();
                if let Some(size) = size {
                    builder = builder.max_batch_size(size);
                }
                builder.build()?
            }
        };
        Ok(BusConfig {
            pubsub,
            endpoints,
            batch,
            correlation_timeout,
            max_pending_requests,
        })
    }
}

/// A [`BusConfig`] setting is invalid.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BusConfigError {
    /// A setting that must be positive is zero.
    #[error("`{setting}` must not be zero")]
    Zero {
        /// The setting.
        setting: &'static str,
    },
    /// The pub/sub settings are invalid.
    #[error("invalid pub/sub settings")]
    PubSub(#[from] pubsub::ConfigError),
    /// The endpoint settings are invalid.
    #[error("invalid endpoint settings")]
    Endpoints(#[from] endpoint::ConfigError),
    /// The batching settings are invalid.
    #[error("invalid batching settings")]
    Batch(#[from] BatchConfigError),
    /// A setting was given both on its own and inside a whole sub-configuration.
    #[error("`{setting}` was set, but so was the whole `{config}` configuration that holds it")]
    Conflict {
        /// The single setting.
        setting: &'static str,
        /// The sub-configuration.
        config: &'static str,
    },
}

impl Default for BusConfig {
    fn default() -> Self {
        // Every default is valid: this cannot fail, and a test checks it.
        BusConfig::builder()
            .build()
            .unwrap_or_else(|err| unreachable!("default bus settings are valid: {err}"))
    }
}
