//! How the engine settles a subscribed message only once everything it led to is done.
//!
//! # The chain
//!
//! - A message taken from a subscriber (a *root*) gets a new [`Acker`] over a [`RootSink`],
//!   which forwards the outcome to the transport's own acker and counts it.
//! - When a handler returns no output, the worker acks the input at once.
//! - When it returns one output, the output takes the input's acker: the input is settled
//!   exactly when the output is (published, accepted and handled by the loop, or
//!   dead-lettered), with no allocation.
//! - When it returns several, each output gets an acker over a [`Group`] that settles the
//!   input once every output is settled: acked if all were acked, nacked otherwise.
//!
//! A loop message is an output like any other, so its root stays in flight until the loop
//! message itself, and whatever it produced in turn, is done. A transient failure anywhere
//! down the chain nacks the root, which its transport redelivers: nothing is acked before
//! it went somewhere. And since an unsettled acker that is dropped counts as nacked, a
//! message lost in a crashed task is redelivered too.

use std::sync::{
    Arc,
    atomic::{AtomicBool, AtomicUsize, Ordering},
};

use switchyard_core::{AckSink, Acker, NackCause};

use crate::stats::Counters;

/// Settles a root message upstream and counts it.
pub(crate) struct RootSink {
    upstream: Acker,
    counters: Arc<Counters>,
}

impl RootSink {
    /// An acker for a root message whose transport acker is `upstream`.
    pub(crate) fn acker(upstream: Acker, counters: Arc<Counters>) -> Acker {
        Acker::new(Self { upstream, counters })
    }
}

impl AckSink for RootSink {
    fn ack(&self) {
        // Upstream first, so that once the counters say "settled", the transport knows.
        self.upstream.ack();
        self.counters.settled(true);
    }

    fn nack(&self, _cause: NackCause) {
        self.upstream.nack();
        self.counters.settled(false);
    }
}

/// The outputs of one handled message that are not settled yet.
pub(crate) struct Group {
    remaining: AtomicUsize,
    failed: AtomicBool,
    input: Acker,
}

impl Group {
    /// `outputs` ackers that settle `input` once they are all settled. `outputs` must be at
    /// least 1; with 0 the input would never be settled, so it is acked at once instead.
    pub(crate) fn ackers(input: Acker, outputs: usize) -> impl Iterator<Item = Acker> {
        if outputs == 0 {
            input.ack();
        }
        let group = Arc::new(Group {
            remaining: AtomicUsize::new(outputs),
            failed: AtomicBool::new(false),
            input,
        });
        (0..outputs).map(move |_| Acker::new(GroupSink(group.clone())))
    }

    fn settle(&self, acked: bool) {
        if !acked {
            self.failed.store(true, Ordering::Release);
        }
        // The last one settles the input; `AcqRel` makes every earlier failure visible to it.
        if self.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
            if self.failed.load(Ordering::Acquire) {
                self.input.nack();
            } else {
                self.input.ack();
            }
        }
    }
}

/// One output's share of a [`Group`].
struct GroupSink(Arc<Group>);

impl AckSink for GroupSink {
    fn ack(&self) {
        self.0.settle(true);
    }

    fn nack(&self, _cause: NackCause) {
        self.0.settle(false);
    }
}

#[cfg(test)]
mod tests;
