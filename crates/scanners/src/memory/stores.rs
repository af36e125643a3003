//! The store traits, implemented by the in-memory store.

use std::time::SystemTime;

use async_trait::async_trait;
use switchyard_core::{Error as CoreError, Result};

use crate::{
    AttemptStore, DeadLetterReason, DelayedStore, DueEntry, InFlight, LeaseStore, Partition,
    PendingStore, RetentionStore, Trim, attributes,
};

use super::{DeadLetter, MemoryStore};

#[async_trait]
impl PendingStore for MemoryStore {
    async fn redeliver(&self, partition: &Partition, deliveries: &[InFlight]) -> Result<u64> {
        self.with(partition, |state| state.redeliver(deliveries))
    }

    async fn dead_letter(
        &self,
        partition: &Partition,
        deliveries: &[InFlight],
        reason: DeadLetterReason,
    ) -> Result<u64> {
        let limit = self.inner.limits.max_dead_letters;
        let moved = self.with(partition, |state| {
            // Lock order: partition, then dead letters. All or nothing: a batch that does
            // not fit stays in flight, to be tried again.
            let mut dead = self.inner.dead();
            if dead.len() + state.count_unchanged(deliveries) > limit {
                return Err(CoreError::QueueFull {
                    queue: "memory store dead letters".into(),
                });
            }
            let removed = state.remove_unchanged(deliveries);
            let moved = removed.len() as u64;
            dead.extend(removed.into_iter().map(|removed| {
                let (payload, mut attrs, acker) = removed.message.into_parts();
                // The names are valid constants: these cannot fail.
                let _ = attrs.insert(attributes::DEAD_LETTER_REASON, reason.as_str());
                let _ = attrs.insert(attributes::DELIVERY_COUNT, removed.deliveries.to_string());
                DeadLetter {
                    message: switchyard_core::Message::from_parts(payload, attrs, acker),
                    partition: partition.index(),
                    topic: removed.topic,
                    entry: removed.entry,
                    reason,
                    deliveries: removed.deliveries,
                }
            }));
            Ok(moved)
        })??;
        Ok(moved)
    }
}

#[async_trait]
impl LeaseStore for MemoryStore {
    async fn expired_leases(
        &self,
        partition: &Partition,
        now: SystemTime,
        limit: usize,
    ) -> Result<Vec<InFlight>> {
        self.with(partition, |state| state.expired_leases(now, limit))
    }
}

#[async_trait]
impl AttemptStore for MemoryStore {
    async fn overdue_attempts(
        &self,
        partition: &Partition,
        now: SystemTime,
        limit: usize,
    ) -> Result<Vec<InFlight>> {
        self.with(partition, |state| state.overdue_attempts(now, limit))
    }
}

#[async_trait]
impl DelayedStore for MemoryStore {
    async fn due(
        &self,
        partition: &Partition,
        now: SystemTime,
        limit: usize,
    ) -> Result<Vec<DueEntry>> {
        self.with(partition, |state| state.due(now, limit))
    }

    async fn promote(
        &self,
        partition: &Partition,
        entries: &[DueEntry],
        now: SystemTime,
    ) -> Result<u64> {
        self.with(partition, |state| state.promote(entries, now))
    }
}

#[async_trait]
impl RetentionStore for MemoryStore {
    async fn topics(&self, partition: &Partition) -> Result<Vec<String>> {
        self.with(partition, |state| state.topic_names())
    }

    async fn trim(&self, partition: &Partition, topic: &str, trim: Trim) -> Result<u64> {
        self.with(partition, |state| state.trim(topic, trim))
    }
}
