//! The data of one partition of the in-memory store, and every operation on it.

use std::{
    collections::{BTreeMap, VecDeque},
    ops::Bound,
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use switchyard_core::{Error as CoreError, Message, Result};

use crate::{DueEntry, EntryId, InFlight, Trim};

use super::{Lease, MemoryLimits, schedule::Schedule};

/// One partition: its topics' logs and its scheduled messages.
#[derive(Debug, Default)]
pub(crate) struct PartitionState {
    topics: BTreeMap<Arc<str>, TopicLog>,
    schedule: Schedule,
    /// Entries held, logged and scheduled: what the capacity bound counts.
    entries: usize,
}

/// One topic's log, as a Redis stream with one consumer group.
#[derive(Debug, Default)]
struct TopicLog {
    entries: BTreeMap<EntryId, Stored>,
    last_id: EntryId,
    /// The last entry handed out for the first time: the group's last-delivered id.
    cursor: Option<EntryId>,
    /// Deliveries in flight or waiting for redelivery: the pending entries list.
    pending: BTreeMap<EntryId, Pending>,
    /// Reclaimed entries, in the order they are to be delivered again.
    reclaimed: VecDeque<EntryId>,
}

#[derive(Debug)]
struct Stored {
    message: Message,
    appended_at: SystemTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pending {
    deliveries: u32,
    lease_deadline: SystemTime,
    attempt_deadline: Option<SystemTime>,
    /// Reclaimed: waiting in `reclaimed` to be delivered again, so nobody holds it.
    reclaimed: bool,
    /// Nacked: settled by its consumer, so a heartbeat that outlives the nack must not
    /// extend its lease back into flight.
    nacked: bool,
}

/// A delivery taken out of the pending entries list for the dead letter.
pub(crate) struct Removed {
    pub(crate) topic: String,
    pub(crate) entry: EntryId,
    pub(crate) deliveries: u32,
    pub(crate) message: Message,
}

/// `now + duration`, saturating instead of overflowing.
fn deadline(now: SystemTime, duration: Duration) -> SystemTime {
    now.checked_add(duration)
        .unwrap_or(now + switchyard_core::deadline::FAR_FUTURE)
}

fn unix_millis(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |since| {
        u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
    })
}

fn full(what: &str) -> CoreError {
    CoreError::QueueFull {
        queue: format!("memory store {what}"),
    }
}

impl PartitionState {
    /// The log of `topic`, made if it is new and the topic bound allows.
    fn log_mut(&mut self, topic: &str, limits: &MemoryLimits) -> Result<&mut TopicLog> {
        if !self.topics.contains_key(topic) {
            if self.topics.len() >= limits.max_topics {
                return Err(full("topics"));
            }
            self.topics.insert(topic.into(), TopicLog::default());
        }
        Ok(self.topics.get_mut(topic).expect("the topic was just made"))
    }

    fn has_room(&self, limits: &MemoryLimits) -> Result<()> {
        if self.entries >= limits.max_entries {
            Err(full("partition"))
        } else {
            Ok(())
        }
    }

    pub(crate) fn append(
        &mut self,
        topic: &str,
        message: Message,
        now: SystemTime,
        limits: &MemoryLimits,
    ) -> Result<EntryId> {
        self.has_room(limits)?;
        let log = self.log_mut(topic, limits)?;
        let id = log.append(message, now);
        self.entries += 1;
        Ok(id)
    }

    pub(crate) fn schedule(
        &mut self,
        topic: &str,
        message: Message,
        due: SystemTime,
        limits: &MemoryLimits,
    ) -> Result<()> {
        let key: Arc<str> = message
            .attributes()
            .id()
            .ok_or(CoreError::MissingAttribute { name: "id" })?
            .into();
        let replaces = self.schedule.contains(topic, &key);
        if !replaces {
            self.has_room(limits)?;
        }
        // Make the topic now, so that promotion can never fail on the topic bound.
        let topic: Arc<str> = match self.topics.get_key_value(topic) {
            Some((name, _)) => name.clone(),
            None => {
                self.log_mut(topic, limits)?;
                topic.into()
            }
        };
        if !replaces {
            self.entries += 1;
        }
        self.schedule.insert(key, topic, message, due);
        Ok(())
    }

    pub(crate) fn deliver(
        &mut self,
        topic: &str,
        now: SystemTime,
        lease: Lease,
    ) -> Option<(EntryId, u32, Message)> {
        let log = self.topics.get_mut(topic)?;
        let lease_deadline = deadline(now, lease.duration());
        let attempt_deadline = lease
            .attempt_timeout()
            .map(|timeout| deadline(now, timeout));
        // Redeliveries first, skipping those acked or trimmed since they were reclaimed.
        while let Some(id) = log.reclaimed.pop_front() {
            let Some(pending) = log.pending.get_mut(&id).filter(|pending| pending.reclaimed) else {
                continue;
            };
            let Some(stored) = log.entries.get(&id) else {
                log.pending.remove(&id);
                continue;
            };
            pending.reclaimed = false;
            pending.nacked = false;
            pending.deliveries = pending.deliveries.saturating_add(1);
            pending.lease_deadline = lease_deadline;
            pending.attempt_deadline = attempt_deadline;
            return Some((id, pending.deliveries, stored.message.clone()));
        }
        let after = log.cursor.map_or(Bound::Unbounded, Bound::Excluded);
        let (&id, stored) = log.entries.range((after, Bound::Unbounded)).next()?;
        log.cursor = Some(id);
        let pending = Pending {
            deliveries: 1,
            lease_deadline,
            attempt_deadline,
            reclaimed: false,
            nacked: false,
        };
        log.pending.insert(id, pending);
        Some((id, 1, stored.message.clone()))
    }

    pub(crate) fn extend(
        &mut self,
        topic: &str,
        entry: EntryId,
        deliveries: u32,
        now: SystemTime,
        lease: Duration,
    ) -> bool {
        let Some(pending) = self.pending_mut(topic, entry) else {
            return false;
        };
        if pending.reclaimed || pending.nacked || pending.deliveries != deliveries {
            return false;
        }
        pending.lease_deadline = deadline(now, lease);
        true
    }

    /// An ack: the entry was processed, whichever delivery of it says so.
    pub(crate) fn ack(&mut self, topic: &str, entry: EntryId) {
        if let Some(log) = self.topics.get_mut(topic) {
            log.pending.remove(&entry);
        }
    }

    /// A nack of delivery `deliveries`: its lease expires at once. A nack of an older
    /// delivery changes nothing.
    pub(crate) fn nack(&mut self, topic: &str, entry: EntryId, deliveries: u32) {
        if let Some(pending) = self.pending_mut(topic, entry)
            && !pending.reclaimed
            && pending.deliveries == deliveries
        {
            pending.lease_deadline = UNIX_EPOCH;
            pending.nacked = true;
        }
    }

    fn pending_mut(&mut self, topic: &str, entry: EntryId) -> Option<&mut Pending> {
        self.topics.get_mut(topic)?.pending.get_mut(&entry)
    }

    /// Up to `limit` deliveries in flight that match `overdue`, in topic then entry order.
    fn in_flight(&self, limit: usize, overdue: impl Fn(&Pending) -> bool) -> Vec<InFlight> {
        self.topics
            .iter()
            .flat_map(|(topic, log)| {
                log.pending
                    .iter()
                    .map(move |(entry, pending)| (topic, *entry, pending))
            })
            .filter(|(_, _, pending)| !pending.reclaimed && overdue(pending))
            .take(limit)
            .map(|(topic, entry, pending)| {
                let in_flight =
                    InFlight::new(&**topic, entry, pending.deliveries, pending.lease_deadline);
                match pending.attempt_deadline {
                    Some(at) => in_flight.with_attempt_deadline(at),
                    None => in_flight,
                }
            })
            .collect()
    }

    pub(crate) fn expired_leases(&self, now: SystemTime, limit: usize) -> Vec<InFlight> {
        self.in_flight(limit, |pending| pending.lease_deadline <= now)
    }

    pub(crate) fn overdue_attempts(&self, now: SystemTime, limit: usize) -> Vec<InFlight> {
        let mut overdue = self.in_flight(usize::MAX, |pending| {
            pending.attempt_deadline.is_some_and(|at| at <= now)
        });
        overdue.sort_by_key(|in_flight| (in_flight.attempt_deadline(), in_flight.entry()));
        overdue.truncate(limit);
        overdue
    }

    /// Whether `in_flight` is still the same delivery: same count and lease, not reclaimed.
    fn unchanged(&self, in_flight: &InFlight) -> bool {
        self.topics
            .get(in_flight.topic())
            .and_then(|log| log.pending.get(&in_flight.entry()))
            .is_some_and(|pending| {
                !pending.reclaimed
                    && pending.deliveries == in_flight.deliveries()
                    && pending.lease_deadline == in_flight.lease_deadline()
            })
    }

    pub(crate) fn redeliver(&mut self, deliveries: &[InFlight]) -> u64 {
        let mut moved = 0;
        for in_flight in deliveries {
            if !self.unchanged(in_flight) {
                continue;
            }
            let log = self
                .topics
                .get_mut(in_flight.topic())
                .expect("an unchanged delivery has a log");
            if !log.entries.contains_key(&in_flight.entry()) {
                // Trimmed while in flight: there is nothing left to deliver.
                log.pending.remove(&in_flight.entry());
                continue;
            }
            let pending = log
                .pending
                .get_mut(&in_flight.entry())
                .expect("an unchanged delivery is pending");
            pending.reclaimed = true;
            log.reclaimed.push_back(in_flight.entry());
            moved += 1;
        }
        moved
    }

    /// How many of `deliveries` are unchanged and would be dead-lettered.
    pub(crate) fn count_unchanged(&self, deliveries: &[InFlight]) -> usize {
        deliveries
            .iter()
            .filter(|in_flight| self.unchanged(in_flight))
            .count()
    }

    /// Takes the unchanged deliveries out of the pending entries list. The entries stay in
    /// the log, as an `XACK` leaves them in the stream.
    pub(crate) fn remove_unchanged(&mut self, deliveries: &[InFlight]) -> Vec<Removed> {
        let mut removed = Vec::new();
        for in_flight in deliveries {
            if !self.unchanged(in_flight) {
                continue;
            }
            let log = self
                .topics
                .get_mut(in_flight.topic())
                .expect("an unchanged delivery has a log");
            log.pending.remove(&in_flight.entry());
            let Some(stored) = log.entries.get(&in_flight.entry()) else {
                continue;
            };
            removed.push(Removed {
                topic: in_flight.topic().to_owned(),
                entry: in_flight.entry(),
                deliveries: in_flight.deliveries(),
                message: stored.message.clone(),
            });
        }
        removed
    }

    pub(crate) fn due(&self, now: SystemTime, limit: usize) -> Vec<DueEntry> {
        self.schedule.due(now, limit)
    }

    pub(crate) fn promote(&mut self, entries: &[DueEntry], now: SystemTime) -> u64 {
        let mut promoted = 0;
        for entry in entries {
            let Some(scheduled) = self.schedule.take_unchanged(entry) else {
                continue;
            };
            // The topic was made on schedule and topics are never removed, and the entry
            // moves from the schedule to the log: no bound can fail here.
            self.topics
                .entry(scheduled.topic)
                .or_default()
                .append(scheduled.message, now);
            promoted += 1;
        }
        promoted
    }

    pub(crate) fn topic_names(&self) -> Vec<String> {
        self.topics.keys().map(|topic| topic.to_string()).collect()
    }

    pub(crate) fn trim(&mut self, topic: &str, trim: Trim) -> u64 {
        let Some(log) = self.topics.get_mut(topic) else {
            return 0;
        };
        let mut dropped = 0u64;
        loop {
            let len = u64::try_from(log.entries.len()).unwrap_or(u64::MAX);
            let Some(entry) = log.entries.first_entry() else {
                break;
            };
            let drop_it = match trim {
                Trim::MaxLen(keep) => len > keep,
                Trim::MinTime(cutoff) => entry.get().appended_at < cutoff,
            };
            if !drop_it {
                break;
            }
            let id = *entry.key();
            entry.remove();
            log.pending.remove(&id);
            dropped += 1;
        }
        self.entries -= usize::try_from(dropped).expect("no more were dropped than were held");
        dropped
    }

    pub(crate) fn log_len(&self, topic: &str) -> usize {
        self.topics.get(topic).map_or(0, |log| log.entries.len())
    }

    pub(crate) fn entry_ids(&self, topic: &str) -> Vec<EntryId> {
        self.topics
            .get(topic)
            .map_or_else(Vec::new, |log| log.entries.keys().copied().collect())
    }

    pub(crate) fn pending_len(&self, topic: &str) -> usize {
        self.topics.get(topic).map_or(0, |log| log.pending.len())
    }

    pub(crate) fn scheduled_len(&self) -> usize {
        self.schedule.len()
    }
}

impl TopicLog {
    fn append(&mut self, message: Message, now: SystemTime) -> EntryId {
        let id = self.last_id.successor_at(unix_millis(now));
        self.last_id = id;
        self.entries.insert(
            id,
            Stored {
                message,
                appended_at: now,
            },
        );
        id
    }
}
