//! The intake task: takes messages from the internal loop first and from the subscribers'
//! [`FanIn`] second, picks their router, and hands them to one of its workers.

use std::{
    hash::{DefaultHasher, Hash, Hasher},
    panic::AssertUnwindSafe,
    sync::Arc,
};

use futures::{FutureExt, StreamExt};
use switchyard_core::{Error, Message, Result};
use switchyard_routing::fan::{FanIn, Tagged};
use tokio::sync::mpsc::{
    self,
    error::{TryRecvError, TrySendError},
};

use super::{Job, Pipeline, Signals, matcher::Matcher};
use crate::{
    KeyOrdering,
    ack::RootSink,
    reason::{HOPS_ATTRIBUTE, NO_ROUTER},
    stats::ComponentStats,
};

/// The workers of one router, as the intake sees them.
pub(crate) struct Slot {
    pub(crate) workers: Vec<mpsc::Sender<Job>>,
    pub(crate) ordering: KeyOrdering,
    pub(crate) stats: Arc<ComponentStats>,
    /// The worker that took the last message without a key.
    pub(crate) next: usize,
}

/// What the intake does next.
enum Next {
    Loop(Message),
    LoopClosed,
    Input(Tagged<Result<Message>>),
    InputEnded,
    StopInput,
    Shutdown,
}

/// The one task that feeds the workers.
pub(crate) struct Intake {
    pub(crate) fan_in: FanIn<Result<Message>>,
    pub(crate) loop_queue: mpsc::Receiver<Message>,
    /// Each router's source and workers. A short list scanned in order: an engine has a
    /// handful of routers, and comparing a few short strings beats hashing one.
    pub(crate) routes: Vec<(Box<str>, Slot)>,
    pub(crate) matcher: Matcher,
    pub(crate) pipeline: Arc<Pipeline>,
    pub(crate) subscribers: Vec<Arc<ComponentStats>>,
    pub(crate) signals: Arc<Signals>,
}

impl Intake {
    /// [`run`](Self::run), with a panic that ends it logged, counted and recorded for
    /// health: one in a subscriber's stream (the intake polls the streams itself), which
    /// leaves the engine without input until it is stopped, so health reports the engine
    /// [degraded](crate::Health::degraded); a `stop` then finds the input stopped at once.
    /// An intake that ends because the engine shuts down is the normal end, and records
    /// nothing.
    pub(crate) async fn run_guarded(self) {
        let pipeline = self.pipeline.clone();
        // Pinned here, so that the intake, and with it the subscribers' streams, is dropped
        // only after the failure is recorded: whoever sees the streams dropped sees the
        // engine degraded too.
        let mut run = std::pin::pin!(AssertUnwindSafe(self.run()).catch_unwind());
        if let Err(panic) = run.as_mut().await {
            let panic = switchyard_core::panic_text(panic.as_ref());
            pipeline.degraded.set(&format!(
                "the intake ended with a panic ({panic}), in a subscriber's stream or past it; \
                 the engine takes no more input until it is stopped"
            ));
            metrics::counter!("switchyard_engine_panics_total", "component" => "intake")
                .increment(1);
            tracing::error!(
                %panic,
                "the engine's intake ended with a panic, in a subscriber's stream or past it; \
                 the engine takes no more input"
            );
        }
    }

