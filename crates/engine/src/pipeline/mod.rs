//! The running pipeline: the intake task and the router workers, and what they share.
//!
//! ```text
//!  subscribers ─▶ FanIn ─┐                  ┌─▶ worker ─┐  FanOut decides:  ┌─▶ publisher
//!                        ├─▶ intake ─▶ ...  ┤           ├──────────────────┼─▶ dead letter
//!  loop queue ───────────┘   (loop first)   └─▶ worker ─┘                  └─▶ loop queue
//! ```
//!
//! Each worker handles a message, and then delivers its outputs itself: routing's
//! [`FanOut`] resolves each destination (longest publisher prefix, the loop scheme, or a
//! dead-letter reason), the worker publishes to the chosen publisher and waits for its
//! answer, and a loop output goes into the fan-out's bounded loop queue. Publishing from
//! the worker, rather than through a queue and a task per publisher, saves a task hand-off
//! per message (the engine's hot path is benchmarked against a raw channel), keeps the ack
//! next to the publish result, and makes the publisher's own wait the backpressure;
//! concurrency comes from the router's workers, and batching from publishers that batch.
//!
//! # Why the loop cannot deadlock
//!
//! Waiting only ever goes downstream, towards the publishers, never back up:
//!
//! - the intake waits for room in a worker's queue (backpressure on the subscribers), and,
//!   for a message that no router takes, for the dead letter's publisher;
//! - a worker waits for its publishers, the dead letter's included, which do not wait on
//!   the engine;
//! - a worker **never** waits on the loop queue: it offers a loop message with `try_send`,
//!   and when the queue is full the message goes to the dead letter
//!   ([`LOOP_OVERFLOW`](crate::reason::LOOP_OVERFLOW)) instead.
//!
//! So the graph of "who waits on whom" has no cycle, whatever the buffer sizes: the
//! intake → worker → loop → intake cycle of seed 000 is broken at its loop edge. The intake
//! drains the loop queue before taking new input, so loop traffic finishes first, and the
//! hop limit ends cycles of handlers that keep sending to each other. (A cycle through an
//! outside transport, a handler publishing to a topic that the same engine subscribes to,
//! is outside the engine's reach: use the loop for that.)

pub(crate) mod intake;
pub(crate) mod matcher;
pub(crate) mod publish;
pub(crate) mod signal;
pub(crate) mod worker;

use std::{
    any::Any,
    sync::{Arc, LazyLock},
};

use switchyard_core::{Error, Message, Throttle};
use switchyard_routing::fan::{
    DEAD_LETTER_REASON, DeadLetterReason, FanOut, FanOutError, OutputKind,
};

use crate::{
    EngineBuilder, EngineObserver,
    error::truncate,
    reason::{ERROR_ATTRIBUTE, HOP_LIMIT, HOPS_ATTRIBUTE, LOOP_OVERFLOW, MAX_ERROR_LEN},
    stats::{ComponentStats, Counters, Degraded},
};
use publish::{Target, topic_of};
use signal::Signal;

/// The name of the loop's output in the fan-out, and of its queue in health.
pub(crate) const LOOP_QUEUE: &str = "loop";

/// Reports a panic that `component` caught past a handler (in a publisher, an observer
/// hook, a source matcher), whose message, if it concerned one, was nacked for redelivery
/// as it unwound (a subscriber's error report concerns none): logged
/// at `error` (at most once a second), counted in `switchyard_engine_panics_total`, and
/// recorded in `stats` for health when the component has them.
pub(crate) fn contained_panic(
    component: &'static str,
    stats: Option<&ComponentStats>,
    panic: &(dyn Any + Send),
) {
    static LOG: LazyLock<Throttle> = LazyLock::new(Throttle::default);
    let text = switchyard_core::panic_text(panic);
    metrics::counter!("switchyard_engine_panics_total", "component" => component).increment(1);
    if let Some(suppressed) = LOG.admit() {
        tracing::error!(
            component,
            panic = %text,
            suppressed,
            "caught a panic outside a handler; its message, if any, is nacked for redelivery"
        );
    }
    if let Some(stats) = stats {
        stats.record(&Error::permanent_handler(text));
    }
}

/// A message on its way to a worker, with its hop count.
#[derive(Debug)]
pub(crate) struct Job {
    pub(crate) message: Message,
    pub(crate) hops: u32,
}

/// The shutdown signals shared by every task of one run.
#[derive(Debug, Default)]
pub(crate) struct Signals {
    /// `stop` began: the intake stops taking from the subscribers.
    pub(crate) stop_input: Signal,
    /// Set by the intake once it will take nothing more from the subscribers.
    pub(crate) input_stopped: tokio_util::sync::CancellationToken,
    /// Every task ends now, nacking what it holds.
    pub(crate) shutdown: Signal,
}

/// Where dead letters go: a publisher, and the topic of the dead-letter destination.
pub(crate) struct DeadLetter {
    pub(crate) target: Arc<Target>,
    pub(crate) topic: String,
}

/// What the intake and the workers share: the fan-out, the publishers it resolves to, and
/// the bookkeeping around them.
pub(crate) struct Pipeline {
    /// Resolves destinations; its loop output is the loop queue. Its publisher outputs
    /// are only resolved to, never sent to (see the module documentation).
    pub(crate) fan_out: FanOut,
    /// The publishers, named as their fan-out outputs.
    pub(crate) targets: Vec<Arc<Target>>,
    pub(crate) dead_letter: Option<DeadLetter>,
    pub(crate) observer: Arc<dyn EngineObserver>,
    pub(crate) counters: Arc<Counters>,
    pub(crate) signals: Arc<Signals>,
    pub(crate) max_hops: u32,
    /// Lets the warning about a missing dead letter through once a second: without one,
    /// every message that would go there is nacked, and warned about, again and again.
    pub(crate) no_dead_letter_warnings: Throttle,
    /// Set by a task of this run that ended before shutdown, for health.
    pub(crate) degraded: Degraded,
}

