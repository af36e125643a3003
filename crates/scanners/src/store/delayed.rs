//! `DelayedStore`: messages scheduled for later, for the delayed promoter.

use std::{sync::Arc, time::SystemTime};

use async_trait::async_trait;
use switchyard_core::Result;

use crate::Partition;

/// A scheduled message that is due: its key, the topic it goes to, and its due time.
///
/// It is also the compare-and-set token for promoting it: a store promotes it only if it
/// is still scheduled for the same time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueEntry {
    key: String,
    topic: String,
    due: SystemTime,
}

impl DueEntry {
    /// The scheduled message `key` (its message id), bound for `topic`, due at `due`.
    pub fn new(key: impl Into<String>, topic: impl Into<String>, due: SystemTime) -> Self {
        Self {
            key: key.into(),
            topic: topic.into(),
            due,
        }
    }

    /// The key it is scheduled under within its [topic](Self::topic): the message's
    /// `id`. The same id may be scheduled for several topics, each its own entry.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The topic it becomes visible in.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// When it is due.
    pub fn due(&self) -> SystemTime {
        self.due
    }
}

/// Messages scheduled for a time, and made visible in their topic when it comes.
///
/// Promotion is idempotent: when two promoters race over the same entry, exactly one
/// moves it, and the message appears in its topic once.
#[async_trait]
pub trait DelayedStore: Send + Sync {
    /// Up to `limit` entries of `partition` due at or before `now`, earliest first.
    ///
    /// Redis: `ZRANGEBYSCORE <delayed> -inf <now ms> WITHSCORES LIMIT 0 <limit>`, whose
    /// members name the topic and the message id together, so that one id scheduled for
    /// two topics is two members.
    async fn due(
        &self,
        partition: &Partition,
        now: SystemTime,
        limit: usize,
    ) -> Result<Vec<DueEntry>>;

    /// Moves each entry that is still scheduled for the same time into its topic, as
    /// appended at `now`, and returns how many it moved.
    ///
    /// Redis: one script that, for each key, `ZREM`s it only if its score is unchanged, and
    /// `XADD`s the message to its stream only if the `ZREM` removed it: the `ZREM` decides
    /// which of two racing promoters moves it.
    async fn promote(
        &self,
        partition: &Partition,
        entries: &[DueEntry],
        now: SystemTime,
    ) -> Result<u64>;
}

#[async_trait]
impl<T: DelayedStore + ?Sized> DelayedStore for Arc<T> {
    async fn due(
        &self,
        partition: &Partition,
        now: SystemTime,
        limit: usize,
    ) -> Result<Vec<DueEntry>> {
        (**self).due(partition, now, limit).await
    }

    async fn promote(
        &self,
        partition: &Partition,
        entries: &[DueEntry],
        now: SystemTime,
    ) -> Result<u64> {
        (**self).promote(partition, entries, now).await
    }
}