    /// Runs until shutdown.
    ///
    /// The loop queue is always served before the subscribers, so that loop traffic drains
    /// first and new input waits. After `stop_input` nothing more is taken from the
    /// subscribers, which the intake confirms through `input_stopped`, but the loop is
    /// still drained until shutdown. At shutdown, whatever is still in the loop queue is
    /// nacked.
    pub(crate) async fn run(mut self) {
        // However the intake ends (a panic while polling a subscriber's stream included),
        // it takes no more input: a `stop` waiting for that confirmation must not wait for
        // its whole timeout.
        let _confirm_stop = self.signals.input_stopped.clone().drop_guard();
        let mut input_open = true;
        // The loop closes only once the fan-out is gone, which the intake itself prevents.
        let mut loop_open = true;
        loop {
            if self.signals.shutdown.is_fired() {
                break;
            }
            if input_open && self.signals.stop_input.is_fired() {
                input_open = false;
                self.signals.input_stopped.cancel();
            }
            let ready = self.ready(loop_open, input_open);
            let next = if let Some(next) = ready {
                // Taking what is ready spends none of tokio's task budget, unlike the
                // `select!` in `wait`: spend it here, so that an intake whose input never
                // runs dry still yields its thread to the runtime every so often.
                tokio::task::coop::consume_budget().await;
                next
            } else {
                self.wait(loop_open, input_open).await
            };
            match next {
                Next::Loop(message) => {
                    let hops = message
                        .attributes()
                        .get(HOPS_ATTRIBUTE)
                        .and_then(|hops| hops.parse().ok())
                        .unwrap_or(0);
                    self.dispatch(message, hops).await;
                }
                Next::Input(Tagged {
                    item: Ok(message), ..
                }) => {
                    self.pipeline.counters.received();
                    let upstream = message.acker().clone();
                    let root = RootSink::acker(upstream, self.pipeline.counters.clone());
                    self.dispatch(message.with_acker(root), 0).await;
                }
                Next::Input(Tagged {
                    input,
                    item: Err(error),
                }) => {
                    // An observer hook's panic ends this report alone, not the intake.
                    let reported = std::panic::catch_unwind(AssertUnwindSafe(|| {
                        self.subscriber_error(&input, &error);
                    }));
                    if let Err(panic) = reported {
                        super::contained_panic("intake", None, panic.as_ref());
                    }
                }
                Next::LoopClosed => loop_open = false,
                Next::InputEnded | Next::StopInput => {
                    input_open = false;
                    self.signals.input_stopped.cancel();
                }
                Next::Shutdown => break,
            }
        }
        self.signals.input_stopped.cancel();
        self.loop_queue.close();
        while let Ok(message) = self.loop_queue.try_recv() {
            message.nack();
        }
    }

    /// The next thing to do, if it is there already: a loop message, or an input that the
    /// subscribers have ready. Taken without building the waits of the full `select!`, so
    /// that a busy intake registers no waker and takes no lock per message.
    fn ready(&mut self, loop_open: bool, input_open: bool) -> Option<Next> {
        if loop_open {
            match self.loop_queue.try_recv() {
                Ok(message) => return Some(Next::Loop(message)),
                Err(TryRecvError::Disconnected) => return Some(Next::LoopClosed),
                Err(TryRecvError::Empty) => {}
            }
        }
        if input_open {
            // Polled with a no-op waker: when nothing is ready, `wait` polls again with the
            // real one, so nothing published in between is missed.
            let tagged = self.fan_in.next().now_or_never()?;
            return Some(match tagged {
                Some(tagged) => Next::Input(tagged),
                None => Next::InputEnded,
            });
        }
        None
    }

    /// Waits for the next thing to do; the loop first.
    async fn wait(&mut self, loop_open: bool, input_open: bool) -> Next {
        tokio::select! {
            biased;
            message = self.loop_queue.recv(), if loop_open => match message {
                Some(message) => Next::Loop(message),
                None => Next::LoopClosed,
            },
            tagged = self.fan_in.next(), if input_open => match tagged {
                Some(tagged) => Next::Input(tagged),
                None => Next::InputEnded,
            },
            () = self.signals.stop_input.fired(), if input_open => Next::StopInput,
            () = self.signals.shutdown.fired() => Next::Shutdown,
        }
    }

    /// Hands `message` to a worker of its router, or dead-letters it when no router takes
    /// it. Waits for room in the worker's queue, unless the engine shuts down, in which
    /// case the message is dropped, which nacks it.
    /// [`route`](Self::route), with a panic (a custom source matcher's, an observer hook's,
    /// a dead-letter publisher's) contained: the message is dropped while unwinding, which
    /// nacks it for redelivery, and the intake goes on instead of ending with the engine's
    /// input.
    async fn dispatch(&mut self, message: Message, hops: u32) {
        let routed = AssertUnwindSafe(self.route(message, hops)).catch_unwind();
        if let Err(panic) = routed.await {
            super::contained_panic("intake", None, panic.as_ref());
        }
    }

