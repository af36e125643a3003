//! Randomised delays: interval jitter, and the capped exponential backoff between restarts.

use std::time::Duration;

use crate::Error;

/// The fraction by which the supervisor shortens each delay at random, so that scanners
/// started together drift apart instead of firing together.
///
/// A delay `d` becomes a value drawn uniformly from `[d × (1 − ratio), d]`. Jitter only ever
/// shortens, so a configured interval or backoff is an upper bound: a delayed message is
/// promoted within one interval of its due time, and a restart never waits longer than the
/// backoff's cap. The ratio is below one half so that every backoff step (which doubles) is
/// still longer than the one before it.
///
/// ```
/// use switchyard_scanners::Jitter;
///
/// assert_eq!(Jitter::new(0.2)?.ratio(), 0.2);
/// assert!(Jitter::new(0.5).is_err());
/// # Ok::<(), switchyard_scanners::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Jitter(f64);

impl Jitter {
    /// No jitter: every delay is exactly as configured.
    pub const NONE: Jitter = Jitter(0.0);

    /// The default: delays are shortened by up to 10 %.
    pub const DEFAULT: Jitter = Jitter(0.1);

    /// A jitter of `ratio`, which must be at least 0 and below 0.5.
    pub fn new(ratio: f64) -> Result<Self, Error> {
        if (0.0..0.5).contains(&ratio) {
            Ok(Jitter(ratio))
        } else {
            Err(Error::InvalidConfig {
                field: "jitter",
                reason: "must be at least 0 and below 0.5",
            })
        }
    }

    /// The ratio.
    pub fn ratio(self) -> f64 {
        self.0
    }

    /// `delay` shortened by a random part of up to `ratio`: a value in
    /// `[delay × (1 − ratio), delay]`.
    pub(crate) fn apply(self, delay: Duration, rng: &mut fastrand::Rng) -> Duration {
        scale(delay, 1.0 - self.0 * rng.f64())
    }
}

impl Default for Jitter {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// A random offset in `[0, interval)` for a scanner's first tick, so that scanners started
/// at the same moment spread over their interval.
pub(crate) fn first_tick_offset(interval: Duration, rng: &mut fastrand::Rng) -> Duration {
    scale(interval, rng.f64())
}

/// `delay × factor` for a factor in `[0, 1]`, never above `delay`. Unlike
/// `Duration::mul_f64` it cannot panic: the float product of a huge duration may round
/// past what a `Duration` holds.
fn scale(delay: Duration, factor: f64) -> Duration {
    Duration::try_from_secs_f64(delay.as_secs_f64() * factor)
        .map_or(delay, |scaled| scaled.min(delay))
}

/// Capped exponential backoff: the delay before a failed scanner is restarted.
///
/// After the `n`th consecutive failure the delay is `initial × 2^(n−1)`, capped at `max`,
/// then shortened by the supervisor's [`Jitter`].
///
/// ```
/// use std::time::Duration;
/// use switchyard_scanners::Backoff;
///
/// let backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(10))?;
/// assert_eq!(backoff.delay(1), Duration::from_secs(1));
/// assert_eq!(backoff.delay(3), Duration::from_secs(4));
/// assert_eq!(backoff.delay(9), Duration::from_secs(10));
/// # Ok::<(), switchyard_scanners::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
}

impl Backoff {
    /// The default first delay, 1 s.
    pub const DEFAULT_INITIAL: Duration = Duration::from_secs(1);
    /// The default cap, 60 s.
    pub const DEFAULT_MAX: Duration = Duration::from_secs(60);

    /// A backoff from `initial`, doubling up to `max`. `initial` must not be zero and `max`
    /// must not be below it.
    pub fn new(initial: Duration, max: Duration) -> Result<Self, Error> {
        if initial.is_zero() {
            return Err(Error::InvalidConfig {
                field: "backoff",
                reason: "the first delay must not be zero",
            });
        }
        if max < initial {
            return Err(Error::InvalidConfig {
                field: "backoff",
                reason: "the cap must not be below the first delay",
            });
        }
        Ok(Self { initial, max })
    }

    /// The first delay.
    pub fn initial(&self) -> Duration {
        self.initial
    }

    /// The cap.
    pub fn max(&self) -> Duration {
        self.max
    }

    /// The delay after `failures` consecutive failures, before jitter. Zero failures wait
    /// nothing.
    pub fn delay(&self, failures: u32) -> Duration {
        if failures == 0 {
            return Duration::ZERO;
        }
        1u32.checked_shl(failures - 1)
            .and_then(|factor| self.initial.checked_mul(factor))
            .map_or(self.max, |delay| delay.min(self.max))
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            initial: Self::DEFAULT_INITIAL,
            max: Self::DEFAULT_MAX,
        }
    }
}

#[cfg(test)]
mod tests;
