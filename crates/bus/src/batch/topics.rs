//! The driver's bookkeeping of batches per topic: which batch of each topic is open, which
//! are sealed and waiting, which is being sent, and when each open batch is due.
//!
//! It is plain data with no task and no clock of its own, so that it can be tested, and
//! checked against a model, without a runtime.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap, VecDeque, hash_map::Entry},
    time::Duration,
};

use switchyard_core::Message;
use tokio::time::Instant;

/// Why a batch stopped taking messages; the label of the flush counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SealReason {
    /// It reached `max_batch_size`.
    Size,
    /// Its oldest message waited `max_latency`.
    Latency,
    /// `flush()` was called.
    Flush,
    /// `close()` was called.
    Close,
}

impl SealReason {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            SealReason::Size => "size",
            SealReason::Latency => "latency",
            SealReason::Flush => "flush",
            SealReason::Close => "close",
        }
    }
}

/// A batch handed out to be sent.
#[derive(Debug)]
pub(super) struct Dispatch {
    pub(super) topic: String,
    pub(super) seq: u64,
    pub(super) messages: Vec<Message>,
}

/// Messages of one topic, gathered with the replies of their callers.
#[derive(Debug)]
struct Batch<R> {
    seq: u64,
    messages: Vec<Message>,
    replies: Vec<R>,
}

#[derive(Debug)]
struct InFlight<R> {
    seq: u64,
    replies: Vec<R>,
}

/// One topic's batches. It exists only while it holds at least one message, so the map of
/// topics is bounded by the number of pending messages, which `max_pending` bounds.
#[derive(Debug)]
struct TopicQueue<R> {
    open: Option<Batch<R>>,
    sealed: VecDeque<Batch<R>>,
    in_flight: Option<InFlight<R>>,
}

impl<R> TopicQueue<R> {
    fn is_empty(&self) -> bool {
        self.open.is_none() && self.sealed.is_empty() && self.in_flight.is_none()
    }
}

/// Every pending batch, by topic. `R` is what answers a caller (a oneshot sender in the
/// driver, a plain number in tests).
///
/// Invariants:
/// - a topic is in `ready` exactly when it has a sealed batch and none in flight, so at
///   most one batch per topic is ever in flight and a topic's batches are sent in order;
/// - `deadlines` holds exactly the open batches. Since every batch gets the same
///   `max_latency` and sequence numbers grow with acceptance time, deadline order is
///   sequence order, and the first entry is the next one due;
/// - `outstanding` holds the sequence number of every batch not yet answered.
#[derive(Debug)]
pub(super) struct Topics<R> {
    max_batch_size: usize,
    max_latency: Duration,
    queues: HashMap<String, TopicQueue<R>>,
    deadlines: BTreeMap<u64, (Instant, String)>,
    outstanding: BTreeSet<u64>,
    ready: VecDeque<String>,
    next_seq: u64,
    pending: usize,
}

impl<R> Topics<R> {
    pub(super) fn new(max_batch_size: usize, max_latency: Duration) -> Self {
        Self {
            max_batch_size,
            max_latency,
            queues: HashMap::new(),
            deadlines: BTreeMap::new(),
            outstanding: BTreeSet::new(),
            ready: VecDeque::new(),
            next_seq: 0,
            pending: 0,
        }
    }

    /// Adds a message accepted at `accepted_at` to its topic's open batch, opening one if
    /// needed. Returns whether that filled the batch and sealed it.
    pub(super) fn push(
        &mut self,
        topic: String,
        message: Message,
        reply: R,
        accepted_at: Instant,
    ) -> bool {
        let Self {
            max_batch_size,
            max_latency,
            queues,
            deadlines,
            outstanding,
            ready,
            next_seq,
            pending,
        } = self;
        // The topic's name is cloned only when a batch opens: once per batch, not per
        // message.
        let (queue, mut opening) = match queues.entry(topic) {
            Entry::Occupied(entry) => {
                let name = entry.get().open.is_none().then(|| entry.key().clone());
                (entry.into_mut(), name)
            }
            Entry::Vacant(entry) => {
                let name = entry.key().clone();
                let queue = entry.insert(TopicQueue {
                    open: None,
                    sealed: VecDeque::new(),
                    in_flight: None,
                });
                (queue, Some(name))
            }
        };
        let batch = queue.open.get_or_insert_with(|| {
            let seq = *next_seq;
            *next_seq += 1;
            let name = opening.take().unwrap_or_default();
            deadlines.insert(seq, (accepted_at + *max_latency, name));
            outstanding.insert(seq);
            Batch {
                seq,
                messages: Vec::new(),
                replies: Vec::new(),
            }
        });
        batch.messages.push(message);
        batch.replies.push(reply);
        *pending += 1;
        if batch.messages.len() < *max_batch_size {
            return false;
        }
        // Every open batch has a deadline entry, which also holds the name to queue it by.
        if let Some((_, name)) = deadlines.remove(&batch.seq)
            && let Some(batch) = queue.open.take()
        {
            seal(queue, batch, name, ready);
        }
        true
    }

