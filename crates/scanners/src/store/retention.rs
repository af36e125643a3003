//! `RetentionStore`: topics' logs, trimmed by count or age for the retention trimmer.

use std::{sync::Arc, time::SystemTime};

use async_trait::async_trait;
use switchyard_core::Result;

use crate::Partition;

/// How to trim a topic's log: the two strategies of Redis's `XTRIM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trim {
    /// Keep the newest `n` entries: `XTRIM <stream> MAXLEN = n`.
    MaxLen(u64),
    /// Drop the entries appended before this time: `XTRIM <stream> MINID <ms>`.
    MinTime(SystemTime),
}

/// Topics' logs, per partition.
///
/// Trimming drops entries whether or not they were delivered and acked: retention is a
/// bound on storage, not part of delivery. An ack of a trimmed entry does nothing.
#[async_trait]
pub trait RetentionStore: Send + Sync {
    /// The topics that have a log in `partition`.
    ///
    /// Redis: the members of a per-partition set of stream keys that the transport keeps
    /// (`SMEMBERS`), so that no `SCAN` over the keyspace is needed.
    async fn topics(&self, partition: &Partition) -> Result<Vec<String>>;

    /// Trims `topic`'s log in `partition` and returns how many entries it dropped.
    ///
    /// Redis: `XTRIM` with exact trimming, which returns the number of entries deleted.
    async fn trim(&self, partition: &Partition, topic: &str, trim: Trim) -> Result<u64>;
}

#[async_trait]
impl<T: RetentionStore + ?Sized> RetentionStore for Arc<T> {
    async fn topics(&self, partition: &Partition) -> Result<Vec<String>> {
        (**self).topics(partition).await
    }

    async fn trim(&self, partition: &Partition, topic: &str, trim: Trim) -> Result<u64> {
        (**self).trim(partition, topic, trim).await
    }
}
