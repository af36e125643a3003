//! The breaker's transitions, driven by explicit instants.

use super::*;

const COOL_DOWN: Duration = Duration::from_secs(10);

fn settings() -> BreakerSettings {
    BreakerSettings {
        consecutive_failures: 3,
        failure_rate: 0.5,
        window: Duration::from_secs(60),
        min_calls: 6,
        cool_down: COOL_DOWN,
        trial_calls: 2,
    }
}

/// Admits one call at `now` and records `outcome` for it.
fn call(breaker: &mut Breaker, outcome: Outcome, now: Instant) {
    let ticket = breaker.try_admit(now).expect("admitted");
    breaker.record(ticket, outcome, now);
}

fn open_it(breaker: &mut Breaker, now: Instant) {
    for _ in 0..3 {
        call(breaker, Outcome::Failure, now);
    }
    assert_eq!(breaker.state(now), CircuitState::Open);
}

#[test]
fn consecutive_failures_open_and_a_success_resets_the_count() {
    let now = Instant::now();
    let mut breaker = Breaker::new(settings());
    call(&mut breaker, Outcome::Failure, now);
    call(&mut breaker, Outcome::Failure, now);
    call(&mut breaker, Outcome::Success, now);
    call(&mut breaker, Outcome::Failure, now);
    call(&mut breaker, Outcome::Failure, now);
    assert_eq!(breaker.state(now), CircuitState::Closed);
    call(&mut breaker, Outcome::Failure, now);
    assert_eq!(breaker.state(now), CircuitState::Open);
    assert_eq!(
        breaker.try_admit(now + Duration::from_secs(4)).unwrap_err(),
        Refusal::CircuitOpen {
            retry_after: Duration::from_secs(6)
        }
    );
}

#[test]
fn failure_rate_opens_once_the_window_has_enough_calls() {
    let now = Instant::now();
    let mut breaker = Breaker::new(settings());
    // Alternating: never two failures in a row, half of the calls failed.
    for _ in 0..2 {
        call(&mut breaker, Outcome::Success, now);
        call(&mut breaker, Outcome::Failure, now);
    }
    call(&mut breaker, Outcome::Success, now);
    assert_eq!(
        breaker.state(now),
        CircuitState::Closed,
        "5 calls: under min_calls"
    );
    call(&mut breaker, Outcome::Failure, now);
    assert_eq!(breaker.state(now), CircuitState::Open, "3 of 6 failed");
}

#[test]
fn failure_rate_forgets_calls_older_than_the_window() {
    let start = Instant::now();
    let mut breaker = Breaker::new(settings());
    for _ in 0..3 {
        call(&mut breaker, Outcome::Failure, start);
        call(&mut breaker, Outcome::Success, start);
    }
    // 3 of 6 failed, but a success came last: the rate is judged after failures only.
    assert_eq!(breaker.state(start), CircuitState::Closed);
    // Had the window kept them, 4 of 7 would have failed.
    let later = start + Duration::from_secs(60);
    call(&mut breaker, Outcome::Failure, later);
    assert_eq!(
        breaker.state(later),
        CircuitState::Closed,
        "1 call in the window"
    );
}

#[test]
fn half_open_lets_trial_calls_through_and_their_successes_close() {
    let start = Instant::now();
    let mut breaker = Breaker::new(settings());
    open_it(&mut breaker, start);
    let later = start + COOL_DOWN;
    assert_eq!(breaker.state(later), CircuitState::HalfOpen);
    assert_eq!(
        breaker.stored_state(),
        CircuitState::Open,
        "moves on the next call"
    );

    let first = breaker.try_admit(later).unwrap();
    let second = breaker.try_admit(later).unwrap();
    assert_eq!(
        breaker.try_admit(later).unwrap_err(),
        Refusal::CircuitHalfOpen
    );
    breaker.record(first, Outcome::Success, later);
    assert_eq!(breaker.state(later), CircuitState::HalfOpen);
    breaker.record(second, Outcome::Success, later);
    assert_eq!(breaker.state(later), CircuitState::Closed);
}

#[test]
fn a_failed_trial_opens_again_for_a_full_cool_down() {
    let start = Instant::now();
    let mut breaker = Breaker::new(settings());
    open_it(&mut breaker, start);
    let later = start + COOL_DOWN;
    let first = breaker.try_admit(later).unwrap();
    let second = breaker.try_admit(later).unwrap();
    breaker.record(first, Outcome::Failure, later);
    assert_eq!(breaker.state(later), CircuitState::Open);
    // The other trial's success belongs to the previous half-open phase.
    breaker.record(second, Outcome::Success, later);
    assert_eq!(breaker.state(later), CircuitState::Open);
    assert_eq!(
        breaker.try_admit(later).unwrap_err(),
        Refusal::CircuitOpen {
            retry_after: COOL_DOWN
        }
    );
}

#[test]
fn an_abandoned_trial_gives_its_slot_back() {
    let start = Instant::now();
    let mut breaker = Breaker::new(settings());
    open_it(&mut breaker, start);
    let later = start + COOL_DOWN;
    let first = breaker.try_admit(later).unwrap();
    let _second = breaker.try_admit(later).unwrap();
    breaker.record(first, Outcome::Abandoned, later);
    assert!(breaker.try_admit(later).is_ok());
    assert_eq!(
        breaker.try_admit(later).unwrap_err(),
        Refusal::CircuitHalfOpen
    );
}

#[test]
fn a_call_from_before_the_circuit_opened_does_not_count() {
    let now = Instant::now();
    let mut breaker = Breaker::new(settings());
    let slow = breaker.try_admit(now).unwrap();
    open_it(&mut breaker, now);
    breaker.record(slow, Outcome::Success, now + COOL_DOWN);
    assert_eq!(breaker.stored_state(), CircuitState::Open);
}