    /// Seals every open batch whose oldest message has waited `max_latency` at `now`.
    /// Returns how many were sealed.
    pub(super) fn seal_due(&mut self, now: Instant) -> usize {
        let mut sealed = 0;
        while let Some(entry) = self.deadlines.first_entry() {
            if entry.get().0 > now {
                break;
            }
            let (seq, (_, name)) = entry.remove_entry();
            self.seal_open(seq, name);
            sealed += 1;
        }
        sealed
    }

    /// Seals every open batch, oldest first. Returns how many were sealed.
    pub(super) fn seal_all(&mut self) -> usize {
        let open = std::mem::take(&mut self.deadlines);
        let sealed = open.len();
        for (seq, (_, name)) in open {
            self.seal_open(seq, name);
        }
        sealed
    }

    fn seal_open(&mut self, seq: u64, name: String) {
        if let Some(queue) = self.queues.get_mut(&name)
            && let Some(batch) = queue.open.take_if(|batch| batch.seq == seq)
        {
            seal(queue, batch, name, &mut self.ready);
        }
    }

    /// When the next open batch is due, if any is open.
    pub(super) fn next_deadline(&self) -> Option<Instant> {
        self.deadlines.first_key_value().map(|(_, (at, _))| *at)
    }

    /// Hands out the next sealed batch of a topic that has none in flight, and marks it in
    /// flight.
    pub(super) fn pop_ready(&mut self) -> Option<Dispatch> {
        while let Some(topic) = self.ready.pop_front() {
            let Some(queue) = self.queues.get_mut(&topic) else {
                continue;
            };
            let Some(batch) = queue.sealed.pop_front() else {
                continue;
            };
            queue.in_flight = Some(InFlight {
                seq: batch.seq,
                replies: batch.replies,
            });
            return Some(Dispatch {
                topic,
                seq: batch.seq,
                messages: batch.messages,
            });
        }
        None
    }

    /// Marks the in-flight batch `seq` of `topic` as answered and returns the replies of its
    /// callers, in the order the messages were accepted. The topic's next sealed batch, if
    /// any, becomes ready.
    pub(super) fn complete(&mut self, topic: String, seq: u64) -> Vec<R> {
        let Some(queue) = self.queues.get_mut(&topic) else {
            return Vec::new();
        };
        let Some(in_flight) = queue.in_flight.take_if(|batch| batch.seq == seq) else {
            return Vec::new();
        };
        self.outstanding.remove(&seq);
        self.pending -= in_flight.replies.len();
        if queue.is_empty() {
            self.queues.remove(&topic);
        } else if !queue.sealed.is_empty() {
            self.ready.push_back(topic);
        }
        in_flight.replies
    }

    /// Removes every batch, open, sealed or in flight, and returns the replies of all their
    /// callers.
    pub(super) fn drain_replies(&mut self) -> Vec<R> {
        let mut replies = Vec::with_capacity(self.pending);
        for (_, queue) in self.queues.drain() {
            if let Some(in_flight) = queue.in_flight {
                replies.extend(in_flight.replies);
            }
            for batch in queue.sealed {
                replies.extend(batch.replies);
            }
            if let Some(batch) = queue.open {
                replies.extend(batch.replies);
            }
        }
        self.deadlines.clear();
        self.outstanding.clear();
        self.ready.clear();
        self.pending = 0;
        replies
    }

    /// The sequence number that the next batch to open will get.
    pub(super) fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// The lowest sequence number not yet answered: every batch below it has been
    /// answered. [`next_seq`](Self::next_seq) when nothing is pending.
    pub(super) fn watermark(&self) -> u64 {
        self.outstanding.first().copied().unwrap_or(self.next_seq)
    }

    /// Messages accepted and not yet answered.
    #[cfg(test)]
    pub(super) fn pending(&self) -> usize {
        self.pending
    }

    /// Whether no batch is open, sealed or in flight.
    pub(super) fn is_empty(&self) -> bool {
        self.queues.is_empty()
    }
}

/// Moves a batch that stopped taking messages behind its topic's earlier sealed batches,
/// and makes the topic ready when nothing of it is in flight or waiting.
fn seal<R>(queue: &mut TopicQueue<R>, batch: Batch<R>, name: String, ready: &mut VecDeque<String>) {
    if queue.in_flight.is_none() && queue.sealed.is_empty() {
        ready.push_back(name);
    }
    queue.sealed.push_back(batch);
}

#[cfg(test)]
mod tests;
