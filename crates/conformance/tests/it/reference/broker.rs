//! The reference broker's state: topics, per-subscription and per-group queues, and the
//! ackers that put nacked messages back. Test code only: its queues are unbounded.

use std::{
    collections::{HashMap, VecDeque},
    sync::{
        Arc, Mutex, MutexGuard, Weak,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
};

use switchyard_core::{AckSink, Acker, Error, Message, NackCause};
use tokio::sync::Notify;

use super::{Faults, Mode};

/// The shared state of one reference instance.
pub(crate) struct Broker {
    pub(crate) mode: Mode,
    pub(crate) faults: Faults,
    topics: Mutex<HashMap<String, Topic>>,
    every_queue: Mutex<Vec<Weak<Queue>>>,
    published: AtomicUsize,
    failing_publishes: AtomicUsize,
}

#[derive(Default)]
struct Topic {
    log: Vec<Message>,
    plain: Vec<Weak<Queue>>,
    groups: HashMap<String, Arc<Queue>>,
}

/// What one subscription (or one group) has to deliver.
pub(crate) struct Queue {
    state: Mutex<QueueState>,
    pub(crate) notify: Notify,
    ordered: bool,
    faults: Faults,
}

#[derive(Default)]
struct QueueState {
    items: VecDeque<Message>,
    in_flight: usize,
    members: usize,
    pending_errors: usize,
    pushed: usize,
}

/// What a stream should yield next.
pub(crate) enum Take {
    Message(Message),
    Error(Error),
    Nothing,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Broker {
    pub(crate) fn new(mode: Mode, faults: Faults) -> Self {
        Self {
            mode,
            faults,
            topics: Mutex::default(),
            every_queue: Mutex::default(),
            published: AtomicUsize::new(0),
            failing_publishes: AtomicUsize::new(0),
        }
    }

    fn keeps_log(&self) -> bool {
        self.mode.persistent || self.mode.replay
    }

    pub(crate) fn publish(&self, topic: &str, message: Message) -> Result<(), Error> {
        if self
            .failing_publishes
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(Error::transient_transport(
                "the reference broker is restarting",
            ));
        }
        let n = self.published.fetch_add(1, Ordering::AcqRel) + 1;
        if self.faults.lose_every.is_some_and(|every| n % every == 0) {
            return Ok(());
        }
        let message = message.detached();
        let mut topics = lock(&self.topics);
        let targets: Vec<String> = if self.faults.leak_topics {
            let mut all: Vec<String> = topics.keys().cloned().collect();
            if !all.iter().any(|t| t == topic) {
                all.push(topic.to_owned());
            }
            all
        } else {
            vec![topic.to_owned()]
        };
        for name in targets {
            let entry = topics.entry(name).or_default();
            if self.keeps_log() {
                entry.log.push(message.clone());
            }
            entry.plain.retain(|queue| queue.strong_count() > 0);
            for queue in entry.plain.iter().filter_map(Weak::upgrade) {
                queue.push(message.clone());
            }
            let persistent = self.mode.persistent;
            entry
                .groups
                .retain(|_, queue| persistent || lock(&queue.state).members > 0);
            for queue in entry.groups.values() {
                queue.push(message.clone());
            }
        }
        Ok(())
    }

    fn new_queue(&self) -> Arc<Queue> {
        let queue = Arc::new(Queue {
            state: Mutex::default(),
            notify: Notify::new(),
            ordered: self.mode.ordered,
            faults: self.faults,
        });
        let mut every = lock(&self.every_queue);
        every.retain(|queue| queue.strong_count() > 0);
        every.push(Arc::downgrade(&queue));
        queue
    }

    /// A queue for one subscription outside any group, holding the log where kept.
    pub(crate) fn plain_queue(&self, topic: &str) -> Arc<Queue> {
        let queue = self.new_queue();
        let mut topics = lock(&self.topics);
        let entry = topics.entry(topic.to_owned()).or_default();
        for message in &entry.log {
            queue.push(message.clone());
        }
        lock(&queue.state).members = 1;
        entry.plain.push(Arc::downgrade(&queue));
        queue
    }

    /// The queue of `group` on `topic`, with one more member when `join`.
    pub(crate) fn group_queue(&self, topic: &str, group: &str, join: bool) -> Arc<Queue> {
        if join && self.faults.groups_broadcast {
            return self.plain_queue(topic);
        }
        let mut topics = lock(&self.topics);
        let entry = topics.entry(topic.to_owned()).or_default();
        let queue = match entry.groups.get(group) {
            Some(queue) => queue.clone(),
            None => {
                let queue = self.new_queue();
                entry.groups.insert(group.to_owned(), queue.clone());
                queue
            }
        };
        if join {
            lock(&queue.state).members += 1;
        }
        queue
    }

    pub(crate) fn prepare_topic(&self, topic: &str) {
        lock(&self.topics).entry(topic.to_owned()).or_default();
    }

    /// A restart: the next three publishes fail, and every stream reports one error.
    pub(crate) fn restart(&self) {
        self.failing_publishes.store(3, Ordering::Release);
        for queue in lock(&self.every_queue).iter().filter_map(Weak::upgrade) {
            lock(&queue.state).pending_errors += 1;
            queue.notify.notify_waiters();
        }
    }

    /// Wakes every stream, so that they see a close.
    pub(crate) fn wake_all(&self) {
        for queue in lock(&self.every_queue).iter().filter_map(Weak::upgrade) {
            queue.notify.notify_waiters();
        }
    }
}

impl Queue {
    fn push(&self, message: Message) {
        let mut state = lock(&self.state);
        state.pushed += 1;
        if self
            .faults
            .reorder_every
            .is_some_and(|every| state.pushed % every == 0)
        {
            state.items.push_front(message);
        } else {
            state.items.push_back(message);
        }
        drop(state);
        self.notify.notify_waiters();
    }

    pub(crate) fn take(self: &Arc<Self>) -> Take {
        let mut state = lock(&self.state);
        if state.pending_errors > 0 {
            state.pending_errors -= 1;
            return Take::Error(Error::transient_transport("the reference broker restarted"));
        }
        if self.ordered && state.in_flight > 0 {
            return Take::Nothing;
        }
        let Some(mut message) = state.items.pop_front() else {
            return Take::Nothing;
        };
        state.in_flight += 1;
        drop(state);
        if self.faults.corrupt_check {
            let _ = message.attributes_mut().insert("confcheck", "corrupted");
        }
        let sink = Settle {
            queue: self.clone(),
            message: message.detached(),
        };
        Take::Message(message.with_acker(Acker::new(sink)))
    }

    /// One member left the group (or the subscription ended).
    pub(crate) fn leave(&self) {
        let mut state = lock(&self.state);
        state.members = state.members.saturating_sub(1);
    }
}

/// Puts a nacked message back at the front of its queue.
struct Settle {
    queue: Arc<Queue>,
    message: Message,
}

impl AckSink for Settle {
    fn ack(&self) {
        let mut state = lock(&self.queue.state);
        state.in_flight -= 1;
        if self.queue.faults.duplicate_after_ack {
            state.items.push_back(self.message.clone());
        }
        drop(state);
        self.queue.notify.notify_waiters();
    }

    fn nack(&self, cause: NackCause) {
        let mut state = lock(&self.queue.state);
        state.in_flight -= 1;
        let lost = self.queue.faults.drop_nacked
            || (self.queue.faults.lose_dropped && cause == NackCause::Dropped);
        if !lost {
            state.items.push_front(self.message.clone());
        }
        drop(state);
        self.queue.notify.notify_waiters();
    }
}

/// Whether a client (or, for a single instance, the instance) is closed.
#[derive(Default)]
pub(crate) struct Closed(AtomicBool);

impl Closed {
    pub(crate) fn set(&self) {
        self.0.store(true, Ordering::Release);
    }

    pub(crate) fn get(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}
