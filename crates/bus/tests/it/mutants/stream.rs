//! `FaultyStream`: a subscription stream of the real bus that breaks deliveries in the way
//! its harness's fault says.

use std::{
    collections::VecDeque,
    pin::Pin,
    sync::{Arc, atomic::Ordering},
    task::{Context, Poll, ready},
};

use futures::{FutureExt, Stream, StreamExt};
use switchyard_bus::pubsub::MemoryPubSub;
use switchyard_core::{AckSink, Acker, Message, MessageStream, NackCause, Result};

use super::faulty::{Fault, Shared};

pub(crate) struct FaultyStream {
    inner: MessageStream,
    fault: Fault,
    shared: Arc<Shared>,
    /// What to deliver before polling `inner` again.
    queued: VecDeque<Message>,
    /// The last delivery, for `DeliverAfterClose`.
    last: Option<Message>,
    ended: bool,
    /// Where `NackRequeues` publishes a nacked message again.
    requeue: Option<(MemoryPubSub, String)>,
    /// For `FirstStreamEnds`: after how many deliveries the stream ends, and how many it
    /// made.
    end_after: Option<usize>,
    own: usize,
}

impl FaultyStream {
    pub(crate) fn new(inner: MessageStream, fault: Fault, shared: Arc<Shared>) -> Self {
        Self {
            inner,
            fault,
            shared,
            queued: VecDeque::new(),
            last: None,
            ended: false,
            requeue: None,
            end_after: None,
            own: 0,
        }
    }

    pub(crate) fn ending_after(mut self, deliveries: usize) -> Self {
        self.end_after = Some(deliveries);
        self
    }

    pub(crate) fn requeue_to(mut self, bus: MemoryPubSub, topic: &str) -> Self {
        self.requeue = Some((bus, topic.to_owned()));
        self
    }

    /// Applies the fault to delivery number `n`.
    fn break_delivery(&mut self, n: usize, mut message: Message) -> Message {
        match self.fault {
            Fault::Duplicate(at) if n == at => {
                self.queued.push_back(message.clone());
                message
            }
            Fault::CorruptPayload(at) if n == at => {
                let (payload, attributes, acker) = message.into_parts();
                let mut bytes = payload.to_vec();
                if let Some(first) = bytes.first_mut() {
                    *first ^= 0x20;
                }
                Message::from_parts(bytes.into(), attributes, acker)
            }
            Fault::CorruptAttribute(at) if n == at => {
                message
                    .attributes_mut()
                    .set_type("corrupted")
                    .expect("a valid type");
                message
            }
            Fault::AckRedelivers(every) if n % every == 0 => {
                let upstream = message.acker().clone();
                message.with_acker(Acker::new(NackOnAck(upstream)))
            }
            Fault::NackAcks => {
                let upstream = message.acker().clone();
                message.with_acker(Acker::new(AckOnNack(upstream)))
            }
            Fault::NackRequeues => {
                let (bus, topic) = self.requeue.clone().expect("a bus to requeue to");
                let sink = RequeueOnNack {
                    upstream: message.acker().clone(),
                    copy: message.detached(),
                    bus,
                    topic,
                };
                message.with_acker(Acker::new(sink))
            }
            _ => message,
        }
    }
}

impl Stream for FaultyStream {
    type Item = Result<Message>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(message) = this.queued.pop_front() {
                return Poll::Ready(Some(Ok(message)));
            }
            if !this.ended && this.end_after.is_some_and(|limit| this.own >= limit) {
                // Dropping the bus subscription unsubscribes it.
                this.inner = Box::pin(futures::stream::empty());
                this.ended = true;
            }
            if this.ended {
                return match this.fault {
                    // Never woken: the stream hangs as a transport that ignores close does.
                    Fault::StreamsNeverEnd => Poll::Pending,
                    _ => Poll::Ready(None),
                };
            }
            match ready!(this.inner.poll_next_unpin(cx)) {
                None => {
                    this.ended = true;
                    if this.fault == Fault::DeliverAfterClose {
                        this.queued.extend(this.last.take());
                    }
                }
                Some(Err(err)) => return Poll::Ready(Some(Err(err))),
                Some(Ok(message)) => {
                    this.own += 1;
                    let n = this.shared.delivered.fetch_add(1, Ordering::AcqRel) + 1;
                    if this.fault == Fault::DeliverAfterClose {
                        // A fresh delivery that settles nothing upstream.
                        this.last = Some(message.detached());
                    }
                    let message = this.break_delivery(n, message);
                    return Poll::Ready(Some(Ok(message)));
                }
            }
        }
    }
}

/// Acks upstream on an explicit nack: the nacked message is never redelivered.
struct AckOnNack(Acker);

impl AckSink for AckOnNack {
    fn ack(&self) {
        self.0.ack();
    }

    fn nack(&self, cause: NackCause) {
        if cause == NackCause::Explicit {
            self.0.ack();
        } else {
            self.0.nack();
        }
    }
}

/// Nacks upstream on an ack: the acked message is redelivered.
struct NackOnAck(Acker);

impl AckSink for NackOnAck {
    fn ack(&self) {
        self.0.nack();
    }

    fn nack(&self, _cause: NackCause) {
        self.0.nack();
    }
}

/// Acks upstream on an explicit nack and publishes the message again, at the back of the
/// topic.
struct RequeueOnNack {
    upstream: Acker,
    copy: Message,
    bus: MemoryPubSub,
    topic: String,
}

impl AckSink for RequeueOnNack {
    fn ack(&self) {
        self.upstream.ack();
    }

    fn nack(&self, cause: NackCause) {
        if cause != NackCause::Explicit {
            self.upstream.nack();
            return;
        }
        self.upstream.ack();
        // A sink must not block, and the bus's publish completes at once while queues have
        // room, as they have in these tests. Should it not, the message is lost, which is a
        // fault too.
        let published = self
            .bus
            .publish(&self.topic, self.copy.clone())
            .now_or_never();
        drop(published);
    }
}
