//! [`FanOut`]: routes each message by its `destination` to one of several bounded outputs,
//! the internal loop, or the dead letter.

use std::{
    fmt,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};

use switchyard_core::Message;

use super::{
    DEAD_LETTER_REASON, DeadLetterReason, FanOutError, FanOutObserver, FanOutStats, OutputKind,
    output::{Queue, Sent},
    prefix::PrefixTable,
};

mod builder;
mod receivers;

pub use builder::FanOutBuilder;
pub use receivers::FanOutReceivers;

/// The scheme that addresses the internal loop unless
/// [`FanOutBuilder::loop_scheme`] says otherwise.
pub const DEFAULT_LOOP_SCHEME: &str = "loop://";

/// Routes each [`Message`] by its `destination` attribute to a named, bounded output.
///
/// - **Routes.** Each output registered with [`FanOutBuilder::output`] owns a destination
///   prefix such as `kafka://` or `kafka://orders`. The longest prefix that the destination
///   starts with wins; the answer never depends on registration order (see
///   [`FanOutBuilder::output`]).
/// - **The loop.** A destination that starts with the loop scheme (`loop://` by default)
///   goes to the [loop output](FanOutBuilder::loop_output), before any route is looked at.
/// - **The dead letter.** A message with no destination, no matching prefix, or a loop
///   destination without a loop output is *unroutable*: the observer's
///   [`on_no_match`](FanOutObserver::on_no_match) fires, and the message goes to the
///   [dead-letter output](FanOutBuilder::dead_letter) with the
///   [`DEAD_LETTER_REASON`] attribute set, or, without a dead letter, comes back in
///   [`FanOutError::Unroutable`].
/// - **Slow consumers.** Every output is a bounded tokio `mpsc` queue with its own
///   [`SlowConsumerPolicy`](super::SlowConsumerPolicy). Nothing is dropped silently.
///
/// `route` takes `&self`: share the fan-out in an `Arc` between workers. It spawns nothing;
/// the receivers are yours to drain (see [`FanOutReceivers`]). Dropping the fan-out closes
/// every output once its buffer is drained.
///
/// ```
/// use switchyard_core::Message;
/// use switchyard_routing::fan::{FanOut, Output, OutputKind, SlowConsumerPolicy};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let (fan_out, mut receivers) = FanOut::builder()
///     .output("kafka://", Output::new("kafka", 64))
///     .output("kafka://audit", Output::new("audit", 8).policy(SlowConsumerPolicy::DropNewest))
///     .loop_output(Output::new("loop", 64).policy(SlowConsumerPolicy::DeadLetter))
///     .dead_letter(Output::new("deadletter", 64))
///     .build()?;
///
/// let message = Message::builder().destination("kafka://audit.log").build()?;
/// let routed = fan_out.route(message).await?;
/// assert_eq!(routed.output(), "audit");
///
/// let message = Message::builder().destination("loop://billing").build()?;
/// assert_eq!(fan_out.route(message).await?.kind(), OutputKind::Loop);
///
/// let mut audit = receivers.take("audit").expect("registered above");
/// assert!(audit.recv().await.is_some());
/// # Ok(())
/// # }
/// ```
pub struct FanOut {
    /// Routes in registration order, then the loop, then the dead letter.
    queues: Vec<Queue>,
    table: PrefixTable,
    loop_scheme: Box<str>,
    loop_queue: Option<usize>,
    dead_letter: Option<usize>,
    observer: Arc<dyn FanOutObserver>,
    unroutable: AtomicU64,
}

impl FanOut {
    /// A builder; see [`FanOutBuilder`].
    pub fn builder() -> FanOutBuilder {
        FanOutBuilder::default()
    }

    /// Routes `message` to its output, applying that output's slow-consumer policy.
    ///
    /// Returns where the message went. With the policy
    /// [`Block`](super::SlowConsumerPolicy::Block) or
    /// [`BlockFor`](super::SlowConsumerPolicy::BlockFor), the future waits for room;
    /// dropping it then drops the message, whose acker counts it as nacked.
    ///
    /// # Errors
    ///
    /// A [`FanOutError`] that gives the message back: [`Unroutable`](FanOutError::Unroutable)
    /// when nothing matched and there is no dead letter, [`Full`](FanOutError::Full) or
    /// [`Timeout`](FanOutError::Timeout) when the output (or the dead letter) is full under
    /// the policies `Fail` or `BlockFor`, [`Closed`](FanOutError::Closed) when its receiver
    /// is gone.
    pub async fn route(&self, message: Message) -> Result<Routed, FanOutError> {
        match self.resolve(&message) {
            Ok(index) => self.deliver(index, message).await,
            Err(reason) => self.unroutable(message, reason).await,
        }
    }

    /// Sends `message` to the dead-letter output with `reason`, as `route` does with an
    /// unroutable message, for callers that decide a message is dead on their own (a hop
    /// limit, a poison message). Does not call `on_no_match`.
    ///
    /// # Errors
    ///
    /// Without a dead-letter output, the message comes back in
    /// [`FanOutError::Unroutable`]; a full or closed dead letter gives it back as `route`
    /// does.
    pub async fn dead_letter(
        &self,
        message: Message,
        reason: DeadLetterReason,
    ) -> Result<Routed, FanOutError> {
        self.send_dead_letter(message, reason).await
    }

