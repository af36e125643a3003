//! [`ReplayStore`]: the last N messages of each topic, for late subscribers that ask to
//! replay them, in a bounded number of bounded rings.

use std::collections::{HashMap, VecDeque};

use bytes::Bytes;
use switchyard_core::Attributes;
use switchyard_routing::pattern::{Pattern, PatternKind};

use super::entry::Entry;

type Hasher = foldhash::fast::RandomState;

/// A message kept for replay: its publish sequence number, payload and attributes.
type Kept = (u64, Bytes, Attributes);

/// A topic's most recent messages, oldest first.
#[derive(Debug, Default)]
struct Ring {
    entries: VecDeque<Kept>,
    /// The sequence number of the ring's last publish, to find the least recent ring.
    last: u64,
}

/// What a new subscription replays.
#[derive(Debug, Default)]
pub(super) struct Snapshot {
    /// The messages, oldest first.
    pub(super) entries: VecDeque<Entry>,
    /// Their sequence numbers, ascending.
    pub(super) sequences: Box<[u64]>,
}

/// Replay rings, one per topic published on, at most `max_topics` of them and at most
/// `capacity` messages each. Memory is bounded by `max_topics × capacity` messages (each
/// within the bus's size limits), whatever topics publishers use.
#[derive(Debug)]
pub(super) struct ReplayStore {
    capacity: usize,
    max_topics: usize,
    rings: HashMap<Box<str>, Ring, Hasher>,
    sequence: u64,
}

impl ReplayStore {
    pub(super) fn new(capacity: usize, max_topics: usize) -> Self {
        Self {
            capacity,
            max_topics,
            rings: HashMap::default(),
            sequence: 0,
        }
    }

    /// Records a message published on `topic`, dropping the ring's oldest if it is full.
    /// A topic without a ring gets one; if there are `max_topics` rings already, the ring
    /// of the topic published least recently is dropped for it. Returns the message's
    /// sequence number, never 0.
    pub(super) fn record(&mut self, topic: &str, payload: &Bytes, attributes: &Attributes) -> u64 {
        self.sequence += 1;
        let sequence = self.sequence;
        if !self.rings.contains_key(topic) {
            if self.rings.len() >= self.max_topics {
                self.evict_least_recent();
            }
            self.rings.insert(topic.into(), Ring::default());
        }
        if let Some(ring) = self.rings.get_mut(topic) {
            if ring.entries.len() >= self.capacity {
                ring.entries.pop_front();
            }
            ring.entries
                .push_back((sequence, payload.clone(), attributes.clone()));
            ring.last = sequence;
        }
        sequence
    }

    /// O(topics), but only when a new topic arrives at a full store.
    fn evict_least_recent(&mut self) {
        let least = self
            .rings
            .iter()
            .min_by_key(|(_, ring)| ring.last)
            .map(|(topic, _)| topic.clone());
        if let Some(topic) = least {
            self.rings.remove(&topic);
        }
    }

    /// The last `count` messages on topics that `pattern` matches, oldest first, as new
    /// deliveries.
    pub(super) fn snapshot(&self, pattern: &Pattern, count: usize) -> Snapshot {
        if count == 0 {
            return Snapshot::default();
        }
        let found: Vec<&Kept> = if pattern.kind() == PatternKind::Exact {
            self.rings
                .get(pattern.as_str())
                .map(|ring| ring.entries.iter().collect())
                .unwrap_or_default()
        } else {
            let mut found: Vec<_> = self
                .rings
                .iter()
                .filter(|(topic, _)| pattern.matches(topic))
                .flat_map(|(_, ring)| ring.entries.iter())
                .collect();
            found.sort_unstable_by_key(|(sequence, ..)| *sequence);
            found
        };
        let skip = found.len().saturating_sub(count);
        let found = &found[skip..];
        Snapshot {
            entries: found
                .iter()
                .map(|(_, payload, attributes)| {
                    Entry::single(payload.clone(), attributes.clone(), 0)
                })
                .collect(),
            sequences: found.iter().map(|(sequence, ..)| *sequence).collect(),
        }
    }

    /// The number of topics with a ring.
    #[cfg(test)]
    pub(super) fn topics(&self) -> usize {
        self.rings.len()
    }
}

#[cfg(test)]
mod tests;
