//! Tests of the correlator: responses, timeouts, cancellation, late and unknown responses,
//! bounds, and no leaks after many timeouts.

use std::{task::Poll, time::Duration};

use proptest::prelude::*;
use switchyard_core::Message;

use super::*;

fn response_to(id: &str) -> Message {
    Message::builder()
        .correlation_id(id)
        .payload("answer")
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_response_reaches_its_request() {
    let correlator = Correlator::new(8);
    let first = correlator.begin().unwrap();
    let second = correlator.begin().unwrap();
    assert_ne!(first.correlation_id(), second.correlation_id());
    correlator
        .resolve(response_to(second.correlation_id()))
        .unwrap();
    let answer = second.wait(Duration::from_secs(1)).await.unwrap();
    assert_eq!(answer.payload(), "answer");
    assert_eq!(correlator.stats().pending, 1);
    drop(first);
    assert_eq!(
        correlator.stats(),
        CorrelatorStats {
            pending: 0,
            resolved: 1,
            ..Default::default()
        }
    );
}

#[tokio::test(start_paused = true)]
async fn timeouts_remove_the_entry_and_late_responses_are_counted() {
    let correlator = Correlator::new(8);
    let pending = correlator.begin().unwrap();
    let id = pending.correlation_id().to_owned();
    let err = pending.wait(Duration::from_millis(50)).await.unwrap_err();
    assert!(matches!(err, RequestError::Timeout { after } if after == Duration::from_millis(50)));
    assert!(err.is_transient());
    assert_eq!(correlator.stats().pending, 0);

    correlator.resolve(response_to(&id)).unwrap();
    let stats = correlator.stats();
    assert_eq!((stats.timed_out, stats.late, stats.unknown), (1, 1, 0));
}

#[tokio::test]
async fn unknown_and_missing_correlation_ids() {
    let correlator = Correlator::new(8);
    correlator.resolve(response_to("never-issued")).unwrap();
    assert_eq!(correlator.stats().unknown, 1);

    let err = correlator.resolve(Message::new("no id")).unwrap_err();
    assert!(
        matches!(err, RequestError::MissingCorrelationId { .. }),
        "{err}"
    );
    assert!(!err.is_transient());
}

#[tokio::test]
async fn dropping_the_request_future_removes_the_entry() {
    let correlator = Correlator::new(8);
    let pending = correlator.begin().unwrap();
    let id = pending.correlation_id().to_owned();
    let wait = pending.wait(Duration::from_secs(3600));
    // Poll it once so that it is really waiting, then drop it: the caller gave up.
    let mut wait = Box::pin(wait);
    assert!(futures::poll!(&mut wait).is_pending());
    drop(wait);
    assert_eq!(correlator.stats().pending, 0);
    correlator.resolve(response_to(&id)).unwrap();
    assert_eq!(
        correlator.stats().late,
        1,
        "a response to an abandoned request is late"
    );
}

#[tokio::test]
async fn the_pending_map_is_bounded() {
    let correlator = Correlator::new(2);
    let _a = correlator.begin().unwrap();
    let _b = correlator.begin().unwrap();
    let err = correlator.begin().err().unwrap();
    assert!(matches!(err, RequestError::TooManyPending { limit: 2 }));
    assert!(err.is_transient());
}

#[tokio::test]
async fn close_fails_waiters_and_new_requests() {
    let correlator = Correlator::new(8);
    let pending = correlator.begin().unwrap();
    let wait = tokio::spawn(pending.wait(Duration::from_secs(3600)));
    // Let the spawned waiter reach its await before closing.
    tokio::task::yield_now().await;
    correlator.close();
    correlator.close();
    let result = tokio::time::timeout(Duration::from_secs(5), wait)
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(result, Err(RequestError::Closed)));
    assert!(matches!(correlator.begin(), Err(RequestError::Closed)));
}

