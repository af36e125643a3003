//! What one scan of one partition did: items examined, items acted on, and errors.

use std::error::Error as StdError;

use switchyard_core::report;

/// The outcome of one scan of one partition.
///
/// An item error (one message that could not be moved) is counted here and the scan goes
/// on; a failure of the scan as a whole (the store is unreachable) is the scan's `Err`
/// instead. Only the first error's text is kept, redacted, so a report stays small however
/// many items failed.
///
/// ```
/// use switchyard_scanners::ScanReport;
///
/// let mut report = ScanReport::new();
/// report.add_examined(10);
/// report.add_acted(3);
/// report.add_error(&switchyard_core::Error::Closed { component: "store" });
/// assert_eq!((report.examined(), report.acted(), report.errors()), (10, 3, 1));
/// assert_eq!(report.first_error(), Some("store is closed"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use = "a scan report says what the scan did"]
pub struct ScanReport {
    examined: u64,
    acted: u64,
    errors: u64,
    held: u64,
    first_error: Option<String>,
}

impl ScanReport {
    /// An empty report: nothing examined.
    pub const fn new() -> Self {
        Self {
            examined: 0,
            acted: 0,
            errors: 0,
            held: 0,
            first_error: None,
        }
    }

    /// A report of `examined` items looked at and `acted` of them acted on, without errors.
    pub const fn with_counts(examined: u64, acted: u64) -> Self {
        Self {
            examined,
            acted,
            errors: 0,
            held: 0,
            first_error: None,
        }
    }

    /// Counts `n` more items looked at.
    pub fn add_examined(&mut self, n: u64) {
        self.examined = self.examined.saturating_add(n);
    }

    /// Counts `n` more items acted on: promoted, redelivered, dead-lettered, trimmed.
    pub fn add_acted(&mut self, n: u64) {
        self.acted = self.acted.saturating_add(n);
    }

    /// Counts `n` more items due for an action that could not be taken and that were left
    /// as they were, to be tried again by a later scan: deliveries due for the dead letter
    /// while it refuses them (full), for instance.
    pub fn add_held(&mut self, n: u64) {
        self.held = self.held.saturating_add(n);
    }

    /// Counts one item error, keeping the text of the first, redacted.
    pub fn add_error(&mut self, error: &(dyn StdError + 'static)) {
        self.errors = self.errors.saturating_add(1);
        if self.first_error.is_none() {
            self.first_error = Some(report(error));
        }
    }

    /// Adds `other`'s counts to this report, keeping the earlier first error.
    pub fn merge(&mut self, other: ScanReport) {
        self.add_examined(other.examined);
        self.add_acted(other.acted);
        self.errors = self.errors.saturating_add(other.errors);
        self.add_held(other.held);
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }

    /// Items looked at.
    pub fn examined(&self) -> u64 {
        self.examined
    }

    /// Items acted on.
    pub fn acted(&self) -> u64 {
        self.acted
    }

    /// Item errors.
    pub fn errors(&self) -> u64 {
        self.errors
    }

    /// Items held: due for an action that could not be taken, left as they were for a
    /// later scan (see [`add_held`](Self::add_held)). A scan that holds items also counts
    /// the [error](Self::errors) that made it hold them.
    pub fn held(&self) -> u64 {
        self.held
    }

    /// The text of the first item error, redacted.
    pub fn first_error(&self) -> Option<&str> {
        self.first_error.as_deref()
    }
}

#[cfg(test)]
mod tests;
