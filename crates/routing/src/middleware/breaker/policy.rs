//! [`CircuitPolicy`]: when a circuit opens, how long it stays open, and how many trial
//! calls decide whether it closes. Validated once, by [`CircuitPolicyBuilder::build`].

use std::time::Duration;

use crate::middleware::{ConfigError, error::non_zero};

/// When a closed circuit opens on its failure rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum RateRule {
    /// At least `ratio` of the last `calls` calls failed, once that many were made since
    /// the circuit last changed state.
    OverCalls { ratio: f64, calls: u32 },
    /// At least `ratio` of the calls that ended within `span` failed, once at least
    /// `min_calls` of them did.
    OverTime {
        ratio: f64,
        span: Duration,
        min_calls: u32,
    },
}

/// The settings of a [`CircuitMachine`](super::CircuitMachine): its trip rules, its
/// cool-down and its trial calls.
///
/// A closed circuit opens when any of its rules holds, judged after each failure:
/// [`consecutive_failures`](CircuitPolicyBuilder::consecutive_failures) in a row, or a
/// failure rate over the last calls or over a span of time. It then refuses calls for the
/// [`cool_down`](CircuitPolicyBuilder::cool_down), after which
/// [`half_open_probes`](CircuitPolicyBuilder::half_open_probes) trial calls go through: that
/// many successes close it, and the first failure opens it again.
///
/// ```
/// use std::time::Duration;
///
/// use switchyard_routing::middleware::breaker::CircuitPolicy;
///
/// let policy = CircuitPolicy::builder()
///     .consecutive_failures(5)
///     .failure_rate_over(0.5, Duration::from_secs(60), 20)
///     .cool_down(Duration::from_secs(30))
///     .build()?;
/// assert_eq!(policy.cool_down(), Duration::from_secs(30));
///
/// // A policy needs a rule that opens it.
/// assert!(CircuitPolicy::builder().build().is_err());
/// # Ok::<(), switchyard_routing::middleware::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CircuitPolicy {
    pub(super) consecutive_failures: Option<u32>,
    pub(super) rate: Option<RateRule>,
    pub(super) cool_down: Duration,
    pub(super) probes: u32,
}

impl CircuitPolicy {
    /// The largest window of [`failure_ratio`](CircuitPolicyBuilder::failure_ratio), in
    /// calls: the machine remembers one outcome per call of that window.
    pub const MAX_WINDOW_CALLS: u32 = 100_000;

    /// The longest cool-down, and the longest window of
    /// [`failure_rate_over`](CircuitPolicyBuilder::failure_rate_over): a year, far beyond any
    /// useful value and far from the clock's limits.
    pub const MAX_DURATION: Duration = Duration::from_secs(365 * 24 * 60 * 60);

    /// A builder without any trip rule, a cool-down of 30 s and one trial call.
    pub fn builder() -> CircuitPolicyBuilder {
        CircuitPolicyBuilder {
            policy: CircuitPolicy {
                consecutive_failures: None,
                rate: None,
                cool_down: Duration::from_secs(30),
                probes: 1,
            },
        }
    }

    /// How long an open circuit refuses calls.
    pub fn cool_down(&self) -> Duration {
        self.cool_down
    }

    /// How many trial calls a half-open circuit lets through.
    pub fn half_open_probes(&self) -> u32 {
        self.probes
    }
}

impl Default for CircuitPolicy {
    /// Opens after 5 failures in a row, or when half of at least 20 calls within a minute
    /// failed; stays open for 30 s; then lets 1 trial call through.
    fn default() -> Self {
        CircuitPolicy {
            consecutive_failures: Some(5),
            rate: Some(RateRule::OverTime {
                ratio: 0.5,
                span: Duration::from_secs(60),
                min_calls: 20,
            }),
            cool_down: Duration::from_secs(30),
            probes: 1,
        }
    }
}

/// Builds a [`CircuitPolicy`]; made by [`CircuitPolicy::builder`].
///
/// It starts without a trip rule, so that the rules are the caller's choice;
/// [`CircuitPolicy::default`] is a complete policy. The names in its errors are those of its
/// methods, with `window` and `min_calls` for the window arguments of the failure-rate
/// rules.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct CircuitPolicyBuilder {
    policy: CircuitPolicy,
}

