//! A message that the in-memory store dead-lettered.

use switchyard_core::Message;

use crate::{DeadLetterReason, EntryId};

/// A message that a [`MemoryStore`](super::MemoryStore) dead-lettered, with the reason and its delivery count.
///
/// The message carries both as attributes too:
/// [`deadletterreason`](crate::attributes::DEAD_LETTER_REASON) and
/// [`deliverycount`](crate::attributes::DELIVERY_COUNT).
#[derive(Debug, Clone)]
pub struct DeadLetter {
    pub(super) message: Message,
    pub(super) partition: u32,
    pub(super) topic: String,
    pub(super) entry: EntryId,
    pub(super) reason: DeadLetterReason,
    pub(super) deliveries: u32,
}

impl DeadLetter {
    /// The message.
    pub fn message(&self) -> &Message {
        &self.message
    }

    /// The index of the partition it was in.
    pub fn partition(&self) -> u32 {
        self.partition
    }

    /// The topic it was delivered from.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// Its entry in the topic's log.
    pub fn entry(&self) -> EntryId {
        self.entry
    }

    /// Why it was dead-lettered.
    pub fn reason(&self) -> DeadLetterReason {
        self.reason
    }

    /// How many times it had been delivered.
    pub fn deliveries(&self) -> u32 {
        self.deliveries
    }
}
