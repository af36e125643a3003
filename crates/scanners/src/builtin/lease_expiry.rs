//! The lease expiry scanner: redelivers deliveries whose lease ran out, and dead-letters
//! those delivered too often.

use std::{
    sync::Arc,
    time::{Duration, SystemTime},
};

use async_trait::async_trait;
use switchyard_core::{Result, Throttle};

use crate::{
    Config, DeadLetterReason, Error, InFlight, LeaseStore, Partition, ScanContext, ScanReport,
    Scanner,
};

use super::{
    common::{Common, batch_setters, common_setters},
    settle::{Overdue, settle},
};

/// Finds delivered messages that were not acked within their lease and makes them
/// deliverable again, their delivery count one higher; a message whose lease expires on
/// its [`max_deliveries`](LeaseExpiryBuilder::max_deliveries)th delivery goes to the dead
/// letter instead, with [`DeadLetterReason::LeaseExpired`] and its count.
///
/// This is BullMQ's stalled-job check, and what Redis's `XAUTOCLAIM` does for a stream.
///
/// ```
/// use switchyard_scanners::{LeaseExpiryScanner, MemoryStore, Scanner};
///
/// let store = MemoryStore::builder(16).build()?;
/// let scanner = LeaseExpiryScanner::builder(store).max_deliveries(3).build()?;
/// assert_eq!(scanner.name(), "lease_expiry");
/// # Ok::<(), switchyard_scanners::Error>(())
/// ```
pub struct LeaseExpiryScanner {
    store: Arc<dyn LeaseStore>,
    common: Common,
    max_deliveries: u32,
    /// Lets the warning about deliveries held back from a failing dead letter into the log
    /// once a second, over every partition.
    warnings: Throttle,
}

impl LeaseExpiryScanner {
    /// Default deliveries before the dead letter: 5.
    pub const DEFAULT_MAX_DELIVERIES: u32 = 5;

    /// A builder over `store`, named `lease_expiry`, with the default
    /// [interval](Config::DEFAULT_LEASE_EXPIRY_INTERVAL) of 1.5 s.
    pub fn builder(store: impl LeaseStore + 'static) -> LeaseExpiryBuilder {
        LeaseExpiryBuilder {
            store: Arc::new(store),
            common: Common::new("lease_expiry", Config::DEFAULT_LEASE_EXPIRY_INTERVAL),
            max_deliveries: Self::DEFAULT_MAX_DELIVERIES,
        }
    }
}

impl std::fmt::Debug for LeaseExpiryScanner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeaseExpiryScanner")
            .field("common", &self.common)
            .field("max_deliveries", &self.max_deliveries)
            .finish_non_exhaustive()
    }
}

/// Builds a [`LeaseExpiryScanner`]; created by [`LeaseExpiryScanner::builder`].
#[must_use = "a builder does nothing until `build` is called"]
pub struct LeaseExpiryBuilder {
    store: Arc<dyn LeaseStore>,
    common: Common,
    max_deliveries: u32,
}

common_setters!(LeaseExpiryBuilder);
batch_setters!(LeaseExpiryBuilder);

impl LeaseExpiryBuilder {
    /// Sets how many deliveries a message gets: the lease expiring on the last one sends it
    /// to the dead letter. At least 1; 5 unless set.
    pub fn max_deliveries(mut self, max_deliveries: u32) -> Self {
        self.max_deliveries = max_deliveries;
        self
    }

    /// Checks the settings and builds the scanner.
    pub fn build(self) -> std::result::Result<LeaseExpiryScanner, Error> {
        self.common.validate()?;
        if self.max_deliveries == 0 {
            return Err(Error::InvalidConfig {
                field: "max_deliveries",
                reason: "must be at least 1",
            });
        }
        Ok(LeaseExpiryScanner {
            store: self.store,
            common: self.common,
            max_deliveries: self.max_deliveries,
            warnings: Throttle::default(),
        })
    }
}

impl std::fmt::Debug for LeaseExpiryBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeaseExpiryBuilder")
            .field("common", &self.common)
            .finish_non_exhaustive()
    }
}

struct Leases<'a>(&'a dyn LeaseStore);

#[async_trait]
impl Overdue for Leases<'_> {
    async fn find(
        &self,
        partition: &Partition,
        now: SystemTime,
        limit: usize,
    ) -> Result<Vec<InFlight>> {
        self.0.expired_leases(partition, now, limit).await
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
impl Scanner for LeaseExpiryScanner {
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
        let source = Leases(&*self.store);
        settle(
            &source,
            partition,
            ctx,
            &self.common,
            self.max_deliveries,
            DeadLetterReason::LeaseExpired,
            &self.warnings,
        )
        .await
    }
}
