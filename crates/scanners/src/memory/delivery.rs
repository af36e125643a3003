//! A delivery from the in-memory store, and the lease it is delivered under.

use std::time::Duration;

use switchyard_core::Message;

use crate::{EntryId, Partition};

/// The terms of a delivery: how long its lease lasts, and optionally how long the attempt
/// may run in all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    duration: Duration,
    attempt_timeout: Option<Duration>,
}

impl Lease {
    /// A lease of `duration`, without an attempt deadline.
    pub const fn new(duration: Duration) -> Self {
        Self {
            duration,
            attempt_timeout: None,
        }
    }

    /// Adds an attempt deadline: the attempt fails `timeout` after delivery, however often
    /// its lease is extended.
    pub const fn with_attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = Some(timeout);
        self
    }

    /// The lease's duration.
    pub const fn duration(&self) -> Duration {
        self.duration
    }

    /// The attempt timeout, if any.
    pub const fn attempt_timeout(&self) -> Option<Duration> {
        self.attempt_timeout
    }
}

/// A message delivered by [`MemoryStore::deliver`](super::MemoryStore::deliver), with where it came from.
#[derive(Debug)]
pub struct Delivery {
    pub(super) message: Message,
    pub(super) partition: Partition,
    pub(super) topic: String,
    pub(super) entry: EntryId,
    pub(super) deliveries: u32,
}

impl Delivery {
    /// The message; settle it through its acker.
    pub fn message(&self) -> &Message {
        &self.message
    }

    /// The message, to hand on; its acker still settles this delivery.
    pub fn into_message(self) -> Message {
        self.message
    }

    /// The partition.
    pub fn partition(&self) -> &Partition {
        &self.partition
    }

    /// The topic.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// The entry in the topic's log.
    pub fn entry(&self) -> EntryId {
        self.entry
    }

    /// How many times the entry has been delivered, this delivery included.
    pub fn deliveries(&self) -> u32 {
        self.deliveries
    }
}
