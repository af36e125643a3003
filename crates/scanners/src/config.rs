//! The scanners' configuration: intervals, partition families and supervision settings,
//! with the seed's defaults.

use std::time::Duration;

use crate::{Backoff, DEFAULT_FAMILY, DEFAULT_PARTITIONS, Error, Jitter, PartitionRouter};

/// Configuration of a [`Supervisor`](crate::Supervisor) and of the built-in scanners'
/// intervals.
///
/// Every default is a production value; the intervals are those of the engine this crate
/// descends from:
///
/// | setting | default |
/// | --- | --- |
/// | [`lease_expiry_interval`](Self::lease_expiry_interval) | 1.5 s |
/// | [`delayed_promoter_interval`](Self::delayed_promoter_interval) | 750 ms |
/// | [`attempt_timeout_interval`](Self::attempt_timeout_interval) | 2 s |
/// | [`retention_trimmer_interval`](Self::retention_trimmer_interval) | 60 s |
/// | [`reconciler_interval`](Self::reconciler_interval) | 15 s |
/// | [`shutdown_timeout`](Self::shutdown_timeout) | 15 s |
/// | [`scan_timeout`](Self::scan_timeout) | 30 s |
/// | [`restart_backoff`](Self::restart_backoff) | 1 s doubling to 60 s |
/// | [`jitter`](Self::jitter) | 10 % |
/// | [`unhealthy_after`](Self::unhealthy_after) | 5 failed ticks in a row |
/// | [`router`](Self::router) | family `default` with 16 partitions |
///
/// ```
/// use std::time::Duration;
/// use switchyard_scanners::{Config, Error};
///
/// let config = Config::builder()
///     .delayed_promoter_interval(Duration::from_millis(250))
///     .family("flow", 32)
///     .build()?;
/// assert_eq!(config.router().count("flow"), Some(32));
/// assert_eq!(config.shutdown_timeout(), Duration::from_secs(15));
///
/// let err = Config::builder().lease_expiry_interval(Duration::ZERO).build().unwrap_err();
/// assert_eq!(err, Error::ZeroInterval { scanner: "lease_expiry_interval".into() });
/// # Ok::<(), Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    router: PartitionRouter,
    lease_expiry_interval: Duration,
    delayed_promoter_interval: Duration,
    attempt_timeout_interval: Duration,
    retention_trimmer_interval: Duration,
    reconciler_interval: Duration,
    scan_timeout: Duration,
    shutdown_timeout: Duration,
    restart_backoff: Backoff,
    jitter: Jitter,
    unhealthy_after: u32,
}

impl Config {
    /// Default lease expiry scan interval: 1.5 s.
    pub const DEFAULT_LEASE_EXPIRY_INTERVAL: Duration = Duration::from_millis(1_500);
    /// Default delayed promoter scan interval: 750 ms.
    pub const DEFAULT_DELAYED_PROMOTER_INTERVAL: Duration = Duration::from_millis(750);
    /// Default attempt timeout scan interval: 2 s.
    pub const DEFAULT_ATTEMPT_TIMEOUT_INTERVAL: Duration = Duration::from_secs(2);
    /// Default retention trimmer scan interval: 60 s.
    pub const DEFAULT_RETENTION_TRIMMER_INTERVAL: Duration = Duration::from_secs(60);
    /// Default interval of a push-and-reconcile reconciler: 15 s. It is a safety net behind
    /// an event-driven fast path; without the fast path, use about 1 s.
    pub const DEFAULT_RECONCILER_INTERVAL: Duration = Duration::from_secs(15);
    /// Default longest wait for every task to stop on shutdown: 15 s.
    pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(15);
    /// Default longest time one scan of one partition may take before it counts as
    /// failed: 30 s.
    pub const DEFAULT_SCAN_TIMEOUT: Duration = Duration::from_secs(30);
    /// Default number of failed ticks in a row after which a scanner is unhealthy: 5.
    pub const DEFAULT_UNHEALTHY_AFTER: u32 = 5;

