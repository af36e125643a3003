//! The shared loop of the lease expiry and attempt timeout scanners: find overdue
//! deliveries, redeliver them, or dead-letter those out of deliveries.

use std::{collections::HashSet, time::SystemTime};

use async_trait::async_trait;
use switchyard_core::{Result, Throttle};

use crate::{DeadLetterReason, EntryId, InFlight, Partition, ScanContext, ScanReport};

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
/// failure to read is the scan's failure. A failure to redeliver is an item error that ends
/// the scan: the deliveries stay overdue for the next tick. A failure to dead-letter (a full
/// dead-letter queue, most often) is an item error too, but the scan goes on: the
/// deliveries it could not move stay in flight, untouched, to be tried again at the next
/// tick, and are counted as [held](ScanReport::held); the rest of this scan skips them, and
/// holds any other delivery due for the dead letter without trying, so that they cannot
/// keep the deliveries behind them from being redelivered.
///
/// Skipping costs reads: each read asks for `batch_size` more than the deliveries held so
/// far, and a scan holds at most `max_batches × batch_size`. Past that many held at the
/// head of the store's order, the deliveries behind them wait for a later scan after the
/// dead letter has room again.
pub(crate) async fn settle(
    source: &dyn Overdue,
    partition: &Partition,
    ctx: &ScanContext,
    common: &Common,
    max_deliveries: u32,
    reason: DeadLetterReason,
    warnings: &Throttle,
) -> Result<ScanReport> {
    let mut report = ScanReport::new();
    // The deliveries held in this scan, by topic and entry, to skip in later reads.
    let mut held: HashSet<(String, EntryId)> = HashSet::new();
    let mut dead_letter_failed = false;
    for _ in 0..common.max_batches {
        if ctx.is_cancelled() {
            break;
        }
        let limit = common.batch_size.saturating_add(held.len());
        let mut batch = source.find(partition, ctx.now(), limit).await?;
        // A short read was the last.
        let full = batch.len() >= limit;
        batch.retain(|in_flight| !held.contains(&key(in_flight)));
        report.add_examined(batch.len() as u64);
        let (dead, retry): (Vec<_>, Vec<_>) = batch
            .into_iter()
            .partition(|in_flight| in_flight.deliveries() >= max_deliveries);
        let mut acted = 0;
        let mut redeliver_failed = false;
        if !retry.is_empty() {
            match source.redeliver(partition, &retry).await {
                Ok(n) => acted += n,
                Err(error) => {
                    report.add_error(&error);
                    redeliver_failed = true;
                }
            }
        }
        let mut newly_held = 0;
        if !dead.is_empty() {
            let outcome = if dead_letter_failed {
                None
            } else {
                Some(source.dead_letter(partition, &dead, reason).await)
            };
            match outcome {
                Some(Ok(n)) => {
                    acted += n;
                    if n > 0 {
                        tracing::warn!(%partition, dead_lettered = n, reason = reason.as_str(), "dead-lettered messages");
                    }
                }
                failed => {
                    if let Some(Err(error)) = failed {
                        report.add_error(&error);
                        dead_letter_failed = true;
                    }
                    newly_held = dead.len();
                    report.add_held(dead.len() as u64);
                    held.extend(dead.iter().map(key));
                }
            }
        }
        report.add_acted(acted);
        // A batch that moved nothing and held nothing new would come back the same; a
        // store that cannot redeliver will not do better on the next batch.
        if !full || redeliver_failed || (acted == 0 && newly_held == 0) {
            break;
        }
    }
    if report.held() > 0
        && let Some(suppressed) = warnings.admit()
    {
        tracing::warn!(
            suppressed,
            %partition,
            held = report.held(),
            reason = reason.as_str(),
            error = report.first_error().unwrap_or_default(),
            "deliveries due for the dead letter could not be moved; they stay in flight until a later scan"
        );
    }
    Ok(report)
}

/// What identifies a delivery among those of a partition.
fn key(in_flight: &InFlight) -> (String, EntryId) {
    (in_flight.topic().to_owned(), in_flight.entry())
}