impl Pipeline {
    /// Delivers one output of a message that had made `hops` passes through the loop: to
    /// its publisher, into the loop, or to the dead letter. The output's acker settles the
    /// message it came from (see [`crate::ack`]). `topic` is scratch space for the topic.
    pub(crate) async fn route_output(&self, message: Message, hops: u32, topic: &mut String) {
        match self.fan_out.resolve_output(&message) {
            Ok((_, OutputKind::Loop)) => self.route_loop(message, hops).await,
            Ok((output, _)) => {
                match self.targets.iter().find(|target| &*target.name == output) {
                    Some(target) => {
                        topic.clear();
                        topic.push_str(topic_of(
                            message.attributes().destination().unwrap_or_default(),
                        ));
                        target
                            .publish(topic, message, &self.signals.shutdown, &*self.observer)
                            .await;
                    }
                    // Every route output of the fan-out is a registered publisher.
                    None => {
                        message.nack();
                    }
                }
            }
            Err(reason) => self.dead_letter(message, reason).await,
        }
    }

    /// Offers a message to the loop without ever waiting: over the hop limit or into a full
    /// loop, it goes to the dead letter instead.
    async fn route_loop(&self, mut message: Message, hops: u32) {
        let hops = hops.saturating_add(1);
        if let Err(err) = message
            .attributes_mut()
            .insert_shared(HOPS_ATTRIBUTE, hop_count(hops))
        {
            // A valid constant name with a free-text value: this cannot fail. The limit is
            // enforced here, on the count passed along, not on the attribute.
            tracing::error!(error = %err, "cannot set the hop count attribute");
        }
        if hops > self.max_hops {
            self.counters.hop_limited();
            metrics::counter!("switchyard_engine_hop_limited_total").increment(1);
            return self.dead_letter(message, HOP_LIMIT).await;
        }
        match self.fan_out.route(message).await {
            Ok(_) => {}
            Err(FanOutError::Full { message, .. }) => {
                self.counters.loop_overflowed();
                metrics::counter!("switchyard_engine_loop_overflow_total").increment(1);
                tracing::debug!("internal loop full, dead-lettering the loop message");
                self.observer.on_loop_overflow(&message);
                self.dead_letter(message, LOOP_OVERFLOW).await;
            }
            Err(err) => {
                // The loop queue is closed: the engine is shutting down.
                tracing::debug!(error = %err, "internal loop closed; nacking the loop message");
                err.into_message().nack();
            }
        }
    }

    /// Publishes `message` to the dead letter with `reason` in its
    /// [`DEAD_LETTER_REASON`] attribute; it is acked once the dead letter accepted it and
    /// nacked if that fails. Without a dead letter configured, it is nacked at once, so
    /// that it is redelivered, not lost.
    pub(crate) async fn dead_letter(&self, mut message: Message, reason: DeadLetterReason) {
        let Some(dead_letter) = &self.dead_letter else {
            if let Some(suppressed) = self.no_dead_letter_warnings.admit() {
                tracing::warn!(
                    %reason,
                    suppressed,
                    "no dead-letter destination configured; nacking the message"
                );
            }
            message.nack();
            return;
        };
        // The hook first: if it panics, the message is nacked, not dead-lettered, and is
        // not counted as such.
        self.observer.on_dead_letter(&message, reason);
        self.counters.dead_lettered();
        metrics::counter!("switchyard_engine_dead_lettered_total", "reason" => reason.as_str())
            .increment(1);
        if let Err(err) = message
            .attributes_mut()
            .insert(DEAD_LETTER_REASON, reason.as_str())
        {
            tracing::error!(error = %err, "cannot set the dead-letter reason attribute");
        }
        dead_letter
            .target
            .publish(
                &dead_letter.topic,
                message,
                &self.signals.shutdown,
                &*self.observer,
            )
            .await;
    }

    /// [`dead_letter`](Self::dead_letter) with the error's redacted report in the
    /// [`ERROR_ATTRIBUTE`].
    pub(crate) async fn dead_letter_with_error(
        &self,
        mut message: Message,
        reason: DeadLetterReason,
        error: &(dyn std::error::Error + Send + Sync + 'static),
    ) {
        let report = switchyard_core::report(error);
        if let Err(err) = message
            .attributes_mut()
            .insert(ERROR_ATTRIBUTE, truncate(&report, MAX_ERROR_LEN))
        {
            tracing::error!(error = %err, "cannot set the dead-letter error attribute");
        }
        self.dead_letter(message, reason).await;
    }
}

/// The text of hop count `hops`, shared for the counts that the default limit allows, so
/// that a loop hop does not allocate it.
fn hop_count(hops: u32) -> Arc<str> {
    static SMALL: LazyLock<Vec<Arc<str>>> = LazyLock::new(|| {
        (0..=EngineBuilder::DEFAULT_MAX_HOPS + 1)
            .map(|hops| Arc::from(hops.to_string()))
            .collect()
    });
    match SMALL.get(hops as usize) {
        Some(shared) => Arc::clone(shared),
        None => Arc::from(hops.to_string()),
    }
}

#[cfg(test)]
mod tests;
