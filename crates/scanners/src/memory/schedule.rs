//! The scheduled messages of one partition of the in-memory store: a sorted set by due
//! time, as a Redis `ZSET` is, whose members are a topic and a message id.

use std::{
    collections::{BTreeMap, HashMap},
    sync::Arc,
    time::SystemTime,
};

use switchyard_core::Message;

use crate::DueEntry;

/// Messages waiting for their due time, by topic and id.
///
/// The topic is part of the key: one message (one id) scheduled for two topics, as a
/// fan-out does, is two scheduled messages, not one replacing the other.
#[derive(Debug, Default)]
pub(crate) struct Schedule {
    /// Topics and ids by due time; the sequence number breaks ties in scheduling order.
    by_due: BTreeMap<(SystemTime, u64), (Arc<str>, Arc<str>)>,
    /// Scheduled messages by topic, then id. A topic without any is removed, so this holds
    /// no more than the scheduled messages.
    by_topic: HashMap<Arc<str>, HashMap<Arc<str>, Scheduled>>,
    len: usize,
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
    pub(crate) fn contains(&self, topic: &str, key: &str) -> bool {
        self.by_topic
            .get(topic)
            .is_some_and(|ids| ids.contains_key(key))
    }

    /// Schedules `message` for `topic` under `key`, replacing what was scheduled for the
    /// same topic under it, as `ZADD` does.
    pub(crate) fn insert(
        &mut self,
        key: Arc<str>,
        topic: Arc<str>,
        message: Message,
        due: SystemTime,
    ) {
        let ids = self.by_topic.entry(topic.clone()).or_default();
        match ids.remove(&key) {
            Some(old) => {
                self.by_due.remove(&(old.due, old.seq));
            }
            None => self.len += 1,
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.by_due.insert((due, seq), (topic.clone(), key.clone()));
        ids.insert(
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
            .filter_map(|(_, (topic, key))| {
                let scheduled = self.by_topic.get(topic)?.get(key)?;
                Some(DueEntry::new(&**key, &**topic, scheduled.due))
            })
            .collect()
    }

    /// Takes out `entry` if it is still scheduled for the same time: the compare-and-set of
    /// promotion.
    pub(crate) fn take_unchanged(&mut self, entry: &DueEntry) -> Option<Scheduled> {
        let ids = self.by_topic.get_mut(entry.topic())?;
        if ids.get(entry.key())?.due != entry.due() {
            return None;
        }
        let scheduled = ids.remove(entry.key())?;
        if ids.is_empty() {
            self.by_topic.remove(entry.topic());
        }
        self.by_due.remove(&(scheduled.due, scheduled.seq));
        self.len -= 1;
        Some(scheduled)
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }
}
