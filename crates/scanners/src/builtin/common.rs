//! What every built-in scanner's builder sets: name, interval, family and batch bounds.

use std::time::Duration;

use crate::{DEFAULT_FAMILY, Error};

/// The settings that every built-in scanner shares.
#[derive(Debug, Clone)]
pub(crate) struct Common {
    pub(crate) name: String,
    pub(crate) interval: Duration,
    pub(crate) family: String,
    pub(crate) batch_size: usize,
    pub(crate) max_batches: u32,
}

impl Common {
    /// Default items read per store call.
    pub(crate) const DEFAULT_BATCH_SIZE: usize = 256;
    /// Default store calls per partition per tick: with the default batch, up to 16,384
    /// items per partition per tick.
    pub(crate) const DEFAULT_MAX_BATCHES: u32 = 64;

    pub(crate) fn new(name: &str, interval: Duration) -> Self {
        Self {
            name: name.to_owned(),
            interval,
            family: DEFAULT_FAMILY.to_owned(),
            batch_size: Self::DEFAULT_BATCH_SIZE,
            max_batches: Self::DEFAULT_MAX_BATCHES,
        }
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        if self.name.is_empty() {
            return Err(Error::InvalidConfig {
                field: "name",
                reason: "must not be empty",
            });
        }
        if self.interval.is_zero() {
            return Err(Error::ZeroInterval {
                scanner: self.name.clone(),
            });
        }
        if self.batch_size == 0 {
            return Err(Error::InvalidConfig {
                field: "batch_size",
                reason: "must be at least 1",
            });
        }
        if self.max_batches == 0 {
            return Err(Error::InvalidConfig {
                field: "max_batches",
                reason: "must be at least 1",
            });
        }
        Ok(())
    }
}

/// The setters of [`Common`], for a builder with a `common` field.
macro_rules! common_setters {
    ($builder:ty) => {
        impl $builder {
            /// Sets the scanner's name, unique within a supervisor.
            pub fn name(mut self, name: impl Into<String>) -> Self {
                self.common.name = name.into();
                self
            }

            /// Sets the interval between ticks, before jitter.
            pub fn interval(mut self, interval: std::time::Duration) -> Self {
                self.common.interval = interval;
                self
            }

            /// Sets the partition family to scan; `default` unless set.
            pub fn family(mut self, family: impl Into<String>) -> Self {
                self.common.family = family.into();
                self
            }
        }
    };
}

/// The batch setters of [`Common`], for a builder with a `common` field whose scanner
/// reads its store in batches.
macro_rules! batch_setters {
    ($builder:ty) => {
        impl $builder {
            /// Sets how many items one store call reads; 256 unless set.
            pub fn batch_size(mut self, batch_size: usize) -> Self {
                self.common.batch_size = batch_size;
                self
            }

            /// Sets how many store reads one scan of one partition makes at most, which
            /// bounds the work of a tick; 64 unless set.
            pub fn max_batches(mut self, max_batches: u32) -> Self {
                self.common.max_batches = max_batches;
                self
            }
        }
    };
}

pub(crate) use {batch_setters, common_setters};