#[tokio::test(start_paused = true)]
async fn a_hundred_thousand_timeouts_leave_nothing_behind() {
    let correlator = Correlator::new(200_000);
    // Ten rounds of ten thousand concurrent requests: 100k timeouts in all.
    for _ in 0..10 {
        let waits: Vec<_> = (0..10_000)
            .map(|_| correlator.begin().unwrap().wait(Duration::from_secs(1)))
            .collect();
        let results = futures::future::join_all(waits).await;
        assert!(
            results
                .iter()
                .all(|r| matches!(r, Err(RequestError::Timeout { .. })))
        );
        assert_eq!(correlator.stats().pending, 0);
    }
    let stats = correlator.stats();
    assert_eq!((stats.pending, stats.timed_out), (0, 100_000));
    // The memory of expired ids is bounded too, and no task or timer outlives the requests.
    assert_eq!(
        correlator.expired_memory_for_test(),
        (EXPIRED_MEMORY, EXPIRED_MEMORY)
    );
    assert_eq!(
        tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks(),
        0
    );
}

#[derive(Debug, Clone)]
enum Op {
    Begin,
    Respond(usize),
    Abandon(usize),
    Stray,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => Just(Op::Begin),
        2 => (0..16usize).prop_map(Op::Respond),
        1 => (0..16usize).prop_map(Op::Abandon),
        1 => Just(Op::Stray),
    ]
}

proptest! {
    /// The correlator's bookkeeping against a model: a list of outstanding requests.
    #[test]
    fn bookkeeping_matches_a_model(ops in proptest::collection::vec(op(), 0..64)) {
        let correlator = Correlator::new(usize::MAX);
        let mut outstanding: Vec<PendingReply> = Vec::new();
        let mut answered = Vec::new();
        let (mut resolved, mut late, mut unknown) = (0u64, 0u64, 0u64);
        let mut abandoned_ids = Vec::new();
        for op in ops {
            match op {
                Op::Begin => outstanding.push(correlator.begin().unwrap()),
                Op::Respond(i) if !outstanding.is_empty() => {
                    let pending = outstanding.remove(i % outstanding.len());
                    correlator.resolve(response_to(pending.correlation_id())).unwrap();
                    resolved += 1;
                    answered.push(pending);
                }
                Op::Abandon(i) if !outstanding.is_empty() => {
                    let pending = outstanding.remove(i % outstanding.len());
                    abandoned_ids.push(pending.correlation_id().to_owned());
                    drop(pending);
                }
                Op::Respond(_) | Op::Abandon(_) => {}
                Op::Stray => {
                    if let Some(id) = abandoned_ids.pop() {
                        correlator.resolve(response_to(&id)).unwrap();
                        late += 1;
                    } else {
                        correlator.resolve(response_to("stray")).unwrap();
                        unknown += 1;
                    }
                }
            }
            let stats = correlator.stats();
            prop_assert_eq!(stats.pending, outstanding.len());
            prop_assert_eq!((stats.resolved, stats.late, stats.unknown), (resolved, late, unknown));
        }
        // Every answered request really holds its answer.
        for pending in answered {
            prop_assert!(pending.is_answered());
        }
    }
}

#[tokio::test]
async fn correlation_ids_are_random_uuids_unique_across_correlators() {
    let (one, two) = (Correlator::new(8), Correlator::new(8));
    let (a, b, c) = (
        one.begin().unwrap(),
        one.begin().unwrap(),
        two.begin().unwrap(),
    );
    for pending in [&a, &b, &c] {
        let id = uuid::Uuid::try_parse(pending.correlation_id()).unwrap();
        assert_eq!(id.get_version_num(), 4, "{id}");
        assert_eq!(
            id.to_string(),
            pending.correlation_id(),
            "lowercase, hyphenated"
        );
    }
    assert_ne!(a.correlation_id(), b.correlation_id());
    assert_ne!(a.correlation_id(), c.correlation_id());
    // A response to `two`'s request means nothing to `one`.
    one.resolve(response_to(c.correlation_id())).unwrap();
    assert_eq!((one.stats().unknown, one.stats().pending), (1, 2));
}

