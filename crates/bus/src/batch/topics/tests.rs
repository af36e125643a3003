//! Unit tests of [`Topics`], and a property test against a model: whatever the sequence of
//! pushes, deadlines, flushes and completions, every caller is answered exactly once, in
//! acceptance order per topic, in batches of at most `max_batch_size`.

use std::{collections::HashMap, time::Duration};

use proptest::prelude::*;
use switchyard_core::Message;
use tokio::time::Instant;

use super::Topics;

const LATENCY: Duration = Duration::from_millis(5);

fn msg(n: u32) -> Message {
    Message::new(n.to_string())
}

fn payloads(messages: &[Message]) -> Vec<String> {
    messages
        .iter()
        .map(|m| String::from_utf8_lossy(m.payload()).into_owned())
        .collect()
}

#[test]
fn a_full_batch_is_sealed_and_ready_at_once() {
    let start = Instant::now();
    let mut topics = Topics::new(2, LATENCY);
    assert!(!topics.push("a".into(), msg(1), 1, start));
    assert_eq!(topics.next_deadline(), Some(start + LATENCY));
    assert!(topics.push("a".into(), msg(2), 2, start));
    let batch = topics.pop_ready().unwrap();
    assert_eq!((batch.topic.as_str(), batch.seq), ("a", 0));
    assert_eq!(payloads(&batch.messages), ["1", "2"]);
    assert_eq!(topics.next_deadline(), None);
    assert_eq!(topics.pending(), 2);
    assert_eq!(topics.complete("a".into(), 0), [1, 2]);
    assert!(topics.is_empty());
    assert_eq!(topics.watermark(), topics.next_seq());
}

#[test]
fn open_batches_are_due_max_latency_after_their_first_message() {
    let start = Instant::now();
    let mut topics = Topics::new(10, LATENCY);
    topics.push("a".into(), msg(1), 1, start);
    topics.push("b".into(), msg(2), 2, start + Duration::from_millis(1));
    topics.push("a".into(), msg(3), 3, start + Duration::from_millis(2));
    assert_eq!(topics.next_deadline(), Some(start + LATENCY));

    assert_eq!(
        topics.seal_due(start + LATENCY - Duration::from_nanos(1)),
        0
    );
    assert_eq!(topics.seal_due(start + LATENCY), 1);
    assert_eq!(
        topics.next_deadline(),
        Some(start + Duration::from_millis(1) + LATENCY)
    );
    let batch = topics.pop_ready().unwrap();
    assert_eq!(
        (batch.topic.as_str(), payloads(&batch.messages)),
        ("a", vec!["1".to_owned(), "3".to_owned()])
    );
    assert!(topics.pop_ready().is_none());
}

#[test]
fn a_topic_has_one_batch_in_flight_and_the_next_waits_for_it() {
    let start = Instant::now();
    let mut topics = Topics::new(1, LATENCY);
    topics.push("a".into(), msg(1), 1, start);
    topics.push("a".into(), msg(2), 2, start);
    topics.push("b".into(), msg(3), 3, start);
    let first = topics.pop_ready().unwrap();
    let other = topics.pop_ready().unwrap();
    assert_eq!((first.topic.as_str(), other.topic.as_str()), ("a", "b"));
    assert!(topics.pop_ready().is_none(), "a's second batch waits");
    assert_eq!(topics.watermark(), 0);

    assert_eq!(topics.complete("a".into(), first.seq), [1]);
    assert_eq!(topics.watermark(), 1);
    let second = topics.pop_ready().unwrap();
    assert_eq!(payloads(&second.messages), ["2"]);
    assert_eq!(topics.complete("b".into(), other.seq), [3]);
    assert_eq!(topics.complete("a".into(), second.seq), [2]);
    assert!(topics.is_empty());
}

#[test]
fn unknown_completions_are_ignored() {
    let mut topics = Topics::<u32>::new(1, LATENCY);
    assert!(topics.complete("nope".into(), 7).is_empty());
    topics.push("a".into(), msg(1), 1, Instant::now());
    let batch = topics.pop_ready().unwrap();
    assert!(topics.complete("a".into(), batch.seq + 1).is_empty());
    assert_eq!(topics.complete("a".into(), batch.seq), [1]);
}

