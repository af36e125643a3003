//! [`DeliverySink`]: the [`AckSink`] behind the acker of a message delivered to one
//! subscription, which settles the delivery with it.

use std::sync::Arc;

use bytes::Bytes;
use switchyard_core::{AckSink, Attributes, NackCause};

use super::{entry::Entry, member::Member};

/// One delivery: the subscription it belongs to and what is needed to deliver it again.
///
/// It keeps the payload and attributes (two reference counts, no copy) so that a nack can
/// redeliver without any table of in-flight messages: an ack is two atomic operations and
/// no lock.
pub(super) struct DeliverySink {
    pub(super) member: Arc<Member>,
    pub(super) payload: Bytes,
    pub(super) attributes: Attributes,
    /// How often the message has been delivered, this delivery included.
    pub(super) deliveries: u32,
}

impl AckSink for DeliverySink {
    fn ack(&self) {
        self.member.on_ack();
    }

    fn nack(&self, _cause: NackCause) {
        // An explicit nack and a dropped message are redelivered alike.
        self.member.on_nack(Entry::single(
            self.payload.clone(),
            self.attributes.clone(),
            self.deliveries,
        ));
    }
}
