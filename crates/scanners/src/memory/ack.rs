//! The acker sink of the in-memory store: settles one delivery in its partition.

use std::sync::{Arc, Weak};

use switchyard_core::{AckSink, NackCause};

use crate::EntryId;

use super::Inner;

/// Settles one delivery. Holds the store weakly: a delivery outliving its store settles
/// nothing.
pub(crate) struct MemoryAck {
    store: Weak<Inner>,
    partition: u32,
    topic: Arc<str>,
    entry: EntryId,
    deliveries: u32,
}

impl MemoryAck {
    pub(crate) fn new(
        store: &Arc<Inner>,
        partition: u32,
        topic: Arc<str>,
        entry: EntryId,
        deliveries: u32,
    ) -> Self {
        Self {
            store: Arc::downgrade(store),
            partition,
            topic,
            entry,
            deliveries,
        }
    }

    fn settle(&self, ack: bool) {
        let Some(store) = self.store.upgrade() else {
            return;
        };
        let count = u32::try_from(store.partitions.len()).unwrap_or(u32::MAX);
        // The partition index came from this store, so it is in range.
        let _ = store.with(self.partition, count, |state| {
            if ack {
                state.ack(&self.topic, self.entry);
            } else {
                state.nack(&self.topic, self.entry, self.deliveries);
            }
        });
    }
}

impl AckSink for MemoryAck {
    fn ack(&self) {
        self.settle(true);
    }

    fn nack(&self, _cause: NackCause) {
        self.settle(false);
    }
}
