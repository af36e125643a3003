//! The scheduled messages of one partition of the in-memory store: a sorted set by due
//! time, as a Redis `ZSET` is.

use std::{
    collections::{BTreeMap, HashMap},
    sync::Arc,
    time::SystemTime,
};

use switchyard_core::Message;

use crate::DueEntry;

/// Messages waiting for their due time, by key.
#[derive(Debug, Default)]
pub(crate) struct Schedule {
    /// Keys by due time; the sequence number breaks ties in scheduling order.
    by_due: BTreeMap<(SystemTime, u64), Arc<str>>,
    by_key: HashMap<Arc<str>, Scheduled>,
    next_seq: u64,
}

/// One scheduled message.
#[derive(Debug)]
pub(crate) struct Scheduled {
    due: SystemTime,
    seq: u64,
    pub(crate) topic: Arc<str>,
    pub(crate) message: Message,
}

impl Schedule {
    pub(crate) fn contains(&self, key: &str) -> bool {
        self.by_key.contains_key(key)
    }

    /// Schedules `message` under `key`, replacing what was scheduled under it, as `ZADD`
    /// does.
    pub(crate) fn insert(
        &mut self,
        key: Arc<str>,
        topic: Arc<str>,
        message: Message,
        due: SystemTime,
    ) {
        if let Some(old) = self.by_key.remove(&key) {
            self.by_due.remove(&(old.due, old.seq));
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.by_due.insert((due, seq), key.clone());
        self.by_key.insert(
            key,
            Scheduled {
                due,
                seq,
                topic,
                message,
            },
        );
    }

    /// Up to `limit` entries due at or before `now`, earliest first.
    pub(crate) fn due(&self, now: SystemTime, limit: usize) -> Vec<DueEntry> {
        self.by_due
            .range(..=(now, u64::MAX))
            .take(limit)
            .filter_map(|(_, key)| {
                let scheduled = self.by_key.get(key)?;
                Some(DueEntry::new(&**key, &*scheduled.topic, scheduled.due))
            })
            .collect()
    }

    /// Takes out `entry` if it is still scheduled for the same time and topic: the
    /// compare-and-set of promotion.
    pub(crate) fn take_unchanged(&mut self, entry: &DueEntry) -> Option<Scheduled> {
        let unchanged = self.by_key.get(entry.key()).is_some_and(|scheduled| {
            scheduled.due == entry.due() && &*scheduled.topic == entry.topic()
        });
        if !unchanged {
            return None;
        }
        let scheduled = self.by_key.remove(entry.key())?;
        self.by_due.remove(&(scheduled.due, scheduled.seq));
        Some(scheduled)
    }

    pub(crate) fn len(&self) -> usize {
        self.by_key.len()
    }
}
