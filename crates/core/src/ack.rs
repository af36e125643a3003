//! The acknowledgement contract: how a consumer tells a transport that a message is done.
//!
//! # The contract
//!
//! Every delivered [`Message`](crate::Message) carries an [`Acker`]. The consumer settles it
//! exactly once:
//!
//! - [`Acker::ack`]: the message was processed. Only now may the transport acknowledge it
//!   upstream (commit, `XACK`, remove from the in-flight set).
//! - [`Acker::nack`]: the message was not processed. The transport redelivers it, possibly
//!   after a delay, possibly to another consumer.
//! - Dropping every clone of the message (and of its acker) without settling counts as a
//!   nack, with [`NackCause::Dropped`]. A crash, a panic in a handler or a forgotten message
//!   therefore leads to redelivery, never to loss.
//!
//! `ack` and `nack` are idempotent and race-free: the first call decides, and each call
//! returns whether it was the one that decided. Later calls change nothing.
//!
//! Delivery is therefore *at least once*: a message can be delivered again after a nack, a
//! drop, a crash before the ack reached the broker, or a lease that expired. Handlers that
//! must not repeat an effect deduplicate on the message `id`.
//!
//! # What each transport does
//!
//! - **Kafka.** Offsets are committed per partition, and only up to the *contiguous prefix*
//!   of acked messages: if offsets 10, 11 and 12 were delivered and 11 and 12 are acked, no
//!   commit goes past 10 until 10 is acked; then the commit jumps to 13. A nack of offset i
//!   holds the commit at i and the transport re-delivers i (seeking back or through a retry
//!   topic), so an out-of-order ack never commits past a message that was not processed.
//! - **Redis Streams.** Each ack is an `XACK` of that entry's id in its consumer group. An
//!   entry that is nacked or never acked stays in the group's pending entries list; the lease
//!   scanner reclaims it with `XAUTOCLAIM` once its lease expires, and delivers it again
//!   with its delivery count increased, dead-lettering it past the maximum.
//! - **In-memory bus.** The same rules: an acked message is forgotten, a nacked or dropped
//!   one is redelivered after the configured delay.
//!
//! # Implementing a transport
//!
//! A transport creates one [`Acker`] per delivered message with [`Acker::new`], giving it an
//! [`AckSink`] that forwards the outcome to whatever tracks the message upstream. The sink is
//! called at most once per acker, from whatever thread settles it, and must not block: send
//! on a channel or update a tracker, and do the network round trip elsewhere.

use std::{
    fmt,
    sync::{
        Arc,
        atomic::{AtomicU8, Ordering},
    },
};

/// Receives the outcome of one delivered message. Implemented by transports.
///
/// Exactly one of the two methods is called, exactly once, for each [`Acker`] built over the
/// sink; it is called from the thread that settles the message (or drops its last clone) and
/// must return quickly without blocking.
pub trait AckSink: Send + Sync + 'static {
    /// The message was processed: acknowledge it upstream.
    fn ack(&self);

    /// The message was not processed: make it deliverable again.
    fn nack(&self, cause: NackCause);
}

/// Why a message was nacked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NackCause {
    /// A consumer called [`Acker::nack`].
    Explicit,
    /// Every clone of the message was dropped before anyone settled it.
    Dropped,
}

/// How a message was settled, as far as its [`Acker`] knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AckState {
    /// Neither acked nor nacked yet.
    Pending,
    /// Acked.
    Acked,
    /// Nacked, explicitly or by being dropped.
    Nacked,
}

const PENDING: u8 = 0;
const ACKED: u8 = 1;
const NACKED: u8 = 2;

/// The handle through which a delivered message is acked or nacked.
///
/// Cheap to clone; clones share one outcome. See the [module documentation](self) for the
/// contract, with the Kafka and Redis cases.
///
/// ```
/// use switchyard_core::{AckState, Acker};
///
/// let acker = Acker::noop();
/// assert!(acker.ack(), "the first call decides");
/// assert!(!acker.nack(), "later calls change nothing");
/// assert_eq!(acker.state(), AckState::Acked);
/// ```
#[derive(Clone)]
pub struct Acker {
    // One allocation per delivery: the state and the sink live together, behind one
    // reference count, and the sink's type is erased by the trait object.
    inner: Arc<dyn Settle>,
}

/// The shared state of one delivery: its outcome and the sink that hears it.
struct Inner<S: AckSink> {
    state: AtomicU8,
    sink: S,
}

/// What an [`Acker`] needs from its [`Inner`], whatever the sink's type.
trait Settle: Send + Sync {
    fn state(&self) -> &AtomicU8;
    fn settle(&self, outcome: u8, cause: NackCause) -> bool;
    fn has_upstream(&self) -> bool;
}

/// The sink of [`Acker::noop`]: nothing upstream waits.
struct Noop;

impl AckSink for Noop {
    fn ack(&self) {}
    fn nack(&self, _cause: NackCause) {}
}

impl Acker {
    /// An acker that reports the outcome to `sink`. One allocation.
    pub fn new(sink: impl AckSink) -> Self {
        Self {
            inner: Arc::new(Inner {
                state: AtomicU8::new(PENDING),
                sink,
            }),
        }
    }

    /// An acker that nothing upstream waits for, as on a message built by the application.
    /// It still records its state.
    pub fn noop() -> Self {
        Self {
            inner: Arc::new(Inner {
                state: AtomicU8::new(PENDING),
                sink: Noop,
            }),
        }
    }

    /// Marks the message processed. Returns `true` if this call decided the outcome, `false`
    /// if it had already been acked or nacked.
    pub fn ack(&self) -> bool {
        self.inner.settle(ACKED, NackCause::Explicit)
    }

    /// Marks the message not processed, so the transport redelivers it. Returns `true` if
    /// this call decided the outcome, `false` if it had already been acked or nacked.
    pub fn nack(&self) -> bool {
        self.inner.settle(NACKED, NackCause::Explicit)
    }

    /// How the message has been settled so far.
    pub fn state(&self) -> AckState {
        match self.inner.state().load(Ordering::Acquire) {
            PENDING => AckState::Pending,
            ACKED => AckState::Acked,
            _ => AckState::Nacked,
        }
    }

    /// Whether `self` and `other` settle the same delivery.
    pub fn same_delivery(&self, other: &Acker) -> bool {
        // Compare the data pointers only: the same allocation may be reached through
        // different vtable pointers.
        std::ptr::addr_eq(Arc::as_ptr(&self.inner), Arc::as_ptr(&other.inner))
    }
}

impl<S: AckSink> Settle for Inner<S> {
    fn state(&self) -> &AtomicU8 {
        &self.state
    }

    fn settle(&self, outcome: u8, cause: NackCause) -> bool {
        let decided = self
            .state
            .compare_exchange(PENDING, outcome, Ordering::AcqRel, Ordering::Acquire)
            .is_ok();
        if decided {
            if outcome == ACKED {
                self.sink.ack();
            } else {
                self.sink.nack(cause);
            }
        }
        decided
    }

    fn has_upstream(&self) -> bool {
        std::any::TypeId::of::<S>() != std::any::TypeId::of::<Noop>()
    }
}

impl<S: AckSink> Drop for Inner<S> {
    fn drop(&mut self) {
        // The last clone is gone: an unsettled message must be redelivered, not lost.
        self.settle(NACKED, NackCause::Dropped);
    }
}

impl fmt::Debug for Acker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acker")
            .field("state", &self.state())
            .field("upstream", &self.inner.has_upstream())
            .finish()
    }
}

#[cfg(test)]
mod tests;