#[tokio::test]
async fn only_the_issued_spelling_of_an_id_resolves() {
    let correlator = Correlator::new(8);
    let pending = correlator.begin().unwrap();
    let id = pending.correlation_id().to_owned();
    let simple = id.replace('-', "");
    for other in [
        id.to_uppercase(),
        format!("{{{id}}}"),
        format!("urn:uuid:{id}"),
        simple,
    ] {
        correlator.resolve(response_to(&other)).unwrap();
    }
    assert_eq!(
        (correlator.stats().unknown, correlator.stats().pending),
        (4, 1)
    );
    correlator.resolve(response_to(&id)).unwrap();
    assert_eq!(correlator.stats().resolved, 1);
    assert!(pending.wait(Duration::from_secs(1)).await.is_ok());
}

#[tokio::test]
async fn a_response_that_beats_the_deadline_by_a_hair_is_returned_not_lost() {
    // `resolve` took the entry out of the map and sent; the deadline passed before the
    // waiter saw the response. It used to report `Timeout` and drop the response, which
    // was counted as resolved.
    let correlator = Correlator::new(8);
    let pending = correlator.begin().unwrap();
    correlator
        .resolve(response_to(pending.correlation_id()))
        .unwrap();
    let answer = pending
        .time_out_now_for_test(Duration::from_secs(1))
        .expect("the response, not a timeout");
    assert_eq!(answer.payload(), "answer");
    let stats = correlator.stats();
    assert_eq!((stats.pending, stats.resolved, stats.timed_out), (0, 1, 0));

    // Without a response, the same ending is a timeout, counted once.
    let pending = correlator.begin().unwrap();
    let err = pending
        .time_out_now_for_test(Duration::from_secs(1))
        .unwrap_err();
    assert!(matches!(err, RequestError::Timeout { .. }), "{err}");
    let stats = correlator.stats();
    assert_eq!((stats.pending, stats.resolved, stats.timed_out), (0, 1, 1));
}

/// What `parse_id` must accept: the ids that `begin` writes, and nothing else. The
/// reference writes the parsed id back out and compares.
fn issued_key(id: &str) -> Option<u128> {
    let uuid = uuid::Uuid::try_parse(id).ok()?;
    (uuid.hyphenated().to_string() == id).then(|| uuid.as_u128())
}

/// Ids as `begin` writes them, with a few characters changed, and other spellings of them.
fn id_like() -> impl Strategy<Value = String> {
    let edit = (
        0..40usize,
        proptest::sample::select("09afAFgG-{} é\u{0}".chars().collect::<Vec<_>>()),
    );
    (any::<u128>(), proptest::collection::vec(edit, 0..3), 0..5u8).prop_map(
        |(bits, edits, spelling)| {
            let mut chars: Vec<char> = uuid::Uuid::from_u128(bits)
                .hyphenated()
                .to_string()
                .chars()
                .collect();
            for (at, c) in edits {
                if let Some(slot) = chars.get_mut(at) {
                    *slot = c;
                }
            }
            let id: String = chars.into_iter().collect();
            match spelling {
                0 | 1 => id,
                2 => id.to_uppercase(),
                3 => format!("{{{id}}}"),
                _ => id.replace('-', ""),
            }
        },
    )
}

proptest! {
    /// `parse_id` checks the spelling without writing the id back out: it agrees with the
    /// reference that does.
    #[test]
    fn only_ids_spelled_as_issued_parse(id in id_like()) {
        prop_assert_eq!(super::correlator::parse_id(&id), issued_key(&id));
    }
}

