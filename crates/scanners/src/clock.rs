//! The wall clock that scanners and stores read, advancing with Tokio's (pausable) clock.

use std::time::{Duration, SystemTime};

use tokio::time::Instant;

/// A wall clock that advances with Tokio's clock.
///
/// Deadlines in stores are wall-clock times (a Redis sorted set is scored in Unix
/// milliseconds), but the scanners wait on Tokio's clock. `Clock` ties the two together: it
/// reads the system time once, when it is made, and from then on adds the time that
/// Tokio's clock says has passed. Under a paused test clock (`start_paused`,
/// `tokio::time::advance`) it therefore advances exactly when Tokio's clock does, and it
/// never goes backwards when the system clock is adjusted.
///
/// Clones share the same anchor. Give the same clock to the [`Supervisor`](crate::Supervisor)
/// and to whatever writes deadlines into a store, so that they agree on what "now" is.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use switchyard_scanners::Clock;
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let clock = Clock::starting_at(UNIX_EPOCH + Duration::from_secs(1_000));
/// tokio::time::advance(Duration::from_secs(5)).await;
/// assert_eq!(clock.now(), UNIX_EPOCH + Duration::from_secs(1_005));
/// # }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    wall: SystemTime,
    tokio: Instant,
}

impl Clock {
    /// A clock that starts at the current system time.
    pub fn system() -> Self {
        Self::starting_at(SystemTime::now())
    }

    /// A clock that reads `start` now, and advances with Tokio's clock from here.
    pub fn starting_at(start: SystemTime) -> Self {
        Self {
            wall: start,
            tokio: Instant::now(),
        }
    }

    /// The current time.
    pub fn now(&self) -> SystemTime {
        self.wall + self.tokio.elapsed()
    }

    /// The current time plus `after`: a deadline. It saturates
    /// [`FAR_FUTURE`](switchyard_core::deadline::FAR_FUTURE) ahead instead of overflowing, so
    /// that `Duration::MAX` means "never".
    pub fn after(&self, after: Duration) -> SystemTime {
        let now = self.now();
        now.checked_add(after)
            .unwrap_or_else(|| now + switchyard_core::deadline::FAR_FUTURE)
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

#[cfg(test)]
mod tests;
