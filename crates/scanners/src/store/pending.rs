//! Deliveries in flight, and what the lease and attempt scanners may do with them:
//! redeliver them, or dead-letter them.

use std::time::SystemTime;

use async_trait::async_trait;
use switchyard_core::Result;

use crate::{EntryId, Partition};

/// One delivery in flight, as a store reports it: which entry, how many times it has been
/// delivered, and its deadlines.
///
/// It is also the compare-and-set token for acting on it: a store redelivers or
/// dead-letters it only if the entry is still in flight with the same delivery count and
/// lease deadline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InFlight {
    topic: String,
    entry: EntryId,
    deliveries: u32,
    lease_deadline: SystemTime,
    attempt_deadline: Option<SystemTime>,
}

impl InFlight {
    /// Entry `entry` of `topic`, delivered `deliveries` times, whose lease runs out at
    /// `lease_deadline`.
    pub fn new(
        topic: impl Into<String>,
        entry: EntryId,
        deliveries: u32,
        lease_deadline: SystemTime,
    ) -> Self {
        Self {
            topic: topic.into(),
            entry,
            deliveries,
            lease_deadline,
            attempt_deadline: None,
        }
    }

    /// Sets the deadline of the attempt, past which it fails however its lease is
    /// extended.
    pub fn with_attempt_deadline(mut self, deadline: SystemTime) -> Self {
        self.attempt_deadline = Some(deadline);
        self
    }

    /// The topic.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// The entry.
    pub fn entry(&self) -> EntryId {
        self.entry
    }

    /// How many times the entry has been delivered, this delivery included.
    pub fn deliveries(&self) -> u32 {
        self.deliveries
    }

    /// When the lease of this delivery runs out.
    pub fn lease_deadline(&self) -> SystemTime {
        self.lease_deadline
    }

    /// When this attempt times out, if it has a deadline.
    pub fn attempt_deadline(&self) -> Option<SystemTime> {
        self.attempt_deadline
    }
}

/// Why a message was dead-lettered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DeadLetterReason {
    /// Its lease expired on its last allowed delivery.
    LeaseExpired,
    /// Its last allowed attempt ran past its deadline.
    AttemptTimedOut,
}

impl DeadLetterReason {
    /// The reason as a stable, low-cardinality label: `lease_expired`,
    /// `attempt_timed_out`.
    pub fn as_str(self) -> &'static str {
        match self {
            DeadLetterReason::LeaseExpired => "lease_expired",
            DeadLetterReason::AttemptTimedOut => "attempt_timed_out",
        }
    }
}

/// What the lease and attempt scanners do with deliveries in flight; the common part of
/// [`LeaseStore`](crate::LeaseStore) and [`AttemptStore`](crate::AttemptStore).
///
/// Both methods act on a batch, each item only if it is still the same delivery (same
/// delivery count and lease deadline, still in flight), and return how many they acted on.
/// A delivery that was acked, nacked, extended or reclaimed by another scanner in the
/// meantime is left alone and not counted.
#[async_trait]
pub trait PendingStore: Send + Sync {
    /// Makes each delivery deliverable again. Its next delivery counts one more.
    ///
    /// Redis: `XCLAIM <stream> <group> <redelivery consumer> <lease> <id>…`, whose
    /// `min-idle-time` is the compare-and-set: an entry acked or claimed since is skipped,
    /// and the claim increments the entry's delivery counter.
    async fn redeliver(&self, partition: &Partition, deliveries: &[InFlight]) -> Result<u64>;

    /// Moves each delivery to its topic's dead-letter destination, recording `reason` and
    /// its delivery count, and removes it from the deliveries in flight.
    ///
    /// Redis: one script per batch that, for each id still pending with the same delivery
    /// count, `XADD`s it to the dead-letter stream with the reason and count, and `XACK`s
    /// it. All or nothing: a store that cannot take the whole batch fails it.
    async fn dead_letter(
        &self,
        partition: &Partition,
        deliveries: &[InFlight],
        reason: DeadLetterReason,
    ) -> Result<u64>;
}

#[async_trait]
impl<T: PendingStore + ?Sized> PendingStore for std::sync::Arc<T> {
    async fn redeliver(&self, partition: &Partition, deliveries: &[InFlight]) -> Result<u64> {
        (**self).redeliver(partition, deliveries).await
    }

    async fn dead_letter(
        &self,
        partition: &Partition,
        deliveries: &[InFlight],
        reason: DeadLetterReason,
    ) -> Result<u64> {
        (**self).dead_letter(partition, deliveries, reason).await
    }
}
