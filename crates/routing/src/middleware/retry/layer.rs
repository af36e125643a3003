//! `RetryLayer` and its builder: the retry policy.

use std::{fmt, sync::Arc, time::Duration};

use backon::ExponentialBuilder;
use switchyard_core::Error;
use tower_layer::Layer;

use super::Retry;
use crate::middleware::{ConfigError, ErrorFilter, error::non_zero};

/// Wraps handlers in [`Retry`]: exponential backoff with jitter, bounded by attempts and by
/// elapsed time.
///
/// The delay before retry *n* (counting from 1) is `min_delay × factor^(n-1)`, capped at
/// `max_delay`, plus a random jitter of up to the same amount again, so that consumers that
/// failed together do not retry together. The sleeps use tokio's clock, so tests run them
/// on a paused clock.
///
/// ```
/// use std::time::Duration;
///
/// use switchyard_core::{Error, Handler, Message, handler_fn};
/// use switchyard_routing::middleware::retry::{RetryError, RetryLayer};
/// use tower_layer::Layer;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build()?.block_on(async {
/// let retry = RetryLayer::builder()
///     .max_attempts(4)
///     .min_delay(Duration::from_millis(50))
///     .max_elapsed(Duration::from_secs(10))
///     .build()?;
/// let flaky = retry.layer(handler_fn(|_message: Message| async {
///     Err::<Vec<Message>, _>(Error::transient_handler("database busy"))
/// }));
///
/// let err = flaky.handle(&Message::new("x")).await.unwrap_err();
/// assert_eq!(RetryError::attempts_of(&err), Some(4));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct RetryLayer {
    pub(super) policy: Arc<Policy>,
}

impl RetryLayer {
    /// A builder with the defaults: 3 attempts, 100 ms first delay doubling up to 10 s,
    /// jitter, no elapsed-time budget, and retrying what [`Error::is_transient`] allows.
    pub fn builder() -> RetryLayerBuilder {
        RetryLayerBuilder::default()
    }
}

impl<H> Layer<H> for RetryLayer {
    type Service = Retry<H>;

    fn layer(&self, inner: H) -> Retry<H> {
        Retry {
            inner,
            policy: self.policy.clone(),
        }
    }
}

/// Builds a [`RetryLayer`]; created by [`RetryLayer::builder`].
#[derive(Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct RetryLayerBuilder {
    max_attempts: u32,
    min_delay: Duration,
    max_delay: Duration,
    factor: f32,
    max_elapsed: Option<Duration>,
    retry_if: Option<ErrorFilter>,
}

impl Default for RetryLayerBuilder {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            min_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(10),
            factor: 2.0,
            max_elapsed: None,
            retry_if: None,
        }
    }
}

impl RetryLayerBuilder {
    /// How many times the handler runs at most, the first attempt included. Must be at
    /// least 1; 1 means no retry.
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts;
        self
    }

    /// The delay before the first retry, before jitter. Must not be zero.
    pub fn min_delay(mut self, delay: Duration) -> Self {
        self.min_delay = delay;
        self
    }

    /// The longest delay between two attempts, before jitter (which may add as much again).
    /// Must not be shorter than `min_delay`.
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// How much each delay grows over the previous one. Must be finite and at least 1.
    pub fn factor(mut self, factor: f32) -> Self {
        self.factor = factor;
        self
    }

    /// The time budget from the first attempt: no retry starts whose delay would end past
    /// it. It does not cut an attempt short; wrap the handler in a
    /// [timeout](crate::middleware::timeout) for that. Must not be zero.
    pub fn max_elapsed(mut self, budget: Duration) -> Self {
        self.max_elapsed = Some(budget);
        self
    }

    /// Decides which errors are retried, instead of [`Error::is_transient`].
    pub fn retry_if(mut self, predicate: impl Fn(&Error) -> bool + Send + Sync + 'static) -> Self {
        self.retry_if = Some(Arc::new(predicate));
        self
    }

    /// Validates the settings and builds the layer.
    pub fn build(self) -> Result<RetryLayer, ConfigError> {
        let max_attempts = non_zero("max_attempts", self.max_attempts)?;
        let min_delay = non_zero("min_delay", self.min_delay)?;
        if self.max_delay < min_delay {
            return Err(ConfigError::OutOfRange {
                setting: "max_delay",
                reason: "must not be shorter than `min_delay`",
            });
        }
        if !self.factor.is_finite() || self.factor < 1.0 {
            return Err(ConfigError::OutOfRange {
                setting: "factor",
                reason: "must be finite and at least 1",
            });
        }
        let max_elapsed = self
            .max_elapsed
            .map(|budget| non_zero("max_elapsed", budget))
            .transpose()?;
        Ok(RetryLayer {
            policy: Arc::new(Policy {
                max_attempts,
                min_delay,
                max_delay: self.max_delay,
                factor: self.factor,
                max_elapsed,
                retry_if: self.retry_if,
            }),
        })
    }
}

impl fmt::Debug for RetryLayerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryLayerBuilder")
            .field("max_attempts", &self.max_attempts)
            .field("min_delay", &self.min_delay)
            .field("max_delay", &self.max_delay)
            .field("factor", &self.factor)
            .field("max_elapsed", &self.max_elapsed)
            .field("custom_retry_if", &self.retry_if.is_some())
            .finish()
    }
}

/// The validated settings, shared by every handler the layer wraps.
pub(super) struct Policy {
    max_attempts: u32,
    min_delay: Duration,
    max_delay: Duration,
    factor: f32,
    max_elapsed: Option<Duration>,
    retry_if: Option<ErrorFilter>,
}

impl Policy {
    /// A fresh backoff for one message.
    pub(super) fn backoff(&self) -> ExponentialBuilder {
        ExponentialBuilder::new()
            .with_min_delay(self.min_delay)
            .with_max_delay(self.max_delay)
            .with_factor(self.factor)
            .with_max_times(usize::try_from(self.max_attempts - 1).unwrap_or(usize::MAX))
            .with_jitter()
            // backon is built without its `std` feature, and then seeds every jitter
            // generator with the same constant: seed it here so that handlers that failed
            // together do not retry in lockstep.
            .with_jitter_seed(fastrand::u64(..))
    }

    /// Whether `err` is worth another attempt.
    pub(super) fn should_retry(&self, err: &Error) -> bool {
        match &self.retry_if {
            Some(predicate) => predicate(err),
            None => err.is_transient(),
        }
    }

    /// Whether a retry that would start after `elapsed` breaks the time budget.
    pub(super) fn over_budget(&self, elapsed: Duration) -> bool {
        self.max_elapsed.is_some_and(|budget| elapsed > budget)
    }
}

impl fmt::Debug for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Policy")
            .field("max_attempts", &self.max_attempts)
            .field("min_delay", &self.min_delay)
            .field("max_delay", &self.max_delay)
            .field("factor", &self.factor)
            .field("max_elapsed", &self.max_elapsed)
            .field("custom_retry_if", &self.retry_if.is_some())
            .finish()
    }
}