    async fn route(&mut self, message: Message, hops: u32) {
        let slot = self
            .matcher
            .source(&message)
            .and_then(|source| {
                self.routes
                    .iter_mut()
                    .find(|(registered, _)| **registered == *source)
            })
            .map(|(_, slot)| slot);
        let Some(slot) = slot else {
            // Returns at once if the engine shuts down, nacking the message.
            self.pipeline.dead_letter(message, NO_ROUTER).await;
            return;
        };
        let Some((job, index)) = slot.offer(Job { message, hops }) else {
            return;
        };
        let sent = self
            .signals
            .shutdown
            .unless_fired(slot.workers[index].send(job))
            .await;
        if let Some(Err(err)) = sent {
            slot.closed(err.0);
        }
    }

    fn subscriber_error(&self, input: &str, error: &Error) {
        let stats = self.subscribers.iter().find(|s| &**s.name() == input);
        if let Some(stats) = stats {
            stats.record(error);
            metrics::counter!("switchyard_engine_subscriber_errors_total", "subscriber" => stats.label().to_string())
                .increment(1);
            // Logged at most once a second per subscriber, with how many were left out.
            if let Some(suppressed) = stats.warning() {
                tracing::warn!(
                    subscriber = %stats.label(),
                    error = %error.report(),
                    suppressed,
                    "subscriber error"
                );
            }
        }
        self.pipeline.observer.on_subscriber_error(input, error);
    }
}

impl Slot {
    /// Tries to place `job` without waiting. Returns it with the worker to wait on when
    /// that worker (or, without a key, every worker) is full; `None` once it is placed or
    /// settled.
    fn offer(&mut self, job: Job) -> Option<(Job, usize)> {
        let workers = self.workers.len();
        let key = match self.ordering {
            // With one worker every key is that worker's: no need to read it.
            // An empty key names no partition: it is spread like a message without one.
            KeyOrdering::PerPartitionKey if workers > 1 => job
                .message
                .attributes()
                .partition_key()
                .filter(|key| !key.is_empty()),
            _ => None,
        };
        let (first, tries) = match key {
            // Same key, same worker: that worker's queue keeps their order.
            Some(key) => (partition(key, workers), 1),
            None => {
                self.next = self.least_loaded();
                (self.next, workers)
            }
        };
        let mut job = job;
        for offset in 0..tries {
            let index = (first + offset) % workers;
            match self.workers[index].try_send(job) {
                Ok(()) => return None,
                Err(TrySendError::Full(back)) => job = back,
                Err(TrySendError::Closed(back)) => {
                    self.closed(back);
                    return None;
                }
            }
        }
        Some((job, first))
    }

    /// The worker that took the last message, unless another one's queue is shorter by
    /// more than [`STICKY`] messages: then the one with the shortest queue.
    ///
    /// A message without a key thus waits behind at most a couple of others while a worker
    /// is idle, so one slow message does not hold up the rest; and while the handlers keep
    /// up, the same worker takes every message, which spares waking the others (on a
    /// runtime with few threads, waking an idle task costs more than handling a message).
    fn least_loaded(&self) -> usize {
        let workers = self.workers.len();
        let current = self.next;
        let current_room = self.workers[current].capacity();
        let (mut best, mut best_room) = (current, current_room);
        for offset in 1..workers {
            let index = (current + offset) % workers;
            let room = self.workers[index].capacity();
            if room > best_room {
                (best, best_room) = (index, room);
            }
        }
        if best_room > current_room + STICKY {
            best
        } else {
            current
        }
    }

    /// The worker's queue is closed: it ended, which happens only at shutdown (a panic in
    /// or past the handler ends the message, not the worker). The message is nacked for
    /// redelivery.
    fn closed(&self, job: Job) {
        let error = Error::Closed {
            component: "router worker",
        };
        self.stats.record(&error);
        tracing::error!("a router worker is gone; nacking its message");
        job.message.nack();
    }
}

/// How many more messages the last worker used may have queued than the least loaded one
/// before a message without a key goes elsewhere.
const STICKY: usize = 1;

/// The worker for a partition key, out of `workers`: stable for the life of the process.
pub(crate) fn partition(key: &str, workers: usize) -> usize {
    let mut hasher = DefaultHasher::new();
    key.hash(&mut hasher);
    // The remainder is below `workers`, a `usize`, so the cast back cannot truncate.
    (hasher.finish() % workers.max(1) as u64) as usize
}

#[cfg(test)]
mod tests;
