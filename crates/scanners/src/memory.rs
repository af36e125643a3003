//! `MemoryStore`: an in-memory implementation of every store trait, bounded, for tests,
//! single-process deployments and the in-memory bus.

mod ack;
mod dead_letter;
mod delivery;
mod schedule;
mod state;
mod stores;

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::{Duration, SystemTime},
};

use switchyard_core::{Acker, Error as CoreError, Message, Result};

use crate::{EntryId, Error, Partition, attributes};

use self::{ack::MemoryAck, state::PartitionState};
pub use self::{
    dead_letter::DeadLetter,
    delivery::{Delivery, Lease},
};

/// Topic logs with leases, attempt deadlines, scheduled messages and a dead-letter list,
/// all in memory: the reference implementation of [`LeaseStore`](crate::LeaseStore),
/// [`AttemptStore`](crate::AttemptStore), [`DelayedStore`](crate::DelayedStore) and
/// [`RetentionStore`](crate::RetentionStore).
///
/// It models a Redis stream with one consumer group per topic and partition: a log of
/// entries, a cursor of what has been delivered, and the deliveries in flight. Entries
/// stay in the log after they are acked, until the retention trimmer drops them.
///
/// - [`publish`](Self::publish) appends to a topic's log; [`schedule`](Self::schedule)
///   holds a message until the delayed promoter moves it into its topic.
/// - [`deliver`](Self::deliver) hands out the next message, redeliveries first, under a
///   [`Lease`]. Its [`Acker`](switchyard_core::Acker) settles it: an ack ends it; a nack,
///   or dropping it unsettled, makes its lease expire at once, so that the lease expiry
///   scanner redelivers or dead-letters it at its next tick.
///
/// Everything is bounded: entries (logged and scheduled) and topics per partition, and
/// dead letters. Past a bound, writes fail with [`switchyard_core::Error::QueueFull`].
///
/// A store serves one partition family: it has as many partitions as the family, and
/// refuses a [`Partition`] of another count with
/// [`switchyard_core::Error::UnknownDestination`].
///
/// Cheap to clone: clones share the same data.
///
/// ```
/// use std::time::Duration;
/// use switchyard_scanners::{Clock, Lease, MemoryStore, Partition};
/// use switchyard_core::Message;
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> switchyard_core::Result<()> {
/// let clock = Clock::system();
/// let store = MemoryStore::builder(4).build().unwrap();
/// let partition = Partition::new("default", 1, 4).unwrap();
/// store.publish(&partition, "orders", Message::new("order 7"), clock.now())?;
///
/// let delivery = store.deliver(&partition, "orders", clock.now(), Lease::new(Duration::from_secs(30)))?.unwrap();
/// assert_eq!(delivery.deliveries(), 1);
/// delivery.message().ack();
/// assert_eq!(store.in_flight(&partition, "orders")?, 0);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct MemoryStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    partitions: Vec<Mutex<PartitionState>>,
    limits: MemoryLimits,
    dead_letters: Mutex<VecDeque<DeadLetter>>,
}

/// The bounds of a [`MemoryStore`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MemoryLimits {
    pub(crate) max_entries: usize,
    pub(crate) max_topics: usize,
    pub(crate) max_dead_letters: usize,
}

impl MemoryStore {
    /// Default bound on entries per partition, logged and scheduled together: 100,000.
    pub const DEFAULT_MAX_ENTRIES: usize = 100_000;
    /// Default bound on topics per partition: 1,024.
    pub const DEFAULT_MAX_TOPICS: usize = 1_024;
    /// Default bound on dead letters kept: 10,000.
    pub const DEFAULT_MAX_DEAD_LETTERS: usize = 10_000;

