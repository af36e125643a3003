//! [`Subscription`]: the stream of deliveries of one subscription; dropping it unsubscribes.

use std::{
    collections::VecDeque,
    fmt, mem,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use futures::Stream;
use switchyard_core::{Message, MessageStream, Result};

use super::{
    entry::Entry, member::Member, queue::Refill, shared::Shared, stats::SubscriptionStats,
    target::Target,
};

/// The deliveries of one subscription, from
/// [`MemoryPubSub::subscribe_with`](super::MemoryPubSub::subscribe_with).
///
/// A `Stream` of messages, each to be settled through its acker (see the
/// [module documentation](super) for what a nack or a drop does). The stream ends when the
/// bus closes. Dropping it unsubscribes: its queued, unreplayed and unacked messages go to
/// the other members of its consumer group, or are discarded if it was outside a group or
/// the last member. Converts into a [`MessageStream`] with `into()`.
///
/// The stream takes its queue in batches: it locks the queue once per batch, not per
/// message, and is woken only when it found its queue empty, never per message.
///
/// ```
/// use futures::StreamExt;
/// use switchyard_bus::pubsub::{MemoryPubSub, PubSubConfig, SubscribeOptions};
/// use switchyard_core::Message;
///
/// # tokio_test_block_on(async {
/// let bus = MemoryPubSub::new(PubSubConfig::default());
/// let mut orders = bus.subscribe_with("orders.*", SubscribeOptions::default())?;
/// bus.publish("orders.created", Message::new("order 7")).await?;
///
/// let delivered = orders.next().await.expect("a delivery")?;
/// assert_eq!(delivered.payload(), "order 7");
/// delivered.ack();
/// assert_eq!(orders.stats().acked, 1);
/// bus.close().await?;
/// assert!(orders.next().await.is_none(), "the stream ends on close");
/// # Ok::<(), switchyard_core::Error>(())
/// # }).unwrap();
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
/// # }
/// ```
pub struct Subscription {
    member: Arc<Member>,
    target: Arc<Target>,
    shared: Arc<Shared>,
    /// Main-lane messages taken in one batch, not yet delivered.
    batch: VecDeque<Entry>,
    /// Redeliveries taken from the retry lane, each holding an in-flight slot.
    retry: VecDeque<Entry>,
    /// Replayed messages, delivered before anything else new.
    replay: VecDeque<Entry>,
    ended: bool,
}

impl Subscription {
    pub(super) fn new(
        member: Arc<Member>,
        target: Arc<Target>,
        shared: Arc<Shared>,
        replay: VecDeque<Entry>,
    ) -> Self {
        Self {
            member,
            target,
            shared,
            batch: VecDeque::new(),
            retry: VecDeque::new(),
            replay,
            ended: false,
        }
    }

    /// The subscription's id, unique within its bus.
    pub fn id(&self) -> u64 {
        self.member.id
    }

    /// The topic or pattern subscribed to.
    pub fn topic(&self) -> &str {
        &self.member.subject
    }

    /// The consumer group, if any.
    pub fn group(&self) -> Option<&str> {
        self.member.group.as_deref()
    }

    /// The subscription's counters; the queue depth includes the batch this stream took.
    pub fn stats(&self) -> SubscriptionStats {
        let local = self.batch.len() + self.retry.len() + self.replay.len();
        self.member.stats(local)
    }

    /// Makes the delivery of `entry`: a message whose acker settles it with this
    /// subscription. One allocation (the acker) for a message to this subscription alone;
    /// none for one of a fan-out, whose acker is a slot of the publish's block.
    fn deliver(&self, entry: Entry) -> Message {
        self.member.on_delivered();
        entry.deliver(&self.member)
    }

    /// The next new (not redelivered) entry: replays first.
    fn next_new(&mut self) -> Option<Entry> {
        self.replay.pop_front().or_else(|| self.batch.pop_front())
    }
}

impl Stream for Subscription {
    type Item = Result<Message>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if this.ended {
                return Poll::Ready(None);
            }
            if this.member.is_closed() {
                this.ended = true;
                continue;
            }
            // Redeliveries first: they hold their slot already, so the in-flight limit
            // never keeps them back.
            if let Some(entry) = this.retry.pop_front() {
                return Poll::Ready(Some(Ok(this.deliver(entry))));
            }
            if this.member.queue.retry_pending() {
                this.member.queue.take_retries(&mut this.retry);
                if !this.retry.is_empty() {
                    continue;
                }
            }
            let refill = if this.replay.is_empty() && this.batch.is_empty() {
                this.member
                    .queue
                    .refill(&mut this.batch, &mut this.retry, cx.waker())
            } else if this.member.try_acquire_slot() {
                if let Some(entry) = this.next_new() {
                    return Poll::Ready(Some(Ok(this.deliver(entry))));
                }
                // Unreachable, as one of the two was not empty; give the slot back.
                this.member.release_slot();
                Refill::Again
            } else {
                let member = &this.member;
                member
                    .queue
                    .park_for_slot(cx.waker(), || member.slot_free())
            };
            match refill {
                Refill::Again => {}
                Refill::Freed => this.target.notify_space(),
                Refill::Parked => return Poll::Pending,
                Refill::Closed => this.ended = true,
            }
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        // In a group, what is left of a replay goes to the rest of the group, which did not
        // replay it, first, as it would have been delivered first. Outside a group it is a
        // copy that the ring still keeps: nothing is lost.
        let mut fresh = if self.member.group.is_some() {
            mem::take(&mut self.replay)
        } else {
            VecDeque::new()
        };
        fresh.append(&mut self.batch);
        let retry = mem::take(&mut self.retry);
        self.shared
            .unsubscribe(&self.member, &self.target, fresh, retry);
    }
}

impl From<Subscription> for MessageStream {
    fn from(subscription: Subscription) -> Self {
        Box::pin(subscription)
    }
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("id", &self.member.id)
            .field("topic", &self.topic())
            .field("group", &self.group())
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}
