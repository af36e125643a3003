//! The one background task of a [`BatchingPublisher`](super::BatchingPublisher): it takes
//! accepted messages into batches, runs the latency timer, sends batches through the inner
//! publisher, and answers every caller.

use std::{future::Future, panic::AssertUnwindSafe, pin::Pin, sync::Arc};

use futures::{FutureExt, StreamExt, stream::FuturesUnordered};
use switchyard_core::{Error, Message, Publisher, Result};
use tokio::{
    sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot, watch},
    time::{Instant, sleep_until},
};
use tokio_util::sync::CancellationToken;

use super::{
    BatchConfig, closed,
    error::fan_out,
    topics::{Dispatch, SealReason, Topics},
};

/// What answers one caller.
pub(super) type Reply = oneshot::Sender<Result<()>>;

/// How many accepted messages the driver takes from its channel per wake-up.
const RECEIVE_AT_ONCE: usize = 256;

/// A message accepted by a caller, on its way to the driver. It holds one of the
/// `max_pending` permits, which the driver keeps until the message is answered.
pub(super) struct Accepted {
    pub(super) topic: String,
    pub(super) message: Message,
    pub(super) reply: Reply,
    pub(super) accepted_at: Instant,
    pub(super) permit: OwnedSemaphorePermit,
}

/// A request to seal every open batch; answered with the sequence number below which every
/// batch pending at the time of the request lies.
pub(super) struct FlushRequest {
    pub(super) reply: oneshot::Sender<u64>,
}

/// The driver's side of the channels and signals that connect it to the handles.
pub(super) struct DriverParts {
    pub(super) accepted: mpsc::Receiver<Accepted>,
    pub(super) flushes: mpsc::Receiver<FlushRequest>,
    pub(super) permits: Arc<Semaphore>,
    pub(super) watermark: watch::Sender<u64>,
    pub(super) closing: CancellationToken,
    pub(super) cancel: CancellationToken,
}

type Sending = Pin<Box<dyn Future<Output = (String, u64, Result<()>)> + Send>>;

pub(super) struct Driver<P: ?Sized> {
    inner: Arc<P>,
    config: BatchConfig,
    topics: Topics<Reply>,
    parts: DriverParts,
}

impl<P: ?Sized> Drop for Driver<P> {
    fn drop(&mut self) {
        // However the driver ends (closed, cancelled, its runtime shut down), callers
        // waiting for room must not wait for ever: they get `Error::Closed`. Replies still
        // held are dropped with the driver, which their receipts read as `Error::Closed`.
        self.parts.permits.close();
    }
}