    /// A builder for a store of `partitions` partitions: the partition count of the
    /// family it serves.
    pub fn builder(partitions: u32) -> MemoryStoreBuilder {
        MemoryStoreBuilder {
            partitions,
            limits: MemoryLimits {
                max_entries: Self::DEFAULT_MAX_ENTRIES,
                max_topics: Self::DEFAULT_MAX_TOPICS,
                max_dead_letters: Self::DEFAULT_MAX_DEAD_LETTERS,
            },
        }
    }

    /// Appends `message` to `topic`'s log, as appended at `now`, and returns its entry id.
    pub fn publish(
        &self,
        partition: &Partition,
        topic: &str,
        message: Message,
        now: SystemTime,
    ) -> Result<EntryId> {
        // Keep a copy that settles nothing, and let go of the caller's acker before taking
        // the lock: dropping a delivery of this very store nacks it, which locks.
        let stored = message.detached();
        drop(message);
        let limits = self.inner.limits;
        self.with(partition, |state| state.append(topic, stored, now, &limits))?
    }

    /// Holds `message` until `due`, then the delayed promoter appends it to `topic`.
    ///
    /// The message is scheduled under its topic and `id`: scheduling a message with the same
    /// id for the same topic again moves it to the new time, as `ZADD` does; for another
    /// topic, it is scheduled once more, so that one message can be scheduled for several
    /// topics.
    pub fn schedule(
        &self,
        partition: &Partition,
        topic: &str,
        message: Message,
        due: SystemTime,
    ) -> Result<()> {
        let stored = message.detached();
        drop(message);
        let limits = self.inner.limits;
        self.with(partition, |state| {
            state.schedule(topic, stored, due, &limits)
        })?
    }

    /// Delivers the next message of `topic` at `now` under `lease`: a redelivery if one is
    /// waiting, or else the oldest entry not yet delivered. `None` when there is nothing to
    /// deliver.
    ///
    /// The message carries its delivery count in the
    /// [`deliverycount`](attributes::DELIVERY_COUNT) attribute, and an acker that settles
    /// the delivery in this store.
    pub fn deliver(
        &self,
        partition: &Partition,
        topic: &str,
        now: SystemTime,
        lease: Lease,
    ) -> Result<Option<Delivery>> {
        let delivered = self.with(partition, |state| state.deliver(topic, now, lease))?;
        // Build the acker after the lock is released: if anything dropped it under the lock,
        // its nack would deadlock on the same lock.
        Ok(delivered.map(|(entry, deliveries, message)| {
            let topic: Arc<str> = topic.into();
            let sink = MemoryAck::new(
                &self.inner,
                partition.index(),
                topic.clone(),
                entry,
                deliveries,
            );
            let (payload, mut attrs, _) = message.into_parts();
            // The name is a valid constant: this cannot fail.
            let _ = attrs.insert(attributes::DELIVERY_COUNT, deliveries.to_string());
            Delivery {
                message: Message::from_parts(payload, attrs, Acker::new(sink)),
                partition: partition.clone(),
                topic: topic.to_string(),
                entry,
                deliveries,
            }
        }))
    }

    /// Extends the lease of `delivery` to `lease` from `now`: the heartbeat of a long
    /// attempt. Returns `false` if the delivery is no longer in flight (settled, expired and
    /// reclaimed, trimmed). The attempt deadline does not move.
    ///
    /// Redis: `XCLAIM … JUSTID` of the entry to its own consumer, which resets its idle
    /// time.
    pub fn extend_lease(
        &self,
        delivery: &Delivery,
        now: SystemTime,
        lease: Duration,
    ) -> Result<bool> {
        self.with(&delivery.partition, |state| {
            state.extend(
                &delivery.topic,
                delivery.entry,
                delivery.deliveries,
                now,
                lease,
            )
        })
    }

    /// How many entries `topic`'s log holds in `partition`.
    pub fn len(&self, partition: &Partition, topic: &str) -> Result<usize> {
        self.with(partition, |state| state.log_len(topic))
    }

