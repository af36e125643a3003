//! One bounded output of a [`FanOut`](super::FanOut): its configuration ([`Output`]), and
//! the queue that applies its slow-consumer policy and counts what happened.

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use switchyard_core::Message;
use tokio::sync::mpsc::{
    self,
    error::{SendTimeoutError, TrySendError},
};

use super::{FanOutError, FanOutObserver, OutputKind, OutputStats, SlowConsumerPolicy};

/// The configuration of one output: its name, the size of its buffer, and its
/// [`SlowConsumerPolicy`]. Register it with
/// [`FanOutBuilder::output`](super::FanOutBuilder::output) (a route, under a destination
/// prefix), [`loop_output`](super::FanOutBuilder::loop_output) or
/// [`dead_letter`](super::FanOutBuilder::dead_letter).
///
/// The name identifies the output's receiver in
/// [`FanOutReceivers`](super::FanOutReceivers), its counters in
/// [`FanOutStats`](super::FanOutStats) and its metric label: keep it a short fixed word.
///
/// ```
/// use switchyard_routing::fan::{Output, SlowConsumerPolicy};
///
/// let loop_output = Output::new("loop", 1024).policy(SlowConsumerPolicy::DeadLetter);
/// assert_eq!(loop_output.name(), "loop");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "an output does nothing until it is registered with a FanOutBuilder"]
pub struct Output {
    name: String,
    buffer: usize,
    policy: SlowConsumerPolicy,
}

impl Output {
    /// The largest buffer an output may have. A buffer is a bound on memory: one much
    /// larger than this is a configuration mistake, not a queue.
    pub const MAX_BUFFER: usize = 1 << 20;

    /// An output called `name` that buffers up to `buffer` messages (from 1 to
    /// [`MAX_BUFFER`](Self::MAX_BUFFER), checked by `build`), with the default policy
    /// [`SlowConsumerPolicy::Block`].
    pub fn new(name: impl Into<String>, buffer: usize) -> Self {
        Self {
            name: name.into(),
            buffer,
            policy: SlowConsumerPolicy::default(),
        }
    }

    /// Sets what happens when the buffer is full.
    pub fn policy(mut self, policy: SlowConsumerPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The buffer size.
    pub fn buffer(&self) -> usize {
        self.buffer
    }

    /// The slow-consumer policy.
    pub fn slow_consumer_policy(&self) -> SlowConsumerPolicy {
        self.policy
    }
}

/// What [`Queue::send`] did with a message it did not refuse.
#[derive(Debug)]
pub(crate) enum Sent {
    /// The message is in the buffer.
    Queued,
    /// The buffer was full and the policy dropped the message.
    Dropped,
    /// The buffer was full and the policy wants the message dead-lettered.
    Overflow(Message),
}

/// The sending side of one output, with its policy and counters.
#[derive(Debug)]
pub(crate) struct Queue {
    name: Arc<str>,
    kind: OutputKind,
    policy: SlowConsumerPolicy,
    sender: mpsc::Sender<Message>,
    routed: AtomicU64,
    dropped: AtomicU64,
    failed: AtomicU64,
    overflowed: AtomicU64,
    metrics: QueueMetrics,
}

/// The `metrics` facade's counters of one output, registered once when the queue is built:
/// a `counter!` with a label on every routed message would build its label set and look
/// the counter up each time. A recorder installed after the fan-out is built does not see
/// these counters.
struct QueueMetrics {
    routed: metrics::Counter,
    dropped: metrics::Counter,
    failed: metrics::Counter,
    overflowed: metrics::Counter,
}

impl QueueMetrics {
    fn new(output: &Arc<str>) -> Self {
        Self {
            routed: metrics::counter!("switchyard_fanout_routed_total", "output" => output.clone()),
            dropped: metrics::counter!("switchyard_fanout_dropped_total", "output" => output.clone()),
            failed: metrics::counter!("switchyard_fanout_failed_total", "output" => output.clone()),
            overflowed: metrics::counter!("switchyard_fanout_overflow_total", "output" => output.clone()),
        }
    }
}

impl std::fmt::Debug for QueueMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueueMetrics").finish_non_exhaustive()
    }
}

