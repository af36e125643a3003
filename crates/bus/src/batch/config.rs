//! [`BatchConfig`]: how large a batch may grow, how long it may wait, and how much may be
//! pending, validated when it is built.

use std::time::Duration;

use switchyard_core::Limits;

use super::BatchConfigError;

/// The settings of a [`BatchingPublisher`](super::BatchingPublisher).
///
/// Built with [`BatchConfig::builder`], which rejects zeros and settings that contradict
/// each other. [`BatchConfig::default`] holds the documented defaults, each a sensible
/// production value.
///
/// ```
/// use std::time::Duration;
/// use switchyard_bus::batch::{BatchConfig, BatchConfigError};
///
/// let config = BatchConfig::builder()
///     .max_batch_size(500)
///     .max_latency(Duration::from_millis(2))
///     .build()?;
/// assert_eq!(config.max_batch_size(), 500);
/// assert_eq!(config.max_pending(), BatchConfig::DEFAULT_MAX_PENDING);
///
/// let err = BatchConfig::builder().max_batch_size(0).build().unwrap_err();
/// assert_eq!(err, BatchConfigError::Zero { setting: "max_batch_size" });
/// # Ok::<(), BatchConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchConfig {
    max_batch_size: usize,
    max_latency: Duration,
    max_pending: usize,
    max_concurrent_batches: usize,
    close_timeout: Duration,
    limits: Option<Limits>,
}

impl BatchConfig {
    /// The default [`max_batch_size`](Self::max_batch_size): 100 messages, the seed's
    /// `batch_size`.
    pub const DEFAULT_MAX_BATCH_SIZE: usize = 100;
    /// The default [`max_latency`](Self::max_latency): 5 ms, small enough to be invisible
    /// next to a broker round trip, large enough to gather a batch under load.
    pub const DEFAULT_MAX_LATENCY: Duration = Duration::from_millis(5);
    /// The default [`max_pending`](Self::max_pending): 10 000 messages.
    pub const DEFAULT_MAX_PENDING: usize = 10_000;
    /// The default [`max_concurrent_batches`](Self::max_concurrent_batches): 32.
    pub const DEFAULT_MAX_CONCURRENT_BATCHES: usize = 32;
    /// The default [`close_timeout`](Self::close_timeout): 30 s.
    pub const DEFAULT_CLOSE_TIMEOUT: Duration = Duration::from_secs(30);
    /// The largest accepted [`max_pending`](Self::max_pending): 2^24 messages. Anything
    /// larger is a mistake rather than a buffer.
    pub const MAX_PENDING_LIMIT: usize = 1 << 24;
    /// The largest accepted [`max_latency`](Self::max_latency): one hour. A batch that
    /// waits longer is not a batch but a queue.
    pub const MAX_LATENCY_LIMIT: Duration = Duration::from_secs(3600);

    /// A builder that starts from the defaults.
    pub fn builder() -> BatchConfigBuilder {
        BatchConfigBuilder {
            config: Self::default(),
        }
    }

    /// The most messages of one topic sent in one call to
    /// [`Publisher::publish_batch`](switchyard_core::Publisher::publish_batch). A batch that
    /// reaches this size is sent at once.
    pub fn max_batch_size(&self) -> usize {
        self.max_batch_size
    }

    /// How long the oldest message of a batch waits before the batch is sent, however small
    /// it is.
    pub fn max_latency(&self) -> Duration {
        self.max_latency
    }

    /// The most messages accepted and not yet answered, across every topic, batches being
    /// sent included. A publisher that finds this many waits for room.
    pub fn max_pending(&self) -> usize {
        self.max_pending
    }

    /// The most batches handed to the inner publisher at once, across topics. Batches of
    /// one topic are always sent one at a time, in order; this caps how many topics are
    /// sent concurrently.
    pub fn max_concurrent_batches(&self) -> usize {
        self.max_concurrent_batches
    }

    /// The limits every message is checked against when it is accepted, if any were set.
    ///
    /// The inner publisher answers a batch as a whole, so one message it rejects as too
    /// large fails every message of its batch. Setting the inner publisher's limits here
    /// fails only the offending message, at once, with
    /// [`Error::TooLarge`](switchyard_core::Error::TooLarge). None by default, because
    /// only the caller knows the inner publisher's limits.
    pub fn limits(&self) -> Option<Limits> {
        self.limits
    }