impl CircuitPolicyBuilder {
    /// A builder holding `policy`'s settings, to build it again with some of them changed.
    pub(super) fn from_policy(policy: CircuitPolicy) -> Self {
        Self { policy }
    }

    /// Opens after `failures` failures in a row. Must not be zero.
    pub fn consecutive_failures(mut self, failures: u32) -> Self {
        self.policy.consecutive_failures = Some(failures);
        self
    }

    /// Opens when at least `ratio` (in `(0, 1]`) of the last `window` calls failed, judged
    /// once `window` calls were made since the circuit last changed state. `window` must
    /// not be zero nor above [`CircuitPolicy::MAX_WINDOW_CALLS`]. Replaces a
    /// [`failure_rate_over`](Self::failure_rate_over).
    pub fn failure_ratio(mut self, ratio: f64, window: u32) -> Self {
        self.policy.rate = Some(RateRule::OverCalls {
            ratio,
            calls: window,
        });
        self
    }

    /// Opens when at least `ratio` (in `(0, 1]`) of the calls that ended within the last
    /// `window` of time failed, judged once at least `min_calls` of them did, so that one
    /// failure out of one call does not open it. Neither may be zero. Replaces a
    /// [`failure_ratio`](Self::failure_ratio).
    pub fn failure_rate_over(mut self, ratio: f64, window: Duration, min_calls: u32) -> Self {
        self.policy.rate = Some(RateRule::OverTime {
            ratio,
            span: window,
            min_calls,
        });
        self
    }

    /// How long the circuit stays open before it lets trial calls through. Must not be
    /// zero.
    pub fn cool_down(mut self, cool_down: Duration) -> Self {
        self.policy.cool_down = cool_down;
        self
    }

    /// How many trial calls half-open lets through at once, and how many must succeed to
    /// close it. Must not be zero.
    pub fn half_open_probes(mut self, probes: u32) -> Self {
        self.policy.probes = probes;
        self
    }

    /// Validates the settings.
    ///
    /// # Errors
    ///
    /// [`ConfigError::MissingOneOf`] without any trip rule, [`ConfigError::Zero`] for a zero
    /// count or duration, and [`ConfigError::OutOfRange`] for a ratio outside `(0, 1]`, a
    /// window of calls above [`CircuitPolicy::MAX_WINDOW_CALLS`] or a duration above
    /// [`CircuitPolicy::MAX_DURATION`].
    pub fn build(self) -> Result<CircuitPolicy, ConfigError> {
        let policy = self.policy;
        if policy.consecutive_failures.is_none() && policy.rate.is_none() {
            return Err(ConfigError::MissingOneOf {
                settings: "`consecutive_failures`, `failure_ratio`, `failure_rate_over`",
            });
        }
        if let Some(failures) = policy.consecutive_failures {
            non_zero("consecutive_failures", failures)?;
        }
        match policy.rate {
            Some(RateRule::OverCalls { ratio, calls }) => {
                check_ratio("failure_ratio", ratio)?;
                non_zero("window", calls)?;
                if calls > CircuitPolicy::MAX_WINDOW_CALLS {
                    return Err(ConfigError::OutOfRange {
                        setting: "window",
                        reason: "must be at most 100000 calls",
                    });
                }
            }
            Some(RateRule::OverTime {
                ratio,
                span,
                min_calls,
            }) => {
                check_ratio("failure_rate_over", ratio)?;
                check_duration("window", span)?;
                non_zero("min_calls", min_calls)?;
            }
            None => {}
        }
        check_duration("cool_down", policy.cool_down)?;
        non_zero("half_open_probes", policy.probes)?;
        Ok(policy)
    }
}

fn check_ratio(setting: &'static str, ratio: f64) -> Result<(), ConfigError> {
    // Written so that NaN fails too.
    if ratio > 0.0 && ratio <= 1.0 {
        Ok(())
    } else {
        Err(ConfigError::OutOfRange {
            setting,
            reason: "must be above 0 and at most 1",
        })
    }
}

fn check_duration(setting: &'static str, duration: Duration) -> Result<(), ConfigError> {
    non_zero(setting, duration)?;
    if duration > CircuitPolicy::MAX_DURATION {
        return Err(ConfigError::OutOfRange {
            setting,
            reason: "must be at most a year",
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
