//! The state machine through every transition, as scripts of steps and expected states.

use std::time::Duration;

use tokio::time::Instant;

use super::{CircuitState, Machine, Outcome, Refusal, Settings, Ticket, Trip};

/// One step of a script.
#[derive(Debug, Clone, Copy)]
enum Step {
    /// A call is admitted and ends with this outcome at once.
    Call(Outcome),
    /// A call is refused.
    Refused,
    /// The clock moves on, in seconds.
    Advance(u64),
}

use CircuitState::{Closed, HalfOpen, Open};
use Outcome::{Abandoned, Failure, Success};
use Step::{Advance, Call, Refused};

fn settings(trip: Trip, probes: u32) -> Settings {
    Settings {
        trip,
        cool_down: Duration::from_secs(10),
        probes,
    }
}

/// Runs `script`; after each step the state a caller would see must be the expected one.
fn check(settings: Settings, script: &[(Step, CircuitState)]) {
    let mut machine = Machine::new(settings);
    let mut now = Instant::now();
    for (index, &(step, expected)) in script.iter().enumerate() {
        match step {
            Call(outcome) => {
                let ticket = machine
                    .admit(now)
                    .unwrap_or_else(|refusal| panic!("step {index}: refused: {refusal:?}"));
                machine.record(ticket, outcome, now);
            }
            Refused => {
                assert!(machine.admit(now).is_err(), "step {index}: admitted");
            }
            Advance(secs) => now += Duration::from_secs(secs),
        }
        assert_eq!(machine.state(now), expected, "after step {index}: {step:?}");
    }
}

#[test]
fn consecutive_failures_open_then_a_probe_closes() {
    check(
        settings(Trip::Consecutive(3), 1),
        &[
            (Call(Failure), Closed),
            (Call(Failure), Closed),
            (Call(Success), Closed), // a success resets the run
            (Call(Failure), Closed),
            (Call(Failure), Closed),
            (Call(Failure), Open),
            (Refused, Open),
            (Advance(9), Open),
            (Refused, Open),
            (Advance(1), HalfOpen),
            (Call(Success), Closed),
            (Call(Failure), Closed), // the count starts again from zero
        ],
    );
}

#[test]
fn a_failed_probe_reopens_for_a_full_cool_down() {
    check(
        settings(Trip::Consecutive(1), 1),
        &[
            (Call(Failure), Open),
            (Advance(10), HalfOpen),
            (Call(Failure), Open),
            (Advance(9), Open),
            (Refused, Open),
            (Advance(1), HalfOpen),
            (Call(Success), Closed),
        ],
    );
}

#[test]
fn half_open_needs_every_probe_to_succeed() {
    check(
        settings(Trip::Consecutive(1), 2),
        &[
            (Call(Failure), Open),
            (Advance(10), HalfOpen),
            (Call(Success), HalfOpen),
            (Call(Success), Closed),
            (Call(Failure), Open),
            (Advance(10), HalfOpen),
            (Call(Success), HalfOpen),
            (Call(Failure), Open),
        ],
    );
}

#[test]
fn failure_ratio_is_judged_over_a_full_window() {
    let ratio = Trip::Ratio {
        ratio: 0.5,
        window: 4,
    };
    check(
        settings(ratio, 1),
        &[
            (Call(Failure), Closed),
            (Call(Failure), Closed),
            (Call(Failure), Closed), // 3 of 3, but the window is not full yet
            (Call(Success), Closed), // 3 of 4, but a success does not open the circuit
            (Call(Failure), Open),   // window: F F S F, 3 of 4
            (Advance(10), HalfOpen),
            (Call(Success), Closed),
            (Call(Success), Closed),
            (Call(Failure), Closed),
            (Call(Success), Closed),
            (Call(Success), Closed), // window: S F S S, 1 of 4
            (Call(Failure), Open),   // window: F S S F, 2 of 4
        ],
    );
}

#[test]
fn probes_are_limited_and_a_cancelled_probe_gives_its_slot_back() {
    let mut machine = Machine::new(settings(Trip::Consecutive(1), 1));
    let now = Instant::now();
    let first = machine.admit(now).unwrap();
    machine.record(first, Failure, now);
    let later = now + Duration::from_secs(10);

    let probe = machine.admit(later).unwrap();
    assert_eq!(machine.admit(later).unwrap_err(), Refusal::ProbesTaken);
    machine.record(probe, Abandoned, later);
    assert_eq!(machine.state(later), HalfOpen);

    let probe = machine.admit(later).unwrap();
    machine.record(probe, Success, later);
    assert_eq!(machine.state(later), Closed);
}

#[test]
fn outcomes_from_an_older_state_are_ignored() {
    let mut machine = Machine::new(settings(Trip::Consecutive(1), 1));
    let now = Instant::now();
    let slow: Ticket = machine.admit(now).unwrap();
    let fast = machine.admit(now).unwrap();
    machine.record(fast, Failure, now);
    assert_eq!(machine.state(now), Open);
    // The slow call was admitted while closed: its success must not close the circuit.
    machine.record(slow, Success, now);
    assert_eq!(machine.state(now), Open);
}

#[test]
fn open_reports_how_long_until_probing() {
    let mut machine = Machine::new(settings(Trip::Consecutive(1), 1));
    let now = Instant::now();
    let ticket = machine.admit(now).unwrap();
    machine.record(ticket, Failure, now);
    assert_eq!(
        machine.admit(now + Duration::from_secs(4)).unwrap_err(),
        Refusal::Open {
            retry_after: Duration::from_secs(6)
        }
    );
}
