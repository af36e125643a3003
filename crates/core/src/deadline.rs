//! [`deadline`]: the instant a timeout ends, saturating instead of overflowing, so that a
//! timeout of `Duration::MAX` means "no limit" wherever Switchyard takes one.

use std::time::Duration;

use tokio::time::Instant;

/// How far after its start [`deadline`] puts a deadline that the clock cannot represent:
/// 30 years, past the life of any process, and well inside what the clock and tokio's
/// timers handle.
pub const FAR_FUTURE: Duration = Duration::from_secs(30 * 365 * 24 * 60 * 60);

/// `start + timeout`, or [`FAR_FUTURE`] after `start` where that sum would overflow: adding
/// a [`Duration`] to an [`Instant`] panics on overflow, and a caller asking for no limit
/// with `Duration::MAX` must not crash its task.
///
/// ```
/// use std::time::Duration;
///
/// use switchyard_core::deadline::{FAR_FUTURE, deadline};
/// use tokio::time::Instant;
///
/// let now = Instant::now();
/// assert_eq!(deadline(now, Duration::from_secs(5)), now + Duration::from_secs(5));
/// assert_eq!(deadline(now, Duration::MAX), now + FAR_FUTURE);
/// ```
#[must_use]
pub fn deadline(start: Instant, timeout: Duration) -> Instant {
    start
        .checked_add(timeout)
        .unwrap_or_else(|| start + FAR_FUTURE)
}
