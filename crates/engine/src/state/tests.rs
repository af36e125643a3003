//! The whole transition table, checked cell by cell.

use super::EngineState::{self, Created, Running, Starting, Stopped, Stopping};
use crate::EngineError;

const ALL: [EngineState; 5] = [Created, Starting, Running, Stopping, Stopped];

/// The allowed transitions; every other pair is refused.
const ALLOWED: [(EngineState, EngineState); 5] = [
    (Created, Starting),
    (Starting, Running),
    (Starting, Stopped),
    (Running, Stopping),
    (Stopping, Stopped),
];

fn check(from: EngineState, to: EngineState, allowed: bool) {
    assert_eq!(from.can_transition_to(to), allowed, "{from} -> {to}");
    let mut state = from;
    match state.transition(to) {
        Ok(()) => {
            assert!(allowed, "{from} -> {to} must be refused");
            assert_eq!(state, to);
        }
        Err(EngineError::InvalidTransition { from: f, to: t }) => {
            assert!(!allowed, "{from} -> {to} must be allowed");
            assert_eq!((f, t), (from, to));
            assert_eq!(state, from, "a refused transition changes nothing");
        }
        Err(other) => panic!("unexpected error {other}"),
    }
}

#[test]
fn every_pair_of_states_follows_the_table() {
    for from in ALL {
        for to in ALL {
            check(from, to, ALLOWED.contains(&(from, to)));
        }
    }
}

#[test]
fn states_display_as_lowercase_words() {
    let words: Vec<String> = ALL.iter().map(ToString::to_string).collect();
    assert_eq!(
        words,
        ["created", "starting", "running", "stopping", "stopped"]
    );
}

#[test]
fn refused_transitions_say_from_and_to() {
    let mut state = Stopped;
    let err = state.transition(Starting).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid engine transition from stopped to starting"
    );
}
