//! The ack chain: roots count, groups settle their input once, and only then.

use std::sync::Arc;

use proptest::prelude::*;
use switchyard_core::{AckState, Acker};

use super::{Group, RootSink};
use crate::stats::Counters;

#[test]
fn a_root_settles_upstream_and_counts() {
    let counters = Arc::new(Counters::default());
    for acked in [true, false] {
        let upstream = Acker::noop();
        counters.received();
        let root = RootSink::acker(upstream.clone(), counters.clone());
        if acked {
            root.ack();
        } else {
            drop(root);
        }
        let expected = if acked {
            AckState::Acked
        } else {
            AckState::Nacked
        };
        assert_eq!(upstream.state(), expected);
    }
    let counts = counters.snapshot();
    assert_eq!((counts.received, counts.acked, counts.nacked), (2, 1, 1));
    assert_eq!(counters.in_flight(), 0);
}

#[test]
fn a_group_of_zero_acks_its_input_at_once() {
    let input = Acker::noop();
    assert_eq!(Group::ackers(input.clone(), 0).count(), 0);
    assert_eq!(input.state(), AckState::Acked);
}

proptest! {
    /// Reference model: the input is settled exactly when the last output is, acked if and
    /// only if every output was acked.
    #[test]
    fn a_group_settles_its_input_once_after_every_output(
        outcomes in proptest::collection::vec(proptest::option::of(any::<bool>()), 1..12),
    ) {
        let input = Acker::noop();
        let ackers: Vec<Acker> = Group::ackers(input.clone(), outcomes.len()).collect();
        for (i, (acker, outcome)) in ackers.into_iter().zip(&outcomes).enumerate() {
            prop_assert_eq!(input.state(), AckState::Pending, "settled early, before output {}", i);
            match outcome {
                Some(true) => { acker.ack(); }
                Some(false) => { acker.nack(); }
                // Dropped unsettled: counts as a nack.
                None => drop(acker),
            }
        }
        let expected = if outcomes.iter().all(|o| *o == Some(true)) {
            AckState::Acked
        } else {
            AckState::Nacked
        };
        prop_assert_eq!(input.state(), expected);
    }
}
