//! The shared loop of the lease expiry and attempt timeout scanners: find overdue
//! deliveries, redeliver them, or dead-letter those out of deliveries.

use std::time::SystemTime;

use async_trait::async_trait;
use switchyard_core::Result;

use crate::{DeadLetterReason, InFlight, Partition, ScanContext, ScanReport};

use super::common::Common;

/// Where overdue deliveries come from, and where they go.
#[async_trait]
pub(crate) trait Overdue: Send + Sync {
    async fn find(
        &self,
        partition: &Partition,
        now: SystemTime,
        limit: usize,
    ) -> Result<Vec<InFlight>>;
    async fn redeliver(&self, partition: &Partition, deliveries: &[InFlight]) -> Result<u64>;
    async fn dead_letter(
        &self,
        partition: &Partition,
        deliveries: &[InFlight],
        reason: DeadLetterReason,
    ) -> Result<u64>;
}

/// Redelivers or dead-letters the overdue deliveries of one partition, batch by batch.
///
/// A delivery is dead-lettered once it has been delivered `max_deliveries` times. A
/// failure to read is the scan's failure; a failure to act is an item error, and the
/// deliveries stay overdue for the next tick.
pub(crate) async fn settle(
    source: &dyn Overdue,
    partition: &Partition,
    ctx: &ScanContext,
    common: &Common,
    max_deliveries: u32,
    reason: DeadLetterReason,
) -> Result<ScanReport> {
    let mut report = ScanReport::new();
    for _ in 0..common.max_batches {
        if ctx.is_cancelled() {
            break;
        }
        let batch = source.find(partition, ctx.now(), common.batch_size).await?;
        report.add_examined(batch.len() as u64);
        let full = batch.len() >= common.batch_size;
        let (dead, retry): (Vec<_>, Vec<_>) = batch
            .into_iter()
            .partition(|in_flight| in_flight.deliveries() >= max_deliveries);
        let mut acted = 0;
        let mut failed = false;
        if !retry.is_empty() {
            match source.redeliver(partition, &retry).await {
                Ok(n) => acted += n,
                Err(error) => {
                    report.add_error(&error);
                    failed = true;
                }
            }
        }
        if !dead.is_empty() {
            match source.dead_letter(partition, &dead, reason).await {
                Ok(n) => {
                    acted += n;
                    if n > 0 {
                        tracing::warn!(%partition, dead_lettered = n, reason = reason.as_str(), "dead-lettered messages");
                    }
                }
                Err(error) => {
                    report.add_error(&error);
                    failed = true;
                }
            }
        }
        report.add_acted(acted);
        // A short batch was the last; a batch that moved nothing would come back the same.
        if !full || acted == 0 || failed {
            break;
        }
    }
    Ok(report)
}
