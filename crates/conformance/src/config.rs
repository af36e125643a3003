//! `SuiteConfig`: the deadlines that turn every wait of the suite into a bounded one.

use std::time::Duration;

/// The deadlines of the suite. Every wait is bounded by one of them, so that a transport
/// that hangs fails the scenario instead of hanging the test run.
///
/// The defaults are generous enough for a broker on a loaded CI machine; an in-process
/// transport can shorten them so that a failure shows up quickly. None of them is an
/// assertion on speed: a slow transport passes as long as it makes progress within each
/// deadline.
///
/// ```
/// use std::time::Duration;
/// use switchyard_conformance::SuiteConfig;
///
/// let config = SuiteConfig::builder()
///     .message_timeout(Duration::from_secs(2))
///     .quiet_period(Duration::from_millis(50))
///     .build()?;
/// assert_eq!(config.message_timeout(), Duration::from_secs(2));
/// # Ok::<(), switchyard_conformance::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuiteConfig {
    message_timeout: Duration,
    quiet_period: Duration,
    close_timeout: Duration,
    restart_timeout: Duration,
    scenario_timeout: Duration,
    retry_interval: Duration,
}

impl SuiteConfig {
    /// Default for [`message_timeout`](Self::message_timeout): 10 s.
    pub const DEFAULT_MESSAGE_TIMEOUT: Duration = Duration::from_secs(10);
    /// Default for [`quiet_period`](Self::quiet_period): 100 ms, as in Watermill.
    pub const DEFAULT_QUIET_PERIOD: Duration = Duration::from_millis(100);
    /// Default for [`close_timeout`](Self::close_timeout): 10 s.
    pub const DEFAULT_CLOSE_TIMEOUT: Duration = Duration::from_secs(10);
    /// Default for [`restart_timeout`](Self::restart_timeout): 60 s.
    pub const DEFAULT_RESTART_TIMEOUT: Duration = Duration::from_secs(60);
    /// Default for [`scenario_timeout`](Self::scenario_timeout): 5 min.
    pub const DEFAULT_SCENARIO_TIMEOUT: Duration = Duration::from_secs(300);
    /// Default for [`retry_interval`](Self::retry_interval): 20 ms.
    pub const DEFAULT_RETRY_INTERVAL: Duration = Duration::from_millis(20);

    /// For a run on Tokio's paused clock (`start_paused`), where a deadline passes at once
    /// when nothing else can progress: generous deadlines that cost no time, and a short
    /// quiet period, 50 ms.
    pub fn paused_clock() -> Self {
        Self {
            message_timeout: Duration::from_secs(5),
            quiet_period: Duration::from_millis(50),
            close_timeout: Duration::from_secs(5),
            restart_timeout: Duration::from_secs(5),
            scenario_timeout: Duration::from_secs(60),
            ..Self::default()
        }
    }

    /// A builder starting from the defaults.
    pub fn builder() -> SuiteConfigBuilder {
        SuiteConfigBuilder {
            config: Self::default(),
        }
    }

    /// The longest the suite waits for the next expected message, or for one call to the
    /// harness, a publisher or a subscriber (other than a close) to return.
    pub fn message_timeout(&self) -> Duration {
        self.message_timeout
    }

    /// How long the suite watches for a message that must not arrive (the next message
    /// while the previous one is unacked). Longer catches more; it never fails a correct
    /// transport.
    pub fn quiet_period(&self) -> Duration {
        self.quiet_period
    }

    /// The longest a `close` may take, and the longest a stream may take to end after its
    /// subscriber was closed.
    pub fn close_timeout(&self) -> Duration {
        self.close_timeout
    }

    /// The longest a broker restart may take, and the longest the `reconnect` scenario
    /// waits for progress around one.
    pub fn restart_timeout(&self) -> Duration {
        self.restart_timeout
    }

    /// The longest a whole scenario may take, whatever progress it makes (a transport
    /// redelivering one message forever makes progress of a kind).
    pub fn scenario_timeout(&self) -> Duration {
        self.scenario_timeout
    }

    /// How long to wait before publishing again after a transient error.
    pub fn retry_interval(&self) -> Duration {
        self.retry_interval
    }
}

