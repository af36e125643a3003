//! The state machine through every transition, as scripts of steps and expected states,
//! with each trip rule and the two combined.

use std::time::Duration;

use tokio::time::Instant;

use super::{CallOutcome, CircuitMachine, CircuitPolicy, CircuitState, Refusal, Ticket};
use crate::middleware::breaker::CircuitPolicyBuilder;

/// One step of a script.
#[derive(Debug, Clone, Copy)]
enum Step {
    /// A call is admitted and ends with this outcome at once.
    Call(CallOutcome),
    /// A call is refused.
    Refused,
    /// The clock moves on, in seconds.
    Advance(u64),
}

use CallOutcome::{Abandoned, Failure, Success};
use CircuitState::{Closed, HalfOpen, Open};
use Step::{Advance, Call, Refused};

const COOL_DOWN: Duration = Duration::from_secs(10);

/// A policy with a cool-down of [`COOL_DOWN`] and `probes` trial calls.
fn policy(rule: CircuitPolicyBuilder, probes: u32) -> CircuitPolicy {
    rule.cool_down(COOL_DOWN)
        .half_open_probes(probes)
        .build()
        .expect("a valid policy")
}

fn consecutive(failures: u32) -> CircuitPolicyBuilder {
    CircuitPolicy::builder().consecutive_failures(failures)
}

/// Runs `script`; after each step the state a caller would see must be the expected one.
fn check(policy: CircuitPolicy, script: &[(Step, CircuitState)]) {
    let mut machine = CircuitMachine::new(policy);
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
        policy(consecutive(3), 1),
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
        policy(consecutive(1), 1),
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
        policy(consecutive(1), 2),
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
    check(
        policy(CircuitPolicy::builder().failure_ratio(0.5, 4), 1),
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
    let mut machine = CircuitMachine::new(policy(consecutive(1), 1));
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
    let mut machine = CircuitMachine::new(policy(consecutive(1), 1));
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
    let mut machine = CircuitMachine::new(policy(consecutive(1), 1));
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

/// The bus's rules: 3 failures in a row, or half of at least 6 calls within a minute.
fn both_rules(probes: u32) -> CircuitPolicy {
    policy(
        consecutive(3).failure_rate_over(0.5, Duration::from_secs(60), 6),
        probes,
    )
}

#[test]
fn either_rule_opens_a_circuit_that_has_both() {
    check(
        both_rules(1),
        &[
            (Call(Failure), Closed),
            (Call(Failure), Closed),
            (Call(Success), Closed), // resets the run, not the rate
            (Call(Failure), Closed),
            (Call(Success), Closed),
            (Call(Success), Closed), // 3 of 6 failed, but a success does not open it
            (Call(Failure), Open),   // 4 of 7, judged after a failure
            (Advance(10), HalfOpen),
            (Call(Success), Closed), // the rate starts again from nothing
            (Call(Failure), Closed),
            (Call(Failure), Closed),
            (Call(Failure), Open), // 3 in a row, though only 4 calls were made
        ],
    );
}

#[test]
fn the_failure_rate_needs_its_minimum_of_calls() {
    check(
        both_rules(1),
        &[
            (Call(Success), Closed),
            (Call(Failure), Closed),
            (Call(Success), Closed),
            (Call(Failure), Closed),
            (Call(Success), Closed), // 2 of 5: under min_calls anyway
            (Call(Failure), Open),   // 3 of 6
        ],
    );
}

#[test]
fn the_failure_rate_forgets_calls_older_than_its_window() {
    check(
        both_rules(1),
        &[
            (Call(Failure), Closed),
            (Call(Success), Closed),
            (Call(Failure), Closed),
            (Call(Success), Closed),
            (Call(Failure), Closed),
            (Call(Success), Closed), // 3 of 6, with a success last
            (Advance(60), Closed),
            // Had the window kept them, 4 of 7 would have failed.
            (Call(Failure), Closed),
        ],
    );
}

#[test]
fn a_failed_trial_discards_the_other_trials_outcomes() {
    let mut machine = CircuitMachine::new(both_rules(2));
    let start = Instant::now();
    for _ in 0..3 {
        let ticket = machine.admit(start).unwrap();
        machine.record(ticket, Failure, start);
    }
    let later = start + COOL_DOWN;
    let first = machine.admit(later).unwrap();
    let second = machine.admit(later).unwrap();
    machine.record(first, Failure, later);
    assert_eq!(machine.state(later), Open);
    // The other trial's success belongs to the half-open phase that just ended.
    machine.record(second, Success, later);
    assert_eq!(machine.stored_state(), Open);
    assert_eq!(
        machine.admit(later).unwrap_err(),
        Refusal::Open {
            retry_after: COOL_DOWN
        }
    );
}

#[test]
fn the_stored_state_moves_on_the_first_call_after_the_cool_down() {
    let mut machine = CircuitMachine::new(policy(consecutive(1), 2));
    let now = Instant::now();
    let ticket = machine.admit(now).unwrap();
    machine.record(ticket, Failure, now);
    let later = now + COOL_DOWN;
    assert_eq!(machine.state(later), HalfOpen);
    assert_eq!(machine.stored_state(), Open, "nothing called since");
    let first = machine.admit(later).unwrap();
    assert_eq!(machine.stored_state(), HalfOpen);
    // Two trials at once, a third refused; one success is not enough to close.
    let second = machine.admit(later).unwrap();
    assert_eq!(machine.admit(later).unwrap_err(), Refusal::ProbesTaken);
    machine.record(first, Success, later);
    assert_eq!(machine.state(later), HalfOpen);
    machine.record(second, Success, later);
    assert_eq!(machine.state(later), Closed);
}

#[test]
fn a_failure_rate_over_time_works_alone() {
    check(
        policy(
            CircuitPolicy::builder().failure_rate_over(1.0, Duration::from_secs(60), 2),
            1,
        ),
        &[
            (Call(Failure), Closed), // 1 of 1: under min_calls
            (Call(Failure), Open),   // 2 of 2
            (Advance(10), HalfOpen),
            (Call(Success), Closed),
            (Call(Failure), Closed),
            (Call(Success), Closed),
            (Call(Failure), Closed), // 2 of 3: under the ratio of 1
        ],
    );
}

#[test]
fn a_ticket_of_another_machine_changes_nothing() {
    let now = Instant::now();
    let mut first = CircuitMachine::new(policy(consecutive(1), 1));
    let mut second = CircuitMachine::new(policy(consecutive(1), 1));
    let foreign = first.admit(now).unwrap();
    second.record(foreign, Failure, now);
    assert_eq!(second.state(now), Closed);
    let own = second.admit(now).unwrap();
    second.record(own, Failure, now);
    assert_eq!(second.state(now), Open);
}
