//! Ackers that share one allocation: [`SlotSink`], [`AckSlot`] and [`Acker::for_slot`].
//!
//! A fan-out delivers one message to several consumers. With [`Acker::new`] each delivery
//! allocates its own acker; with a [`SlotSink`] the transport allocates once per message,
//! keeps one [`AckSlot`] per delivery in it, and hands each delivery an acker for its slot.
//! Each slot keeps the whole contract of the [module documentation](super) on its own: it is
//! settled once, its clones share its outcome, and dropping its last clone unsettled is a
//! nack with [`NackCause::Dropped`].

use std::{
    any::Any,
    sync::{
        Arc,
        atomic::{AtomicU8, AtomicU32, Ordering},
    },
};

use super::{ACKED, Acker, NACKED, NackCause, PENDING, Settle, decide};

/// The ack state of one delivery in a [`SlotSink`]: its outcome and the number of its
/// ackers alive. Opaque; the sink only stores it.
#[derive(Debug, Default)]
pub struct AckSlot {
    state: AtomicU8,
    ackers: AtomicU32,
}

impl AckSlot {
    /// A slot whose delivery is pending and has no acker yet.
    pub const fn new() -> Self {
        Self {
            state: AtomicU8::new(PENDING),
            ackers: AtomicU32::new(0),
        }
    }
}

/// Receives the outcomes of several deliveries that share one allocation, one
/// [`AckSlot`] each. Implemented by transports.
///
/// Each delivery has a consumer, given to [`Acker::for_slot`] and handed back with its
/// outcome: whatever the transport must tell (the subscription that received it, say),
/// which the shared allocation cannot hold, since the consumer of a slot may be known only
/// when it is delivered.
///
/// For each slot that [`Acker::for_slot`] made an acker for, exactly one of
/// [`ack`](Self::ack) and [`nack`](Self::nack) is called, exactly once, from the thread
/// that settles it (or drops its last clone); like [`AckSink`](super::AckSink)'s, it must
/// return quickly without blocking. A slot that never got an acker is never settled.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use switchyard_core::{AckSlot, Acker, NackCause, SlotSink};
///
/// /// One message delivered to two consumers, named by a string.
/// struct FanOut {
///     slots: [AckSlot; 2],
///     acked: Mutex<Vec<(usize, &'static str)>>,
/// }
///
/// impl SlotSink for FanOut {
///     type Consumer = &'static str;
///     fn slot(&self, slot: usize) -> Option<&AckSlot> {
///         self.slots.get(slot)
///     }
///     fn ack(&self, slot: usize, consumer: &&'static str) {
///         self.acked.lock().unwrap().push((slot, *consumer));
///     }
///     fn nack(&self, _slot: usize, _consumer: Arc<&'static str>, _cause: NackCause) {}
/// }
///
/// let fan_out = Arc::new(FanOut { slots: [AckSlot::new(), AckSlot::new()], acked: Mutex::default() });
/// let first = Acker::for_slot(Arc::clone(&fan_out), 0, Arc::new("audit")).expect("slot 0 exists");
/// let second = Acker::for_slot(Arc::clone(&fan_out), 1, Arc::new("billing")).expect("slot 1 exists");
/// assert!(Acker::for_slot(Arc::clone(&fan_out), 2, Arc::new("none")).is_none(), "there is no slot 2");
///
/// assert!(second.ack());
/// assert!(!first.same_delivery(&second));
/// assert_eq!(*fan_out.acked.lock().unwrap(), [(1, "billing")], "each slot is settled on its own");
/// ```
pub trait SlotSink: Send + Sync + 'static {
    /// Who received a delivery, as the sink needs to know it to settle it.
    type Consumer: Send + Sync + 'static;

    /// The state of delivery `slot`, or `None` if there is no such slot. Must answer the
    /// same slot for the same index every time.
    fn slot(&self, slot: usize) -> Option<&AckSlot>;

    /// Delivery `slot`, made to `consumer`, was processed: acknowledge it upstream.
    fn ack(&self, slot: usize, consumer: &Self::Consumer);

    /// Delivery `slot`, made to `consumer`, was not processed: make it deliverable again.
    ///
    /// The consumer comes as a reference count of its own, for a redelivery that keeps it:
    /// a nack is the slow path, an ack is not.
    fn nack(&self, slot: usize, consumer: Arc<Self::Consumer>, cause: NackCause);
}

/// An acker's slot in a [`SlotSink`], and the consumer its delivery was made to.
#[derive(Clone)]
pub(super) struct SlotRef {
    pub(super) index: usize,
    consumer: Arc<dyn Any + Send + Sync>,
}

impl Acker {
    /// An acker for delivery `slot` of `sink`, made to `consumer`; `None` if `sink` has no
    /// such slot.
    ///
    /// Make one per slot and clone it if need be. Making another for a slot whose
    /// ackers were all dropped gives one that is already settled: the slot is never
    /// settled twice.
    pub fn for_slot<S: SlotSink>(
        sink: Arc<S>,
        slot: usize,
        consumer: Arc<S::Consumer>,
    ) -> Option<Self> {
        sink.slot(slot)?.ackers.fetch_add(1, Ordering::Relaxed);
        Some(Self {
            inner: sink,
            slot: Some(SlotRef {
                index: slot,
                consumer,
            }),
        })
    }
}

impl SlotRef {
    /// The consumer as the sink's type knows it.
    fn consumer<S: SlotSink>(&self) -> Option<&S::Consumer> {
        self.consumer.downcast_ref::<S::Consumer>()
    }

    /// The consumer as the sink's type knows it, with a reference count of its own.
    fn owned_consumer<S: SlotSink>(&self) -> Option<Arc<S::Consumer>> {
        Arc::clone(&self.consumer).downcast::<S::Consumer>().ok()
    }
}

impl<S: SlotSink> Settle for S {
    fn state(&self, slot: Option<&SlotRef>) -> u8 {
        slot.and_then(|slot| self.slot(slot.index))
            .map_or(NACKED, |state| state.state.load(Ordering::Acquire))
    }

    fn settle(&self, slot: Option<&SlotRef>, outcome: u8, cause: NackCause) -> bool {
        // `for_slot` made the acker with a slot and a consumer of the sink's type, so
        // neither is missing.
        let Some((slot, consumer)) = slot.and_then(|slot| Some((slot, slot.consumer::<S>()?)))
        else {
            return false;
        };
        let decided = self
            .slot(slot.index)
            .is_some_and(|state| decide(&state.state, outcome));
        if decided {
            if outcome == ACKED {
                self.ack(slot.index, consumer);
            } else if let Some(consumer) = slot.owned_consumer::<S>() {
                self.nack(slot.index, consumer, cause);
            }
        }
        decided
    }

    fn retain(&self, slot: &SlotRef) {
        if let Some(state) = self.slot(slot.index) {
            // As for `Arc`'s count: a new clone is made from a live one, which keeps the
            // slot alive, so no ordering is needed here.
            state.ackers.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn release(&self, slot: &SlotRef) {
        let Some(state) = self.slot(slot.index) else {
            return;
        };
        // The last clone is gone: an unsettled delivery must be redelivered, not lost. The
        // load spares the compare-and-swap when it was settled, as it usually is.
        if state.ackers.fetch_sub(1, Ordering::AcqRel) == 1
            && state.state.load(Ordering::Acquire) == PENDING
        {
            self.settle(Some(slot), NACKED, NackCause::Dropped);
        }
    }

    fn has_upstream(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests;