impl Default for SuiteConfig {
    fn default() -> Self {
        Self {
            message_timeout: Self::DEFAULT_MESSAGE_TIMEOUT,
            quiet_period: Self::DEFAULT_QUIET_PERIOD,
            close_timeout: Self::DEFAULT_CLOSE_TIMEOUT,
            restart_timeout: Self::DEFAULT_RESTART_TIMEOUT,
            scenario_timeout: Self::DEFAULT_SCENARIO_TIMEOUT,
            retry_interval: Self::DEFAULT_RETRY_INTERVAL,
        }
    }
}

/// Builds a [`SuiteConfig`]; created by [`SuiteConfig::builder`]. Setters never fail;
/// [`build`](Self::build) checks that the deadlines are consistent.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct SuiteConfigBuilder {
    config: SuiteConfig,
}

impl SuiteConfigBuilder {
    /// Sets [`SuiteConfig::message_timeout`].
    pub fn message_timeout(mut self, timeout: Duration) -> Self {
        self.config.message_timeout = timeout;
        self
    }

    /// Sets [`SuiteConfig::quiet_period`].
    pub fn quiet_period(mut self, period: Duration) -> Self {
        self.config.quiet_period = period;
        self
    }

    /// Sets [`SuiteConfig::close_timeout`].
    pub fn close_timeout(mut self, timeout: Duration) -> Self {
        self.config.close_timeout = timeout;
        self
    }

    /// Sets [`SuiteConfig::restart_timeout`].
    pub fn restart_timeout(mut self, timeout: Duration) -> Self {
        self.config.restart_timeout = timeout;
        self
    }

    /// Sets [`SuiteConfig::scenario_timeout`].
    pub fn scenario_timeout(mut self, timeout: Duration) -> Self {
        self.config.scenario_timeout = timeout;
        self
    }

    /// Sets [`SuiteConfig::retry_interval`].
    pub fn retry_interval(mut self, interval: Duration) -> Self {
        self.config.retry_interval = interval;
        self
    }

    /// Checks the deadlines: each is positive, the quiet period and the retry interval are
    /// shorter than the message timeout, and no single wait is longer than a scenario.
    pub fn build(self) -> Result<SuiteConfig, ConfigError> {
        let c = self.config;
        let named = [
            ("message_timeout", c.message_timeout),
            ("quiet_period", c.quiet_period),
            ("close_timeout", c.close_timeout),
            ("restart_timeout", c.restart_timeout),
            ("scenario_timeout", c.scenario_timeout),
            ("retry_interval", c.retry_interval),
        ];
        if let Some((name, _)) = named.iter().find(|(_, value)| value.is_zero()) {
            return Err(ConfigError::Zero { name });
        }
        // A window inside a wait must be strictly shorter than it; a single wait may take
        // the whole scenario.
        let rules = [
            (
                "quiet_period",
                c.quiet_period,
                "message_timeout",
                c.message_timeout,
                true,
            ),
            (
                "retry_interval",
                c.retry_interval,
                "message_timeout",
                c.message_timeout,
                true,
            ),
            (
                "message_timeout",
                c.message_timeout,
                "scenario_timeout",
                c.scenario_timeout,
                false,
            ),
            (
                "close_timeout",
                c.close_timeout,
                "scenario_timeout",
                c.scenario_timeout,
                false,
            ),
            (
                "restart_timeout",
                c.restart_timeout,
                "scenario_timeout",
                c.scenario_timeout,
                false,
            ),
        ];
        for (shorter, short, longer, long, strict) in rules {
            if short > long || (strict && short == long) {
                return Err(ConfigError::Inconsistent { shorter, longer });
            }
        }
        Ok(c)
    }
}

/// Why [`SuiteConfigBuilder::build`] rejected a configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A deadline is zero, which would fail every wait at once.
    #[error("`{name}` must be longer than zero")]
    Zero {
        /// The setting.
        name: &'static str,
    },

    /// A deadline is longer than one that contains it, or a window is not shorter than the
    /// wait it is part of.
    #[error("`{shorter}` must be shorter than `{longer}`")]
    Inconsistent {
        /// The setting that must be the shorter.
        shorter: &'static str,
        /// The setting that must be the longer.
        longer: &'static str,
    },
}

#[cfg(test)]
mod tests;
