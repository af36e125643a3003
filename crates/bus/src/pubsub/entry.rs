//! [`Entry`]: a message as a subscription's queue holds it, one delivery slot of a [`Block`],
//! the one allocation a publish makes for all its targets.

use std::{fmt, sync::Arc};

use bytes::Bytes;
use switchyard_core::{AckSlot, Acker, Attributes, Message, NackCause, SlotSink};

use super::{member::Member, sink::DeliverySink};

/// Targets whose slots a block holds without a second allocation: a fan-out up to this
/// wide costs one allocation per publish.
const INLINE_SLOTS: usize = 4;

/// The delivery slots of a block: a few inline, any more in a second allocation.
struct Slots {
    len: usize,
    inline: [AckSlot; INLINE_SLOTS],
    /// The slots past the inline ones; empty (not allocated) for the usual fan-out.
    more: Box<[AckSlot]>,
}

impl Slots {
    fn new(len: usize) -> Self {
        Self {
            len,
            inline: std::array::from_fn(|_| AckSlot::new()),
            more: (INLINE_SLOTS..len).map(|_| AckSlot::new()).collect(),
        }
    }

    #[inline]
    fn get(&self, slot: usize) -> Option<&AckSlot> {
        if slot < INLINE_SLOTS {
            self.inline[..self.len.min(INLINE_SLOTS)].get(slot)
        } else {
            self.more.get(slot - INLINE_SLOTS)
        }
    }
}

/// A published message as the bus holds it: the payload and attributes, stored once for
/// every target the publish went to, and one delivery slot per target.
///
/// It is also the [`SlotSink`] of those deliveries' ackers, whose consumer is the
/// subscription that delivered the slot: a publish allocates once, whatever its fan-out,
/// instead of once per delivery; and a nack needs no table of in-flight messages, since
/// the acker reaches the message it settles. An ack is an atomic compare-and-swap on the
/// slot and an atomic add on the subscription, and takes no lock.
pub(super) struct Block {
    payload: Bytes,
    attributes: Attributes,
    /// How often the message was delivered before: 0 for a new one.
    deliveries: u32,
    slots: Slots,
}

impl Block {
    fn new(payload: Bytes, attributes: Attributes, deliveries: u32, targets: usize) -> Arc<Self> {
        Arc::new(Self {
            payload,
            attributes,
            deliveries,
            slots: Slots::new(targets),
        })
    }
}

impl SlotSink for Block {
    type Consumer = Member;

    fn slot(&self, slot: usize) -> Option<&AckSlot> {
        self.slots.get(slot)
    }

    fn ack(&self, _slot: usize, member: &Member) {
        member.on_ack();
    }

    fn nack(&self, _slot: usize, member: Arc<Member>, _cause: NackCause) {
        // An explicit nack and a dropped message are redelivered alike, as a message of
        // their own: the other targets' deliveries are not concerned.
        member.on_nack(Entry::single(
            self.payload.clone(),
            self.attributes.clone(),
            self.deliveries.saturating_add(1),
        ));
    }
}

/// A message as a subscription's queue holds it, not delivered yet.
///
/// Not `Clone`: each is queued once and delivered at most once, so that its ack settles
/// one delivery.
pub(super) struct Entry(Repr);

enum Repr {
    /// A message for one subscription: a publish to one target, a redelivery, a replay. Its
    /// acker is made at delivery ([`DeliverySink`]), and freed soon after by the consumer
    /// that made it, which is what the allocator serves fastest.
    Single {
        payload: Bytes,
        attributes: Attributes,
        /// How often the message was delivered before.
        deliveries: u32,
    },
    /// One target's slot of a publish to several.
    Slot { block: Arc<Block>, slot: usize },
}

impl Entry {
    /// A message for one subscription, delivered `deliveries` times before.
    #[inline]
    pub(super) fn single(payload: Bytes, attributes: Attributes, deliveries: u32) -> Self {
        Self(Repr::Single {
            payload,
            attributes,
            deliveries,
        })
    }

    /// How often the message was delivered before.
    pub(super) fn deliveries(&self) -> u32 {
        match &self.0 {
            Repr::Single { deliveries, .. } => *deliveries,
            Repr::Slot { block, .. } => block.deliveries,
        }
    }

    /// The message's payload.
    #[cfg(test)]
    pub(super) fn payload(&self) -> &Bytes {
        match &self.0 {
            Repr::Single { payload, .. } => payload,
            Repr::Slot { block, .. } => &block.payload,
        }
    }

    /// Delivers the message through `member`, which its acker then settles with.
    pub(super) fn deliver(self, member: &Arc<Member>) -> Message {
        match self.0 {
            Repr::Single {
                payload,
                attributes,
                deliveries,
            } => {
                let sink = DeliverySink {
                    member: Arc::clone(member),
                    payload: payload.clone(),
                    attributes: attributes.clone(),
                    deliveries: deliveries.saturating_add(1),
                };
                Message::from_parts(payload, attributes, Acker::new(sink))
            }
            Repr::Slot { block, slot } => {
                let (payload, attributes) = (block.payload.clone(), block.attributes.clone());
                match Acker::for_slot(Arc::clone(&block), slot, Arc::clone(member)) {
                    Some(acker) => Message::from_parts(payload, attributes, acker),
                    // Not reached: entries are made for their block's slots. Were one not,
                    // it goes out as a message of its own rather than unsettled.
                    None => Self::single(payload, attributes, block.deliveries).deliver(member),
                }
            }
        }
    }
}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("Entry");
        if let Repr::Slot { slot, .. } = &self.0 {
            debug.field("slot", slot);
        }
        debug
            .field("deliveries", &self.deliveries())
            .finish_non_exhaustive()
    }
}

/// The entries of one publish, one per target, handed out in target order.
///
/// A publish to one target makes a [single](Entry::single) entry; a publish to several makes
/// one [`Block`] for all of them: one allocation per publish, where an acker per delivery
/// would be one per target.
pub(super) enum Entries {
    One(Option<Entry>),
    /// The block, until the last target takes it.
    Shared(Option<Arc<Block>>),
}

impl Entries {
    /// The entries of a new message published to `targets` targets.
    #[inline]
    pub(super) fn new(payload: Bytes, attributes: Attributes, targets: usize) -> Self {
        if targets <= 1 {
            Self::One(Some(Entry::single(payload, attributes, 0)))
        } else {
            Self::Shared(Some(Block::new(payload, attributes, 0, targets)))
        }
    }

    /// The entry of target `at`; `last` if no target comes after it, which then takes the
    /// block itself rather than a reference count of it.
    #[inline]
    pub(super) fn take(&mut self, at: usize, last: bool) -> Option<Entry> {
        match self {
            Self::One(entry) => entry.take(),
            Self::Shared(block) => {
                let block = if last { block.take() } else { block.clone() };
                block.map(|block| {
                    debug_assert!(at < block.slots.len, "a block has a slot per target");
                    Entry(Repr::Slot { block, slot: at })
                })
            }
        }
    }
}

#[cfg(test)]
mod tests;
