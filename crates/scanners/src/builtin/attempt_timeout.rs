//! The attempt timeout scanner: fails attempts that ran past their deadline, so that they
//! are retried or dead-lettered.

use std::{
    sync::Arc,
    time::{Duration, SystemTime},
};

use async_trait::async_trait;
use switchyard_core::{Result, Throttle};

use crate::{
    AttemptStore, Config, DeadLetterReason, Error, InFlight, Partition, ScanContext, ScanReport,
    Scanner,
};

use super::{
    common::{Common, batch_setters, common_setters},
    settle::{Overdue, settle},
};

/// Fails every attempt still running past its deadline, even one whose consumer keeps
/// extending its lease: the attempt is retried (made deliverable again, its delivery count
/// one higher), or, if it was the
/// [`max_deliveries`](AttemptTimeoutBuilder::max_deliveries)th, dead-lettered with
/// [`DeadLetterReason::AttemptTimedOut`] and its count.
///
/// The consumer of a failed attempt may still finish and ack: an ack is honoured whichever
/// delivery sends it, so a late success is not redone more than at-least-once requires.
///
/// ```
/// use switchyard_scanners::{AttemptTimeoutScanner, MemoryStore, Scanner};
///
/// let store = MemoryStore::builder(16).build()?;
/// let scanner = AttemptTimeoutScanner::builder(store).build()?;
/// assert_eq!(scanner.name(), "attempt_timeout");
/// # Ok::<(), switchyard_scanners::Error>(())
/// ```
pub struct AttemptTimeoutScanner {
    store: Arc<dyn AttemptStore>,
    common: Common,
    max_deliveries: u32,
    /// Lets the warning about deliveries held back from a failing dead letter into the log
    /// once a second, over every partition.
    warnings: Throttle,
}

impl AttemptTimeoutScanner {
    /// Default attempts before the dead letter: 5.
    pub const DEFAULT_MAX_DELIVERIES: u32 = 5;

    /// A builder over `store`, named `attempt_timeout`, with the default
    /// [interval](Config::DEFAULT_ATTEMPT_TIMEOUT_INTERVAL) of 2 s.
    pub fn builder(store: impl AttemptStore + 'static) -> AttemptTimeoutBuilder {
        AttemptTimeoutBuilder {
            store: Arc::new(store),
            common: Common::new("attempt_timeout", Config::DEFAULT_ATTEMPT_TIMEOUT_INTERVAL),
            max_deliveries: Self::DEFAULT_MAX_DELIVERIES,
        }
    }
}

impl std::fmt::Debug for AttemptTimeoutScanner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AttemptTimeoutScanner")
            .field("common", &self.common)
            .field("max_deliveries", &self.max_deliveries)
            .finish_non_exhaustive()
    }
}

/// Builds an [`AttemptTimeoutScanner`]; created by [`AttemptTimeoutScanner::builder`].
#[must_use = "a builder does nothing until `build` is called"]
pub struct AttemptTimeoutBuilder {
    store: Arc<dyn AttemptStore>,
    common: Common,
    max_deliveries: u32,
}

common_setters!(AttemptTimeoutBuilder);
batch_setters!(AttemptTimeoutBuilder);

impl AttemptTimeoutBuilder {
    /// Sets how many attempts a message gets: timing out on the last one sends it to the
    /// dead letter. At least 1; 5 unless set.
    pub fn max_deliveries(mut self, max_deliveries: u32) -> Self {
        self.max_deliveries = max_deliveries;
        self
    }

    /// Checks the settings and builds the scanner.
    pub fn build(self) -> std::result::Result<AttemptTimeoutScanner, Error> {
        self.common.validate()?;
        if self.max_deliveries == 0 {
            return Err(Error::InvalidConfig {
                field: "max_deliveries",
                reason: "must be at least 1",
            });
        }
        Ok(AttemptTimeoutScanner {
            store: self.store,
            common: self.common,
            max_deliveries: self.max_deliveries,
            warnings: Throttle::default(),
        })
    }
}

impl std::fmt::Debug for AttemptTimeoutBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AttemptTimeoutBuilder")
            .field("common", &self.common)
            .finish_non_exhaustive()
    }
}

struct Attempts<'a>(&'a dyn AttemptStore);

#[async_trait]
impl Overdue for Attempts<'_> {
    async fn find(
        &self,
        partition: &Partition,
        now: SystemTime,
        limit: usize,
    ) -> Result<Vec<InFlight>> {
        self.0.overdue_attempts(partition, now, limit).await
    }

    async fn redeliver(&self, partition: &Partition, deliveries: &[InFlight]) -> Result<u64> {
        self.0.redeliver(partition, deliveries).await
    }

    async fn dead_letter(
        &self,
        partition: &Partition,
        deliveries: &[InFlight],
        reason: DeadLetterReason,
    ) -> Result<u64> {
        self.0.dead_letter(partition, deliveries, reason).await
    }
}

#[async_trait]
impl Scanner for AttemptTimeoutScanner {
    fn name(&self) -> &str {
        &self.common.name
    }

    fn interval(&self) -> Duration {
        self.common.interval
    }

    fn family(&self) -> &str {
        &self.common.family
    }

    async fn scan(&self, partition: &Partition, ctx: &ScanContext) -> Result<ScanReport> {
        let source = Attempts(&*self.store);
        settle(
            &source,
            partition,
            ctx,
            &self.common,
            self.max_deliveries,
            DeadLetterReason::AttemptTimedOut,
            &self.warnings,
        )
        .await
    }
}