    /// A builder starting from the defaults.
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder::default()
    }

    /// The partition families and their counts.
    pub fn router(&self) -> &PartitionRouter {
        &self.router
    }

    /// The lease expiry scanner's interval.
    pub fn lease_expiry_interval(&self) -> Duration {
        self.lease_expiry_interval
    }

    /// The delayed promoter's interval: a due message becomes visible within one interval.
    pub fn delayed_promoter_interval(&self) -> Duration {
        self.delayed_promoter_interval
    }

    /// The attempt timeout scanner's interval.
    pub fn attempt_timeout_interval(&self) -> Duration {
        self.attempt_timeout_interval
    }

    /// The retention trimmer's interval.
    pub fn retention_trimmer_interval(&self) -> Duration {
        self.retention_trimmer_interval
    }

    /// The interval of push-and-reconcile reconcilers.
    pub fn reconciler_interval(&self) -> Duration {
        self.reconciler_interval
    }

    /// The longest one scan of one partition may take; a scan that takes longer is
    /// dropped and counts as a failure. It bounds a listener's subscription and each of
    /// its event handlers too.
    pub fn scan_timeout(&self) -> Duration {
        self.scan_timeout
    }

    /// How long [`Supervisor::shutdown`](crate::Supervisor::shutdown) waits.
    pub fn shutdown_timeout(&self) -> Duration {
        self.shutdown_timeout
    }

    /// The backoff before a failed scanner or listener is restarted.
    pub fn restart_backoff(&self) -> Backoff {
        self.restart_backoff
    }

    /// The jitter applied to every interval and backoff.
    pub fn jitter(&self) -> Jitter {
        self.jitter
    }

    /// After how many failed ticks in a row a scanner is reported unhealthy.
    pub fn unhealthy_after(&self) -> u32 {
        self.unhealthy_after
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            router: PartitionRouter::default(),
            lease_expiry_interval: Self::DEFAULT_LEASE_EXPIRY_INTERVAL,
            delayed_promoter_interval: Self::DEFAULT_DELAYED_PROMOTER_INTERVAL,
            attempt_timeout_interval: Self::DEFAULT_ATTEMPT_TIMEOUT_INTERVAL,
            retention_trimmer_interval: Self::DEFAULT_RETENTION_TRIMMER_INTERVAL,
            reconciler_interval: Self::DEFAULT_RECONCILER_INTERVAL,
            scan_timeout: Self::DEFAULT_SCAN_TIMEOUT,
            shutdown_timeout: Self::DEFAULT_SHUTDOWN_TIMEOUT,
            restart_backoff: Backoff::default(),
            jitter: Jitter::DEFAULT,
            unhealthy_after: Self::DEFAULT_UNHEALTHY_AFTER,
        }
    }
}

/// Builds a [`Config`]; created by [`Config::builder`].
///
/// Setters never fail; [`build`](Self::build) checks every value.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct ConfigBuilder {
    families: Vec<(String, u32)>,
    lease_expiry_interval: Duration,
    delayed_promoter_interval: Duration,
    attempt_timeout_interval: Duration,
    retention_trimmer_interval: Duration,
    reconciler_interval: Duration,
    scan_timeout: Duration,
    shutdown_timeout: Duration,
    backoff_initial: Duration,
    backoff_max: Duration,
    jitter: f64,
    unhealthy_after: u32,
}

impl Default for ConfigBuilder {
    fn default() -> Self {
        Self {
            families: Vec::new(),
            lease_expiry_interval: Config::DEFAULT_LEASE_EXPIRY_INTERVAL,
            delayed_promoter_interval: Config::DEFAULT_DELAYED_PROMOTER_INTERVAL,
            attempt_timeout_interval: Config::DEFAULT_ATTEMPT_TIMEOUT_INTERVAL,
            retention_trimmer_interval: Config::DEFAULT_RETENTION_TRIMMER_INTERVAL,
            reconciler_interval: Config::DEFAULT_RECONCILER_INTERVAL,
            scan_timeout: Config::DEFAULT_SCAN_TIMEOUT,
            shutdown_timeout: Config::DEFAULT_SHUTDOWN_TIMEOUT,
            backoff_initial: Backoff::DEFAULT_INITIAL,
            backoff_max: Backoff::DEFAULT_MAX,
            jitter: Jitter::DEFAULT.ratio(),
            unhealthy_after: Config::DEFAULT_UNHEALTHY_AFTER,
        }
    }
}

