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
//!
//! A transport that delivers one message to many consumers at once (a fan-out) can instead
//! give the deliveries one shared allocation: a [`SlotSink`] with one [`AckSlot`] per
//! delivery, and an acker per slot from [`Acker::for_slot`]. Each slot keeps the contract
//! above on its own.

use std::{
    fmt,
    sync::{
        Arc,
        atomic::{AtomicU8, Ordering},
    },
};

mod slots;

use slots::SlotRef;
pub use slots::{AckSlot, SlotSink};

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
pub struct Acker {
    // One allocation per delivery: the state and the sink live together, behind one
    // reference count, and the sink's type is erased by the trait object. Or, from
    // `for_slot`, one allocation shared by several deliveries, each its own `slot` of it.
    inner: Arc<dyn Settle>,
    /// The delivery's slot in a shared allocation and its consumer; `None` for an
    /// allocation of its own, whose reference count is then the acker's clone count, and
    /// whose drop settles it.
    slot: Option<SlotRef>,
}

/// The shared state of one delivery: its outcome and the sink that hears it.
struct Inner<S: AckSink> {
    state: AtomicU8,
    sink: S,
}

/// What an [`Acker`] needs from its allocation, whatever the sink's type: an [`Inner`] of
/// one delivery, or a [`SlotSink`] of several. `slot` is the acker's own.
trait Settle: Send + Sync {
    fn state(&self, slot: Option<&SlotRef>) -> u8;
    fn settle(&self, slot: Option<&SlotRef>, outcome: u8, cause: NackCause) -> bool;
    /// A clone of the acker of `slot` was made.
    fn retain(&self, slot: &SlotRef);
    /// A clone of the acker of `slot` was dropped.
    fn release(&self, slot: &SlotRef);
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
            slot: None,
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
            slot: None,
        }
    }

    /// Marks the message processed. Returns `true` if this call decided the outcome, `false`
    /// if it had already been acked or nacked.
    #[inline]
    pub fn ack(&self) -> bool {
        self.inner
            .settle(self.slot.as_ref(), ACKED, NackCause::Explicit)
    }

    /// Marks the message not processed, so the transport redelivers it. Returns `true` if
    /// this call decided the outcome, `false` if it had already been acked or nacked.
    #[inline]
    pub fn nack(&self) -> bool {
        self.inner
            .settle(self.slot.as_ref(), NACKED, NackCause::Explicit)
    }

    /// How the message has been settled so far.
    #[inline]
    pub fn state(&self) -> AckState {
        match self.inner.state(self.slot.as_ref()) {
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
            && self.slot.as_ref().map(|slot| slot.index)
                == other.slot.as_ref().map(|slot| slot.index)
    }
}

impl Clone for Acker {
    #[inline]
    fn clone(&self) -> Self {
        if let Some(slot) = &self.slot {
            self.inner.retain(slot);
        }
        Self {
            inner: Arc::clone(&self.inner),
            slot: self.slot.clone(),
        }
    }
}

impl Drop for Acker {
    #[inline]
    fn drop(&mut self) {
        // A solo acker's allocation settles when its last clone drops it (see `Inner`'s
        // `Drop`); a slot's clones are counted by the slot.
        if let Some(slot) = &self.slot {
            self.inner.release(slot);
        }
    }
}

/// Moves `state` from pending to `outcome`; returns whether this call decided.
#[inline]
fn decide(state: &AtomicU8, outcome: u8) -> bool {
    state
        .compare_exchange(PENDING, outcome, Ordering::AcqRel, Ordering::Acquire)
        .is_ok()
}

impl<S: AckSink> Settle for Inner<S> {
    fn state(&self, _slot: Option<&SlotRef>) -> u8 {
        self.state.load(Ordering::Acquire)
    }

    fn settle(&self, _slot: Option<&SlotRef>, outcome: u8, cause: NackCause) -> bool {
        let decided = decide(&self.state, outcome);
        if decided {
            if outcome == ACKED {
                self.sink.ack();
            } else {
                self.sink.nack(cause);
            }
        }
        decided
    }

    fn retain(&self, _slot: &SlotRef) {}

    fn release(&self, _slot: &SlotRef) {}

    fn has_upstream(&self) -> bool {
        std::any::TypeId::of::<S>() != std::any::TypeId::of::<Noop>()
    }
}

impl<S: AckSink> Drop for Inner<S> {
    fn drop(&mut self) {
        // The last clone is gone: an unsettled message must be redelivered, not lost. No
        // one else can reach the state now, so no atomic operation is needed to decide.
        let state = self.state.get_mut();
        if *state == PENDING {
            *state = NACKED;
            self.sink.nack(NackCause::Dropped);
        }
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