#[test]
fn a_response_already_there_is_returned_without_a_timer() {
    // No tokio runtime here: making the wait's timer would panic. A response that came
    // before the wait is returned at its first poll, with no timer made.
    let correlator = Correlator::new(8);
    let pending = correlator.begin().unwrap();
    correlator
        .resolve(response_to(pending.correlation_id()))
        .unwrap();
    let answer = futures::executor::block_on(pending.wait(Duration::from_secs(1))).unwrap();
    assert_eq!(answer.payload(), "answer");
    assert_eq!(correlator.slots_for_test(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_response_that_comes_while_waiting_wakes_the_wait() {
    let correlator = Correlator::new(8);
    let pending = correlator.begin().unwrap();
    let id = pending.correlation_id().to_owned();
    let mut wait = Box::pin(pending.wait(Duration::from_secs(1)));
    assert!(futures::poll!(&mut wait).is_pending(), "no response yet");
    correlator.resolve(response_to(&id)).unwrap();
    let answer = tokio::time::timeout(Duration::from_millis(10), wait)
        .await
        .expect("woken by the response, well before its own deadline")
        .unwrap();
    assert_eq!(answer.payload(), "answer");
    let stats = correlator.stats();
    assert_eq!((stats.pending, stats.resolved, stats.timed_out), (0, 1, 0));
    assert_eq!(correlator.slots_for_test(), 0);
}

#[tokio::test(start_paused = true)]
async fn every_ending_frees_the_requests_slot() {
    let correlator = Correlator::new(8);
    // Answered and taken.
    let pending = correlator.begin().unwrap();
    correlator
        .resolve(response_to(pending.correlation_id()))
        .unwrap();
    pending.wait(Duration::from_secs(1)).await.unwrap();
    assert_eq!(correlator.slots_for_test(), 0);
    // Timed out.
    let pending = correlator.begin().unwrap();
    pending.wait(Duration::from_secs(1)).await.unwrap_err();
    assert_eq!(correlator.slots_for_test(), 0);
    // Answered, then dropped without being taken.
    let pending = correlator.begin().unwrap();
    correlator
        .resolve(response_to(pending.correlation_id()))
        .unwrap();
    drop(pending);
    assert_eq!(correlator.slots_for_test(), 0);
    // Failed by `close`, before and after its wait began.
    let (before, after) = (correlator.begin().unwrap(), correlator.begin().unwrap());
    let mut waiting = Box::pin(after.wait(Duration::from_secs(1)));
    assert!(futures::poll!(&mut waiting).is_pending());
    correlator.close();
    assert!(matches!(waiting.await, Err(RequestError::Closed)));
    assert!(matches!(
        before.wait(Duration::from_secs(1)).await,
        Err(RequestError::Closed)
    ));
    assert_eq!(correlator.slots_for_test(), 0);
    assert_eq!(correlator.stats().pending, 0);
}

#[tokio::test]
async fn an_answer_not_yet_taken_holds_its_place_under_the_bound() {
    let correlator = Correlator::new(1);
    let pending = correlator.begin().unwrap();
    correlator
        .resolve(response_to(pending.correlation_id()))
        .unwrap();
    // No longer waiting, but its response is held for it: the bound still counts it.
    assert_eq!(correlator.stats().pending, 0);
    assert!(matches!(
        correlator.begin().err(),
        Some(RequestError::TooManyPending { limit: 1 })
    ));
    pending.wait(Duration::from_secs(1)).await.unwrap();
    assert!(correlator.begin().is_ok());
}

#[tokio::test]
async fn a_wait_polled_after_it_ended_leaves_the_next_requests_slot_alone() {
    let correlator = Correlator::new(8);
    let first = correlator.begin().unwrap();
    correlator
        .resolve(response_to(first.correlation_id()))
        .unwrap();
    let mut first = Box::pin(first.wait_until(
        tokio::time::Instant::now() + Duration::from_secs(1),
        Duration::from_secs(1),
    ));
    assert!(matches!(futures::poll!(&mut first), Poll::Ready(Ok(_))));
    // The next request takes the slot that the first one left.
    let second = correlator.begin().unwrap();
    correlator
        .resolve(response_to(second.correlation_id()))
        .unwrap();
    // Polled again, against the rules of `Future`, the first wait does not take the
    // second request's response.
    assert!(matches!(
        futures::poll!(&mut first),
        Poll::Ready(Err(RequestError::Closed))
    ));
    assert_eq!(
        second.wait(Duration::from_secs(1)).await.unwrap().payload(),
        "answer"
    );
}