    /// How long [`close`](switchyard_core::Publisher::close) waits for pending batches to be
    /// sent and for the inner publisher to close, before it gives up with
    /// [`Error::Timeout`](switchyard_core::Error::Timeout).
    pub fn close_timeout(&self) -> Duration {
        self.close_timeout
    }
}

impl Default for BatchConfig {
    fn default() -> Self {
        Self {
            max_batch_size: Self::DEFAULT_MAX_BATCH_SIZE,
            max_latency: Self::DEFAULT_MAX_LATENCY,
            max_pending: Self::DEFAULT_MAX_PENDING,
            max_concurrent_batches: Self::DEFAULT_MAX_CONCURRENT_BATCHES,
            close_timeout: Self::DEFAULT_CLOSE_TIMEOUT,
            limits: None,
        }
    }
}

/// Builds a [`BatchConfig`]; created by [`BatchConfig::builder`]. Setters never fail;
/// [`build`](Self::build) checks every setting.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct BatchConfigBuilder {
    config: BatchConfig,
}

impl BatchConfigBuilder {
    /// Sets [`BatchConfig::max_batch_size`]; at least 1 and at most `max_pending`.
    pub fn max_batch_size(mut self, messages: usize) -> Self {
        self.config.max_batch_size = messages;
        self
    }

    /// Sets [`BatchConfig::max_latency`]; more than zero and at most
    /// [`BatchConfig::MAX_LATENCY_LIMIT`].
    pub fn max_latency(mut self, latency: Duration) -> Self {
        self.config.max_latency = latency;
        self
    }

    /// Sets [`BatchConfig::max_pending`]; at least 1 and at most
    /// [`BatchConfig::MAX_PENDING_LIMIT`].
    pub fn max_pending(mut self, messages: usize) -> Self {
        self.config.max_pending = messages;
        self
    }

    /// Sets [`BatchConfig::max_concurrent_batches`]; at least 1.
    pub fn max_concurrent_batches(mut self, batches: usize) -> Self {
        self.config.max_concurrent_batches = batches;
        self
    }

    /// Sets [`BatchConfig::close_timeout`]; more than zero.
    pub fn close_timeout(mut self, timeout: Duration) -> Self {
        self.config.close_timeout = timeout;
        self
    }

    /// Sets [`BatchConfig::limits`]: messages that break them are refused when they are
    /// accepted, rather than failing the batch they would have joined.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.config.limits = Some(limits);
        self
    }

    /// Checks every setting and returns the configuration.
    pub fn build(self) -> Result<BatchConfig, BatchConfigError> {
        let config = self.config;
        if config.max_batch_size == 0 {
            return Err(BatchConfigError::Zero {
                setting: "max_batch_size",
            });
        }
        if config.max_latency.is_zero() {
            return Err(BatchConfigError::Zero {
                setting: "max_latency",
            });
        }
        if config.max_pending == 0 {
            return Err(BatchConfigError::Zero {
                setting: "max_pending",
            });
        }
        if config.max_concurrent_batches == 0 {
            return Err(BatchConfigError::Zero {
                setting: "max_concurrent_batches",
            });
        }
        if config.close_timeout.is_zero() {
            return Err(BatchConfigError::Zero {
                setting: "close_timeout",
            });
        }
        if config.max_latency > BatchConfig::MAX_LATENCY_LIMIT {
            return Err(BatchConfigError::OutOfRange {
                setting: "max_latency",
                reason: "must be at most one hour",
            });
        }
        if config.max_pending > BatchConfig::MAX_PENDING_LIMIT {
            return Err(BatchConfigError::OutOfRange {
                setting: "max_pending",
                reason: "must be at most 2^24 messages",
            });
        }
        // A batch larger than the buffer could never fill: the size trigger would be dead
        // configuration, and every batch would wait out its latency.
        if config.max_batch_size > config.max_pending {
            return Err(BatchConfigError::OutOfRange {
                setting: "max_batch_size",
                reason: "must not exceed `max_pending`",
            });
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests;