impl<P: Publisher + ?Sized + 'static> Driver<P> {
    pub(super) fn new(inner: Arc<P>, config: BatchConfig, parts: DriverParts) -> Self {
        Self {
            inner,
            config,
            topics: Topics::new(config.max_batch_size(), config.max_latency()),
            parts,
        }
    }

    /// Runs until the publisher is closed and everything pending has been answered, or
    /// until it is cancelled.
    pub(super) async fn run(mut self) {
        let mut sending = FuturesUnordered::<Sending>::new();
        let timer = sleep_until(Instant::now());
        tokio::pin!(timer);
        let mut armed = None;
        let mut closing = false;
        let mut received = Vec::with_capacity(RECEIVE_AT_ONCE);

        loop {
            // Deadlines are checked on every turn, not only when the timer fires, so that a
            // steady stream of messages cannot starve the timer branch.
            self.seal(SealReason::Latency, |topics| {
                topics.seal_due(Instant::now())
            });
            while sending.len() < self.config.max_concurrent_batches()
                && let Some(batch) = self.topics.pop_ready()
            {
                sending.push(self.send(batch));
            }
            let watermark = self.topics.watermark();
            self.parts.watermark.send_if_modified(|current| {
                let changed = *current != watermark;
                *current = watermark;
                changed
            });
            if closing && self.topics.is_empty() {
                break;
            }
            let next = self.topics.next_deadline();
            if next != armed {
                if let Some(at) = next {
                    timer.as_mut().reset(at);
                }
                armed = next;
            }

            tokio::select! {
                biased;
                () = self.parts.cancel.cancelled() => {
                    drop(sending);
                    self.abandon();
                    return;
                }
                Some((topic, seq, result)) = sending.next(), if !sending.is_empty() => {
                    self.answer(topic, seq, result);
                }
                received_now = self.parts.accepted.recv_many(&mut received, RECEIVE_AT_ONCE) => {
                    if received_now == 0 {
                        // Every handle is gone; their drop cancels us too.
                        drop(sending);
                        self.abandon();
                        return;
                    }
                    for accepted in received.drain(..) {
                        self.accept(accepted);
                    }
                    if closing {
                        self.seal(SealReason::Close, Topics::seal_all);
                    }
                }
                Some(request) = self.parts.flushes.recv() => {
                    self.take_accepted();
                    self.seal(SealReason::Flush, Topics::seal_all);
                    // The caller may have given up; then nobody needs the answer.
                    let _ = request.reply.send(self.topics.next_seq());
                }
                () = self.parts.closing.cancelled(), if !closing => {
                    closing = true;
                    self.take_accepted();
                    self.seal(SealReason::Close, Topics::seal_all);
                }
                () = &mut timer, if armed.is_some() => {
                    armed = None;
                }
            }
        }

        // Closed and drained. A caller that was accepted in the instant between the close
        // and now still gets an answer rather than a silently dropped message.
        self.parts.accepted.close();
        let late = self.fail_accepted();
        if late > 0 {
            tracing::debug!(
                messages = late,
                "batching publisher closed: messages accepted during close failed"
            );
        }
    }

    fn seal(&mut self, reason: SealReason, seal: impl FnOnce(&mut Topics<Reply>) -> usize) {
        let sealed = seal(&mut self.topics);
        if sealed > 0 {
            metrics::counter!("switchyard_bus_batch_flushes_total", "reason" => reason.as_str())
                .increment(sealed as u64);
        }
    }

    fn accept(&mut self, accepted: Accepted) {
        let Accepted {
            topic,
            message,
            reply,
            accepted_at,
            permit,
        } = accepted;
        // The permit is given back by `answer` once the message's batch is answered, or
        // dropped with the semaphore's closing if it never is.
        permit.forget();
        if self.topics.push(topic, message, reply, accepted_at) {
            metrics::counter!("switchyard_bus_batch_flushes_total", "reason" => SealReason::Size.as_str())
                .increment(1);
        }
    }

    /// Takes every message already accepted, so that a flush or close covers every publish
    /// that returned before it was asked for.
    fn take_accepted(&mut self) {
        while let Ok(accepted) = self.parts.accepted.try_recv() {
            self.accept(accepted);
        }
    }

    fn send(&self, batch: Dispatch) -> Sending {
        let inner = Arc::clone(&self.inner);
        let Dispatch {
            topic,
            seq,
            messages,
        } = batch;
        metrics::histogram!("switchyard_bus_batch_size").record(messages.len() as f64);
        Box::pin(async move {
            // A panicking inner publisher fails its batch; it must not take the driver, and
            // with it every other caller's answer, down with it. The call is made inside
            // the guard: a publisher not written with `async_trait` may panic before it
            // returns its future, in the driver's own poll.
            let result = AssertUnwindSafe(async { inner.publish_batch(&topic, messages).await })
                .catch_unwind()
                .await
                .unwrap_or_else(|_| {
                    Err(Error::permanent_transport(
                        "the inner publisher panicked while publishing a batch",
                    ))
                });
            (topic, seq, result)
        })
    }

    fn answer(&mut self, topic: String, seq: u64, result: Result<()>) {
        let replies = self.topics.complete(topic, seq);
        self.parts.permits.add_permits(replies.len());
        if let Err(error) = &result {
            let transient = error.is_transient();
            metrics::counter!(
                "switchyard_bus_batch_failures_total",
                "transient" => if transient { "true" } else { "false" }
            )
            .increment(1);
            // Every caller gets the error and decides what to log; this is the trace of
            // the batch as a whole.
            tracing::debug!(
                messages = replies.len(),
                transient,
                error = %error.report(),
                "batch publish failed; every message of the batch gets the error"
            );
        }
        fan_out(result, replies.into_iter(), |reply, result| {
            // A caller that stopped waiting has dropped its receipt; its message was sent
            // all the same, and there is nobody left to tell.
            let _ = reply.send(result);
        });
    }

    /// Fails every pending message with [`Error::Closed`]: the publisher was dropped
    /// without `close`, or `close` gave up waiting.
    fn abandon(&mut self) {
        self.parts.accepted.close();
        let replies = self.topics.drain_replies();
        let mut failed = replies.len();
        self.parts.permits.add_permits(replies.len());
        for reply in replies {
            let _ = reply.send(Err(closed()));
        }
        failed += self.fail_accepted();
        self.parts.permits.close();
        if failed > 0 {
            metrics::counter!("switchyard_bus_batch_abandoned_total").increment(failed as u64);
            tracing::warn!(
                messages = failed,
                "batching publisher stopped without close: pending messages failed with Closed"
            );
        }
    }

    /// Answers every message still in the channel with [`Error::Closed`]. Returns how many.
    fn fail_accepted(&mut self) -> usize {
        let mut failed = 0;
        while let Ok(accepted) = self.parts.accepted.try_recv() {
            let _ = accepted.reply.send(Err(closed()));
            failed += 1;
        }
        failed
    }
}
