//! What a shutdown achieved: which tasks stopped in time, and which did not.

use std::{fmt, time::Duration};

/// The outcome of [`Supervisor::shutdown`](crate::Supervisor::shutdown).
///
/// A task that did not stop within the timeout is named here, logged, and aborted: it is
/// dropped at its next `.await`. A task stuck in blocking code cannot be aborted and runs
/// on until it returns; this report is how the caller learns of it.
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), switchyard_scanners::Error> {
/// use switchyard_scanners::{Config, Supervisor};
///
/// let supervisor = Supervisor::new(Config::default());
/// let report = supervisor.shutdown().await;
/// assert!(report.is_clean());
/// assert_eq!(report.to_string(), "0 tasks stopped");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "a shutdown report names the tasks that did not stop"]
pub struct ShutdownReport {
    pub(crate) stopped: Vec<String>,
    pub(crate) not_stopped: Vec<String>,
    pub(crate) timeout: Duration,
}

impl ShutdownReport {
    /// Whether every task stopped in time.
    pub fn is_clean(&self) -> bool {
        self.not_stopped.is_empty()
    }

    /// The tasks that stopped in time, in the order they were started.
    pub fn stopped(&self) -> &[String] {
        &self.stopped
    }

    /// The tasks that had not stopped when the timeout passed, in the order they were
    /// started. They have been aborted.
    pub fn not_stopped(&self) -> &[String] {
        &self.not_stopped
    }

    /// The timeout that the shutdown waited for.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }
}

impl fmt::Display for ShutdownReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} tasks stopped", self.stopped.len())?;
        if !self.not_stopped.is_empty() {
            write!(
                f,
                "; not stopped within {:?}: {}",
                self.timeout,
                self.not_stopped.join(", ")
            )?;
        }
        Ok(())
    }
}
