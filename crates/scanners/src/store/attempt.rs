//! `AttemptStore`: finds attempts that ran past their deadline, for the attempt timeout
//! scanner.

use std::{sync::Arc, time::SystemTime};

use async_trait::async_trait;
use switchyard_core::Result;

use crate::{InFlight, Partition, PendingStore};

/// Deliveries with attempt deadlines: an attempt that is still running at its deadline
/// fails, whether or not its consumer keeps extending the lease, and is then retried or
/// dead-lettered through [`PendingStore`].
#[async_trait]
pub trait AttemptStore: PendingStore {
    /// Up to `limit` deliveries of `partition` still in flight whose attempt deadline is at
    /// or before `now`, earliest deadline first.
    ///
    /// Redis: `ZRANGEBYSCORE <attempt deadlines> -inf <now ms> LIMIT 0 <limit>`, a sorted
    /// set written beside the pending entries list on each delivery.
    async fn overdue_attempts(
        &self,
        partition: &Partition,
        now: SystemTime,
        limit: usize,
    ) -> Result<Vec<InFlight>>;
}

#[async_trait]
impl<T: AttemptStore + ?Sized> AttemptStore for Arc<T> {
    async fn overdue_attempts(
        &self,
        partition: &Partition,
        now: SystemTime,
        limit: usize,
    ) -> Result<Vec<InFlight>> {
        (**self).overdue_attempts(partition, now, limit).await
    }
}