    /// The entry ids of `topic`'s log in `partition`, oldest first.
    pub fn entries(&self, partition: &Partition, topic: &str) -> Result<Vec<EntryId>> {
        self.with(partition, |state| state.entry_ids(topic))
    }

    /// How many deliveries of `topic` in `partition` are in flight or waiting for
    /// redelivery.
    pub fn in_flight(&self, partition: &Partition, topic: &str) -> Result<usize> {
        self.with(partition, |state| state.pending_len(topic))
    }

    /// How many messages are scheduled in `partition`.
    pub fn scheduled(&self, partition: &Partition) -> Result<usize> {
        self.with(partition, |state| state.scheduled_len())
    }

    /// The dead letters, oldest first.
    pub fn dead_letters(&self) -> Vec<DeadLetter> {
        self.inner.dead().iter().cloned().collect()
    }

    /// Removes and returns the dead letters, oldest first: what a dead-letter consumer
    /// does.
    pub fn take_dead_letters(&self) -> Vec<DeadLetter> {
        self.inner.dead().drain(..).collect()
    }

    fn with<T>(
        &self,
        partition: &Partition,
        f: impl FnOnce(&mut PartitionState) -> T,
    ) -> Result<T> {
        self.inner.with(partition.index(), partition.count(), f)
    }
}

impl Inner {
    /// Runs `f` on partition `index` of `count`, under its lock.
    pub(crate) fn with<T>(
        &self,
        index: u32,
        count: u32,
        f: impl FnOnce(&mut PartitionState) -> T,
    ) -> Result<T> {
        let state = usize::try_from(index)
            .ok()
            .filter(|_| usize::try_from(count).ok() == Some(self.partitions.len()))
            .and_then(|index| self.partitions.get(index))
            .ok_or_else(|| CoreError::UnknownDestination {
                destination: format!(
                    "partition {index} of {count} (this memory store has {})",
                    self.partitions.len()
                ),
            })?;
        // Every operation leaves the state consistent before it can panic, so a poisoned
        // lock still guards valid data.
        Ok(f(&mut state.lock().unwrap_or_else(PoisonError::into_inner)))
    }

    pub(crate) fn dead(&self) -> MutexGuard<'_, VecDeque<DeadLetter>> {
        self.dead_letters
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// Builds a [`MemoryStore`]; created by [`MemoryStore::builder`].
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct MemoryStoreBuilder {
    partitions: u32,
    limits: MemoryLimits,
}

impl MemoryStoreBuilder {
    /// Bounds the entries of each partition, logged and scheduled together.
    pub fn max_entries(mut self, entries: usize) -> Self {
        self.limits.max_entries = entries;
        self
    }

    /// Bounds the topics of each partition.
    pub fn max_topics(mut self, topics: usize) -> Self {
        self.limits.max_topics = topics;
        self
    }

    /// Bounds the dead letters kept.
    pub fn max_dead_letters(mut self, dead_letters: usize) -> Self {
        self.limits.max_dead_letters = dead_letters;
        self
    }

    /// Builds the store. Fails with [`Error::ZeroPartitions`] for zero partitions and with
    /// [`Error::InvalidConfig`] for a zero bound.
    pub fn build(self) -> std::result::Result<MemoryStore, Error> {
        if self.partitions == 0 {
            return Err(Error::ZeroPartitions {
                family: "memory store".into(),
            });
        }
        let limits = self.limits;
        if limits.max_entries == 0 || limits.max_topics == 0 || limits.max_dead_letters == 0 {
            return Err(Error::InvalidConfig {
                field: "memory store limits",
                reason: "must not be zero",
            });
        }
        Ok(MemoryStore {
            inner: Arc::new(Inner {
                partitions: (0..self.partitions)
                    .map(|_| Mutex::new(PartitionState::default()))
                    .collect(),
                limits,
                dead_letters: Mutex::new(VecDeque::new()),
            }),
        })
    }
}

#[cfg(test)]
mod tests;