    /// Which output `message` would go to, without sending it: the output's name and role,
    /// or why it is unroutable.
    ///
    /// # Errors
    ///
    /// The [`DeadLetterReason`] that `route` would dead-letter the message with.
    pub fn resolve_output(
        &self,
        message: &Message,
    ) -> Result<(&str, OutputKind), DeadLetterReason> {
        self.resolve(message).map(|index| {
            let queue = &self.queues[index];
            (&**queue.name(), queue.kind())
        })
    }

    /// The scheme that addresses the internal loop.
    pub fn loop_scheme(&self) -> &str {
        &self.loop_scheme
    }

    /// The counters and queue depths of every output, now.
    pub fn stats(&self) -> FanOutStats {
        FanOutStats {
            outputs: self.queues.iter().map(Queue::stats).collect(),
            unroutable: self.unroutable.load(Ordering::Relaxed),
        }
    }

    fn resolve(&self, message: &Message) -> Result<usize, DeadLetterReason> {
        let Some(destination) = message.attributes().destination() else {
            return Err(DeadLetterReason::NoDestination);
        };
        if destination.starts_with(&*self.loop_scheme) {
            return self.loop_queue.ok_or(DeadLetterReason::NoLoop);
        }
        self.table
            .lookup(destination)
            .ok_or(DeadLetterReason::NoRoute)
    }

    async fn deliver(&self, index: usize, message: Message) -> Result<Routed, FanOutError> {
        let queue = &self.queues[index];
        match queue.send(message, &*self.observer).await? {
            Sent::Queued => Ok(Routed::new(queue, Delivery::Queued, None)),
            Sent::Dropped => Ok(Routed::new(queue, Delivery::Dropped, None)),
            Sent::Overflow(message) => {
                self.send_dead_letter(message, DeadLetterReason::Overflow)
                    .await
            }
        }
    }

    async fn unroutable(
        &self,
        message: Message,
        reason: DeadLetterReason,
    ) -> Result<Routed, FanOutError> {
        self.unroutable.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("switchyard_fanout_unroutable_total", "reason" => reason.as_str())
            .increment(1);
        tracing::debug!(%reason, "fan-out found no route for a message");
        self.observer.on_no_match(&message, reason);
        self.send_dead_letter(message, reason).await
    }

    async fn send_dead_letter(
        &self,
        mut message: Message,
        reason: DeadLetterReason,
    ) -> Result<Routed, FanOutError> {
        let Some(index) = self.dead_letter else {
            return Err(FanOutError::Unroutable { reason, message });
        };
        if let Err(err) = message
            .attributes_mut()
            .insert(DEAD_LETTER_REASON, reason.as_str())
        {
            // The name is a valid constant and extension values are free text, so this
            // cannot fail; if it ever does, the message still goes to the dead letter.
            tracing::error!(error = %err, "cannot set the dead-letter reason attribute");
        }
        let queue = &self.queues[index];
        match queue.send(message, &*self.observer).await? {
            Sent::Queued => Ok(Routed::new(queue, Delivery::Queued, Some(reason))),
            Sent::Dropped => Ok(Routed::new(queue, Delivery::Dropped, Some(reason))),
            // A dead-letter queue never reports overflow (see `Queue::full`); treat it as
            // full rather than loop.
            Sent::Overflow(message) => Err(FanOutError::Full {
                output: queue.name().clone(),
                message,
            }),
        }
    }
}

impl fmt::Debug for FanOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FanOut")
            .field("outputs", &self.queues)
            .field("routes", &self.table)
            .field("loop_scheme", &self.loop_scheme)
            .finish_non_exhaustive()
    }
}

/// Where [`FanOut::route`] put a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routed {
    output: Arc<str>,
    kind: OutputKind,
    delivery: Delivery,
    reason: Option<DeadLetterReason>,
}

impl Routed {
    fn new(queue: &Queue, delivery: Delivery, reason: Option<DeadLetterReason>) -> Self {
        Self {
            output: queue.name().clone(),
            kind: queue.kind(),
            delivery,
            reason,
        }
    }

    /// The name of the output that took the message.
    pub fn output(&self) -> &str {
        &self.output
    }

    /// The role of that output.
    pub fn kind(&self) -> OutputKind {
        self.kind
    }

    /// Whether the message was queued or dropped by
    /// [`DropNewest`](super::SlowConsumerPolicy::DropNewest).
    pub fn delivery(&self) -> Delivery {
        self.delivery
    }

    /// Why the message went to the dead letter; `None` when it did not.
    pub fn dead_letter_reason(&self) -> Option<DeadLetterReason> {
        self.reason
    }
}

/// What the chosen output did with a routed message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Delivery {
    /// It is in the output's buffer.
    Queued,
    /// The buffer was full and the policy
    /// [`DropNewest`](super::SlowConsumerPolicy::DropNewest) dropped it, counted and
    /// reported to [`FanOutObserver::on_drop`].
    Dropped,
}

#[cfg(test)]
mod tests;