impl Queue {
    /// A queue for `output` and the receiver of its messages. The buffer must be from 1 to
    /// [`Output::MAX_BUFFER`] (tokio panics on 0 and on huge sizes); the builder checks that
    /// before calling, and the clamp keeps a mistake from panicking.
    pub(crate) fn new(output: Output, kind: OutputKind) -> (Self, mpsc::Receiver<Message>) {
        let (sender, receiver) = mpsc::channel(output.buffer.clamp(1, Output::MAX_BUFFER));
        let name: Arc<str> = output.name.into();
        let queue = Self {
            metrics: QueueMetrics::new(&name),
            name,
            kind,
            policy: output.policy,
            sender,
            routed: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            overflowed: AtomicU64::new(0),
        };
        (queue, receiver)
    }

    pub(crate) fn name(&self) -> &Arc<str> {
        &self.name
    }

    pub(crate) fn kind(&self) -> OutputKind {
        self.kind
    }

    /// Sends `message` under this output's policy. Refusals come back as a
    /// [`FanOutError`] that carries the message.
    ///
    /// Dropping the returned future while it waits (policies `Block` and `BlockFor`) drops
    /// the message, whose acker then counts it as nacked.
    pub(crate) async fn send(
        &self,
        message: Message,
        observer: &dyn FanOutObserver,
    ) -> Result<Sent, FanOutError> {
        let result = match self.policy {
            SlowConsumerPolicy::Block => {
                self.sender
                    .send(message)
                    .await
                    .map_err(|err| FanOutError::Closed {
                        output: self.name.clone(),
                        message: err.0,
                    })
            }
            SlowConsumerPolicy::BlockFor(after) => self
                .sender
                .send_timeout(message, after)
                .await
                .map_err(|err| match err {
                    SendTimeoutError::Timeout(message) => FanOutError::Timeout {
                        output: self.name.clone(),
                        after,
                        message,
                    },
                    SendTimeoutError::Closed(message) => FanOutError::Closed {
                        output: self.name.clone(),
                        message,
                    },
                }),
            SlowConsumerPolicy::Fail
            | SlowConsumerPolicy::DropNewest
            | SlowConsumerPolicy::DeadLetter => match self.sender.try_send(message) {
                Ok(()) => Ok(()),
                Err(TrySendError::Closed(message)) => Err(FanOutError::Closed {
                    output: self.name.clone(),
                    message,
                }),
                Err(TrySendError::Full(message)) => return self.full(message, observer),
            },
        };
        match result {
            Ok(()) => {
                self.routed.fetch_add(1, Ordering::Relaxed);
                self.metrics.routed.increment(1);
                Ok(Sent::Queued)
            }
            Err(err) => Err(self.failed(err)),
        }
    }

    /// Applies a non-waiting policy to a message that found the buffer full.
    fn full(&self, message: Message, observer: &dyn FanOutObserver) -> Result<Sent, FanOutError> {
        match self.policy {
            SlowConsumerPolicy::DropNewest => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
                self.metrics.dropped.increment(1);
                tracing::debug!(output = %self.name, "fan-out output full, dropped the newest message");
                observer.on_drop(&self.name, &message);
                Ok(Sent::Dropped)
            }
            // The dead letter never overflows into itself; `build` rejects that
            // configuration, and this guard keeps the queue from looping if it changes.
            SlowConsumerPolicy::DeadLetter if self.kind != OutputKind::DeadLetter => {
                self.overflowed.fetch_add(1, Ordering::Relaxed);
                self.metrics.overflowed.increment(1);
                tracing::debug!(output = %self.name, "fan-out output full, diverting to the dead letter");
                observer.on_overflow(&self.name, &message);
                Ok(Sent::Overflow(message))
            }
            SlowConsumerPolicy::Block
            | SlowConsumerPolicy::BlockFor(_)
            | SlowConsumerPolicy::Fail
            | SlowConsumerPolicy::DeadLetter => Err(self.failed(FanOutError::Full {
                output: self.name.clone(),
                message,
            })),
        }
    }

    /// Counts a refusal and passes it on.
    fn failed(&self, err: FanOutError) -> FanOutError {
        self.failed.fetch_add(1, Ordering::Relaxed);
        self.metrics.failed.increment(1);
        tracing::debug!(output = %self.name, error = %err, "fan-out output refused a message");
        err
    }

    /// The counters and queue depth, now.
    pub(crate) fn stats(&self) -> OutputStats {
        let capacity = self.sender.max_capacity();
        OutputStats {
            name: self.name.clone(),
            kind: self.kind,
            policy: self.policy,
            routed: self.routed.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            overflowed: self.overflowed.load(Ordering::Relaxed),
            queued: capacity.saturating_sub(self.sender.capacity()),
            capacity,
            closed: self.sender.is_closed(),
        }
    }
}
