//! `Retention`: how much of a topic's log to keep, by count and by age.

use std::time::Duration;

use crate::Error;

/// How much of a topic's log the [`RetentionTrimmer`](crate::RetentionTrimmer) keeps: at
/// most a number of entries, entries younger than an age, or both. With neither, the
/// topic keeps everything.
///
/// ```
/// use std::time::Duration;
/// use switchyard_scanners::Retention;
///
/// let retention = Retention::new().max_len(10_000).max_age(Duration::from_secs(24 * 3600));
/// assert_eq!(retention.len_limit(), Some(10_000));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Retention {
    max_len: Option<u64>,
    max_age: Option<Duration>,
}

impl Retention {
    /// Keep everything.
    pub const fn new() -> Self {
        Self {
            max_len: None,
            max_age: None,
        }
    }

    /// Keeps the newest `entries` entries.
    pub const fn max_len(mut self, entries: u64) -> Self {
        self.max_len = Some(entries);
        self
    }

    /// Keeps the entries appended within `age`.
    pub const fn max_age(mut self, age: Duration) -> Self {
        self.max_age = Some(age);
        self
    }

    /// The count limit, if any.
    pub const fn len_limit(&self) -> Option<u64> {
        self.max_len
    }

    /// The age limit, if any.
    pub const fn age_limit(&self) -> Option<Duration> {
        self.max_age
    }

    /// A zero count or age would empty the topic on every tick: a mistake, not a policy.
    pub(crate) fn validate(&self) -> Result<(), Error> {
        if self.max_len == Some(0) {
            return Err(Error::InvalidConfig {
                field: "retention max_len",
                reason: "must be at least 1",
            });
        }
        if self.max_age.is_some_and(|age| age.is_zero()) {
            return Err(Error::InvalidConfig {
                field: "retention max_age",
                reason: "must not be zero",
            });
        }
        Ok(())
    }
}
