//! Tests of slot ackers: each slot behaves as an acker of its own, checked against
//! [`Acker::new`] as the model.

use std::sync::{Arc, Mutex};

use proptest::prelude::*;

use super::*;
use crate::{AckSink, AckState};

/// What a sink heard, in order: `(slot, outcome)`.
type Calls = Arc<Mutex<Vec<(usize, &'static str)>>>;

fn outcome(cause: NackCause) -> &'static str {
    match cause {
        NackCause::Explicit => "nack",
        NackCause::Dropped => "dropped",
    }
}

/// A fan-out of `slots.len()` deliveries that records what it hears.
struct Recorder {
    slots: Vec<AckSlot>,
    calls: Calls,
}

impl Recorder {
    fn new(slots: usize) -> Arc<Self> {
        Arc::new(Self {
            slots: (0..slots).map(|_| AckSlot::new()).collect(),
            calls: Calls::default(),
        })
    }

    fn calls(&self) -> Vec<(usize, &'static str)> {
        self.calls.lock().unwrap().clone()
    }
}

/// The tests name each slot's consumer after its slot, so the calls show that each
/// outcome reaches its own consumer.
impl SlotSink for Recorder {
    type Consumer = usize;

    fn slot(&self, slot: usize) -> Option<&AckSlot> {
        self.slots.get(slot)
    }

    fn ack(&self, _slot: usize, consumer: &usize) {
        self.calls.lock().unwrap().push((*consumer, "ack"));
    }

    fn nack(&self, _slot: usize, consumer: Arc<usize>, cause: NackCause) {
        self.calls.lock().unwrap().push((*consumer, outcome(cause)));
    }
}

/// The acker of `slot` of `sink`, consumed by a consumer named after the slot.
fn slot_acker(sink: &Arc<Recorder>, slot: usize) -> Acker {
    Acker::for_slot(Arc::clone(sink), slot, Arc::new(slot)).unwrap()
}

/// The model's sink: a solo acker that records under its slot's number.
struct SoloRecorder {
    slot: usize,
    calls: Calls,
}

impl AckSink for SoloRecorder {
    fn ack(&self) {
        self.calls.lock().unwrap().push((self.slot, "ack"));
    }

    fn nack(&self, cause: NackCause) {
        self.calls.lock().unwrap().push((self.slot, outcome(cause)));
    }
}

#[test]
fn each_slot_is_settled_on_its_own() {
    let sink = Recorder::new(3);
    let ackers: Vec<_> = (0..3).map(|slot| slot_acker(&sink, slot)).collect();
    assert!(ackers[1].ack());
    assert!(!ackers[1].nack(), "the first call decides");
    assert!(ackers[2].nack());
    assert_eq!(ackers[0].state(), AckState::Pending);
    assert_eq!(ackers[1].state(), AckState::Acked);
    assert_eq!(ackers[2].state(), AckState::Nacked);
    drop(ackers);
    assert_eq!(sink.calls(), [(1, "ack"), (2, "nack"), (0, "dropped")]);
}

#[test]
fn a_slot_waits_for_its_last_clone() {
    let sink = Recorder::new(2);
    let acker = slot_acker(&sink, 0);
    let clone = acker.clone();
    let other = slot_acker(&sink, 1);
    assert!(clone.same_delivery(&acker));
    assert!(
        !other.same_delivery(&acker),
        "same allocation, another delivery"
    );
    drop(acker);
    assert!(sink.calls().is_empty(), "a clone is still alive");
    drop(clone);
    assert_eq!(sink.calls(), [(0, "dropped")]);
    drop(other);
    assert_eq!(sink.calls(), [(0, "dropped"), (1, "dropped")]);
}

#[test]
fn a_slot_is_never_settled_twice() {
    let sink = Recorder::new(1);
    drop(slot_acker(&sink, 0));
    let again = slot_acker(&sink, 0);
    assert_eq!(
        again.state(),
        AckState::Nacked,
        "made again, it is settled already"
    );
    assert!(!again.ack());
    drop(again);
    assert_eq!(sink.calls(), [(0, "dropped")]);
}