impl ConfigBuilder {
    /// Declares a partition family. Without any, the router has the family `default` with
    /// 16 partitions. Declared families replace that default: declare `default` too if
    /// scanners that do not name a family are to run.
    pub fn family(mut self, family: impl Into<String>, partitions: u32) -> Self {
        self.families.push((family.into(), partitions));
        self
    }

    /// Sets the lease expiry scanner's interval.
    pub fn lease_expiry_interval(mut self, interval: Duration) -> Self {
        self.lease_expiry_interval = interval;
        self
    }

    /// Sets the delayed promoter's interval.
    pub fn delayed_promoter_interval(mut self, interval: Duration) -> Self {
        self.delayed_promoter_interval = interval;
        self
    }

    /// Sets the attempt timeout scanner's interval.
    pub fn attempt_timeout_interval(mut self, interval: Duration) -> Self {
        self.attempt_timeout_interval = interval;
        self
    }

    /// Sets the retention trimmer's interval.
    pub fn retention_trimmer_interval(mut self, interval: Duration) -> Self {
        self.retention_trimmer_interval = interval;
        self
    }

    /// Sets the interval of push-and-reconcile reconcilers.
    pub fn reconciler_interval(mut self, interval: Duration) -> Self {
        self.reconciler_interval = interval;
        self
    }

    /// Sets the longest one scan of one partition may take.
    pub fn scan_timeout(mut self, timeout: Duration) -> Self {
        self.scan_timeout = timeout;
        self
    }

    /// Sets how long shutdown waits for every task to stop. Zero is allowed: shutdown then
    /// only signals, and reports whatever had not stopped at once.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Sets the restart backoff: the first delay and the cap.
    pub fn restart_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.backoff_initial = initial;
        self.backoff_max = max;
        self
    }

    /// Sets the jitter ratio, at least 0 and below 0.5; see [`Jitter`].
    pub fn jitter(mut self, ratio: f64) -> Self {
        self.jitter = ratio;
        self
    }

    /// Sets after how many failed ticks in a row a scanner is unhealthy; at least 1.
    pub fn unhealthy_after(mut self, failures: u32) -> Self {
        self.unhealthy_after = failures;
        self
    }

    /// Checks every value and builds the configuration.
    ///
    /// Fails with [`Error::ZeroInterval`] naming the field of a zero interval or scan
    /// timeout, [`Error::ZeroPartitions`] for a family without partitions, and
    /// [`Error::InvalidConfig`] for a jitter, backoff or threshold out of range.
    pub fn build(self) -> Result<Config, Error> {
        let intervals = [
            ("lease_expiry_interval", self.lease_expiry_interval),
            ("delayed_promoter_interval", self.delayed_promoter_interval),
            ("attempt_timeout_interval", self.attempt_timeout_interval),
            (
                "retention_trimmer_interval",
                self.retention_trimmer_interval,
            ),
            ("reconciler_interval", self.reconciler_interval),
            ("scan_timeout", self.scan_timeout),
        ];
        if let Some((name, _)) = intervals.iter().find(|(_, interval)| interval.is_zero()) {
            return Err(Error::ZeroInterval {
                scanner: (*name).to_owned(),
            });
        }
        let router = if self.families.is_empty() {
            PartitionRouter::builder()
                .family(DEFAULT_FAMILY, DEFAULT_PARTITIONS)
                .build()?
        } else {
            self.families
                .into_iter()
                .fold(PartitionRouter::builder(), |builder, (family, count)| {
                    builder.family(family, count)
                })
                .build()?
        };
        if self.unhealthy_after == 0 {
            return Err(Error::InvalidConfig {
                field: "unhealthy_after",
                reason: "must be at least 1",
            });
        }
        Ok(Config {
            router,
            lease_expiry_interval: self.lease_expiry_interval,
            delayed_promoter_interval: self.delayed_promoter_interval,
            attempt_timeout_interval: self.attempt_timeout_interval,
            retention_trimmer_interval: self.retention_trimmer_interval,
            reconciler_interval: self.reconciler_interval,
            scan_timeout: self.scan_timeout,
            shutdown_timeout: self.shutdown_timeout,
            restart_backoff: Backoff::new(self.backoff_initial, self.backoff_max)?,
            jitter: Jitter::new(self.jitter)?,
            unhealthy_after: self.unhealthy_after,
        })
    }
}

#[cfg(test)]
mod tests;
