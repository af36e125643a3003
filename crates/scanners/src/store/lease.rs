//! `LeaseStore`: finds deliveries whose lease expired, for the lease expiry scanner.

use std::{sync::Arc, time::SystemTime};

use async_trait::async_trait;
use switchyard_core::Result;

use crate::{InFlight, Partition, PendingStore};

/// Deliveries with leases: a delivered message that is not acked before its lease runs
/// out is found here, and then redelivered or dead-lettered through [`PendingStore`].
///
/// This is BullMQ's stalled-job check and Redis's `XAUTOCLAIM`, split into a read and a
/// conditional act so that the scanner can decide between redelivery and the dead letter.
#[async_trait]
pub trait LeaseStore: PendingStore {
    /// Up to `limit` deliveries of `partition` whose lease ran out at or before `now`,
    /// oldest entry first. A nacked delivery counts as expired at once.
    ///
    /// Redis: `XPENDING <stream> <group> IDLE <lease ms> - + <limit>` for each topic of the
    /// partition, which reports each entry's delivery count.
    async fn expired_leases(
        &self,
        partition: &Partition,
        now: SystemTime,
        limit: usize,
    ) -> Result<Vec<InFlight>>;
}

#[async_trait]
impl<T: LeaseStore + ?Sized> LeaseStore for Arc<T> {
    async fn expired_leases(
        &self,
        partition: &Partition,
        now: SystemTime,
        limit: usize,
    ) -> Result<Vec<InFlight>> {
        (**self).expired_leases(partition, now, limit).await
    }
}