#[test]
fn missing_slots_make_no_acker() {
    let sink = Recorder::new(1);
    assert!(Acker::for_slot(Arc::clone(&sink), 1, Arc::new(1)).is_none());
    assert!(Acker::for_slot(Arc::clone(&sink), usize::MAX, Arc::new(0)).is_none());
    assert!(sink.calls().is_empty());
}

#[test]
fn concurrent_settlement_of_a_slot_has_exactly_one_winner() {
    for _ in 0..200 {
        let sink = Recorder::new(2);
        let acker = slot_acker(&sink, 1);
        assert_eq!(crate::ack::tests::race_to_settle(&acker), 1);
        drop(acker);
        assert_eq!(sink.calls().len(), 1);
    }
}

/// One step on one slot's ackers.
#[derive(Debug, Clone)]
enum Op {
    /// Make the slot's first acker, if it has none yet.
    Make,
    Clone(usize),
    Drop(usize),
    Ack(usize),
    Nack(usize),
}

fn op() -> impl Strategy<Value = (usize, Op)> {
    let op = prop_oneof![
        Just(Op::Make),
        any::<usize>().prop_map(Op::Clone),
        any::<usize>().prop_map(Op::Drop),
        any::<usize>().prop_map(Op::Ack),
        any::<usize>().prop_map(Op::Nack),
    ];
    (0..4usize, op)
}

/// The ackers alive for each slot, and whether the slot got its first one.
#[derive(Default)]
struct Side {
    ackers: Vec<Vec<Acker>>,
    made: Vec<bool>,
}

impl Side {
    fn new(slots: usize) -> Self {
        Self {
            ackers: (0..slots).map(|_| Vec::new()).collect(),
            made: vec![false; slots],
        }
    }

    /// Applies `op` to `slot`; returns what an ack or a nack returned.
    fn apply(&mut self, slot: usize, op: &Op, make: impl FnOnce() -> Acker) -> Option<bool> {
        let ackers = &mut self.ackers[slot];
        let pick = |index: usize| index % ackers.len();
        match *op {
            Op::Make if !self.made[slot] => {
                self.made[slot] = true;
                ackers.push(make());
            }
            Op::Make => {}
            _ if ackers.is_empty() => {}
            Op::Clone(index) => {
                let clone = ackers[pick(index)].clone();
                ackers.push(clone);
            }
            Op::Drop(index) => {
                ackers.swap_remove(pick(index));
            }
            Op::Ack(index) => return Some(ackers[pick(index)].ack()),
            Op::Nack(index) => return Some(ackers[pick(index)].nack()),
        }
        None
    }

    fn states(&self) -> Vec<Option<AckState>> {
        self.ackers
            .iter()
            .map(|ackers| ackers.first().map(Acker::state))
            .collect()
    }
}

proptest! {
    /// Any sequence of makes, clones, drops, acks and nacks on the slots of one sink does
    /// what it does on as many solo ackers: the same answers, states and calls, in order.
    #[test]
    fn slots_behave_as_solo_ackers(ops in prop::collection::vec(op(), 0..64)) {
        const SLOTS: usize = 4;
        let sink = Recorder::new(SLOTS);
        let model_calls = Calls::default();
        let mut real = Side::new(SLOTS);
        let mut model = Side::new(SLOTS);
        for (slot, op) in &ops {
            let got = real.apply(*slot, op, || slot_acker(&sink, *slot));
            let want = model.apply(*slot, op, || {
                Acker::new(SoloRecorder { slot: *slot, calls: Arc::clone(&model_calls) })
            });
            prop_assert_eq!(got, want, "{:?} on slot {}", op, slot);
            prop_assert_eq!(real.states(), model.states());
            prop_assert_eq!(sink.calls(), model_calls.lock().unwrap().clone());
        }
        drop(real);
        drop(model);
        prop_assert_eq!(sink.calls(), model_calls.lock().unwrap().clone());
    }
}