#[test]
fn drain_returns_every_reply_and_empties() {
    let start = Instant::now();
    let mut topics = Topics::new(2, LATENCY);
    for n in 0..5 {
        topics.push("a".into(), msg(n), n, start);
    }
    topics.push("b".into(), msg(9), 9, start);
    let _in_flight = topics.pop_ready().unwrap();
    let mut replies = topics.drain_replies();
    replies.sort_unstable();
    assert_eq!(replies, [0, 1, 2, 3, 4, 9]);
    assert!(topics.is_empty());
    assert_eq!(topics.pending(), 0);
    assert_eq!(topics.next_deadline(), None);
    assert!(topics.pop_ready().is_none());
}

#[derive(Debug, Clone)]
enum Op {
    Push(u8),
    Advance(u8),
    SealDue,
    SealAll,
    Send,
    Complete,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0u8..3).prop_map(Op::Push),
        2 => (0u8..4).prop_map(Op::Advance),
        2 => Just(Op::SealDue),
        1 => Just(Op::SealAll),
        3 => Just(Op::Send),
        3 => Just(Op::Complete),
    ]
}

proptest! {
    #[test]
    fn every_reply_comes_back_once_in_order(
        max_batch_size in 1usize..5,
        ops in proptest::collection::vec(op(), 0..200),
    ) {
        let start = Instant::now();
        let mut now = start;
        let mut topics = Topics::new(max_batch_size, LATENCY);
        let mut pushed: HashMap<String, Vec<u32>> = HashMap::new();
        let mut answered: HashMap<String, Vec<u32>> = HashMap::new();
        let mut in_flight = Vec::new();
        let mut next = 0u32;

        let mut complete = |topics: &mut Topics<u32>, (topic, seq, len): (String, u64, usize)| {
            let replies = topics.complete(topic.clone(), seq);
            assert_eq!(replies.len(), len);
            answered.entry(topic).or_default().extend(replies);
        };
        let send = |topics: &mut Topics<u32>, in_flight: &mut Vec<(String, u64, usize)>| {
            while let Some(batch) = topics.pop_ready() {
                assert!(!batch.messages.is_empty());
                assert!(batch.messages.len() <= max_batch_size);
                assert!(in_flight.iter().all(|(t, _, _)| *t != batch.topic), "one in flight per topic");
                in_flight.push((batch.topic, batch.seq, batch.messages.len()));
            }
        };

        for op in ops {
            match op {
                Op::Push(t) => {
                    let topic = format!("t{t}");
                    topics.push(topic.clone(), msg(next), next, now);
                    pushed.entry(topic).or_default().push(next);
                    next += 1;
                }
                Op::Advance(ms) => now += Duration::from_millis(u64::from(ms)),
                Op::SealDue => {
                    topics.seal_due(now);
                    prop_assert!(topics.next_deadline().is_none_or(|at| at > now));
                }
                Op::SealAll => {
                    topics.seal_all();
                    prop_assert_eq!(topics.next_deadline(), None);
                }
                Op::Send => send(&mut topics, &mut in_flight),
                Op::Complete => {
                    if !in_flight.is_empty() {
                        let done = in_flight.remove(0);
                        complete(&mut topics, done);
                    }
                }
            }
            let lowest_in_flight = in_flight.iter().map(|(_, seq, _)| *seq).min();
            prop_assert!(lowest_in_flight.is_none_or(|seq| topics.watermark() <= seq));
        }

        topics.seal_all();
        loop {
            send(&mut topics, &mut in_flight);
            if in_flight.is_empty() {
                break;
            }
            let done = in_flight.remove(0);
            complete(&mut topics, done);
        }
        prop_assert!(topics.is_empty());
        prop_assert_eq!(topics.pending(), 0);
        prop_assert_eq!(topics.watermark(), topics.next_seq());
        prop_assert_eq!(answered, pushed);
    }
}
