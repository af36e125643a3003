//! Tests of ack idempotence, drop-counts-as-nack and concurrent settlement.

use std::sync::{Arc, Mutex};

use super::*;

/// Records every call the acker makes, so that tests can count them.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<&'static str>>>);

impl Recorder {
    fn calls(&self) -> Vec<&'static str> {
        self.0.lock().unwrap().clone()
    }
}

impl AckSink for Recorder {
    fn ack(&self) {
        self.0.lock().unwrap().push("ack");
    }

    fn nack(&self, cause: NackCause) {
        self.0.lock().unwrap().push(match cause {
            NackCause::Explicit => "nack",
            NackCause::Dropped => "dropped",
        });
    }
}

#[test]
fn ack_is_idempotent_and_first_call_decides() {
    let recorder = Recorder::default();
    let acker = Acker::new(recorder.clone());
    assert_eq!(acker.state(), AckState::Pending);
    assert!(acker.ack());
    assert!(!acker.ack());
    assert!(!acker.nack());
    assert_eq!(acker.state(), AckState::Acked);
    drop(acker);
    assert_eq!(
        recorder.calls(),
        ["ack"],
        "upstream hears exactly one outcome"
    );
}

#[test]
fn nack_is_idempotent_and_first_call_decides() {
    let recorder = Recorder::default();
    let acker = Acker::new(recorder.clone());
    assert!(acker.nack());
    assert!(!acker.nack());
    assert!(!acker.ack());
    assert_eq!(acker.state(), AckState::Nacked);
    drop(acker);
    assert_eq!(recorder.calls(), ["nack"]);
}

#[test]
fn dropping_unsettled_counts_as_nack() {
    let recorder = Recorder::default();
    drop(Acker::new(recorder.clone()));
    assert_eq!(recorder.calls(), ["dropped"]);
}

#[test]
fn drop_waits_for_the_last_clone() {
    let recorder = Recorder::default();
    let acker = Acker::new(recorder.clone());
    let clone = acker.clone();
    assert!(clone.same_delivery(&acker));
    drop(acker);
    assert!(recorder.calls().is_empty(), "a clone is still alive");
    assert!(clone.ack());
    drop(clone);
    assert_eq!(recorder.calls(), ["ack"], "acked, so the drop adds nothing");
}

#[test]
fn separate_deliveries_are_separate() {
    assert!(!Acker::noop().same_delivery(&Acker::noop()));
}

/// Four threads settle clones of `acker` at once, two acking and two nacking; returns how
/// many of them decided.
pub(super) fn race_to_settle(acker: &Acker) -> usize {
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|i| {
                let acker = acker.clone();
                scope.spawn(move || {
                    if i % 2 == 0 {
                        acker.ack()
                    } else {
                        acker.nack()
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| usize::from(h.join().unwrap()))
            .sum()
    })
}

#[test]
fn concurrent_settlement_has_exactly_one_winner() {
    for _ in 0..200 {
        let recorder = Recorder::default();
        let acker = Acker::new(recorder.clone());
        assert_eq!(race_to_settle(&acker), 1);
        drop(acker);
        assert_eq!(recorder.calls().len(), 1);
    }
}
