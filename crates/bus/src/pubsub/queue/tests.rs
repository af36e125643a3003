//! Unit tests of `queue.rs`: bounds, lanes, and when the consumer is woken.

use std::{
    collections::VecDeque,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    task::{Wake, Waker},
};

use bytes::Bytes;
use switchyard_core::Attributes;

use super::*;

/// A waker that counts its wake-ups.
#[derive(Default)]
struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn counting() -> (Arc<CountingWaker>, Waker) {
    let counter = Arc::new(CountingWaker::default());
    (Arc::clone(&counter), Waker::from(counter))
}

fn entry(n: u8) -> Entry {
    Entry::single(Bytes::from(vec![n]), Attributes::new(), 0)
}

fn payloads(entries: &VecDeque<Entry>) -> Vec<u8> {
    entries.iter().map(|entry| entry.payload()[0]).collect()
}

#[test]
fn the_main_lane_is_bounded() {
    let queue = Queue::new(2);
    assert!(matches!(
        queue.try_push(&mut Some(entry(1))),
        Push::Accepted
    ));
    assert!(matches!(
        queue.try_push(&mut Some(entry(2))),
        Push::Accepted
    ));
    assert!(matches!(queue.try_push(&mut Some(entry(3))), Push::Full));
    assert_eq!(queue.depth(), 2);
}

#[test]
fn drop_oldest_keeps_the_newest() {
    let queue = Queue::new(2);
    for n in 1..=2 {
        assert!(matches!(
            queue.push_drop_oldest(&mut Some(entry(n))),
            Some(false)
        ));
    }
    assert!(matches!(
        queue.push_drop_oldest(&mut Some(entry(3))),
        Some(true)
    ));
    let (main, _) = queue.close();
    assert_eq!(payloads(&main), [2, 3]);
}

#[test]
fn the_consumer_is_woken_once_per_empty_to_non_empty_transition() {
    let queue = Queue::new(1000);
    let (count, waker) = counting();
    let (mut batch, mut retry) = (VecDeque::new(), VecDeque::new());
    assert_eq!(queue.refill(&mut batch, &mut retry, &waker), Refill::Parked);
    for n in 0..100 {
        assert!(matches!(
            queue.try_push(&mut Some(entry(n))),
            Push::Accepted
        ));
    }
    assert_eq!(
        count.0.load(Ordering::SeqCst),
        1,
        "one wake for 100 messages"
    );
    assert_eq!(queue.refill(&mut batch, &mut retry, &waker), Refill::Again);
    assert_eq!(batch.len(), 100, "the whole lane in one batch");
    // Pushes while the consumer is busy with its batch wake nobody.
    for n in 0..10 {
        assert!(matches!(
            queue.try_push(&mut Some(entry(n))),
            Push::Accepted
        ));
    }
    assert_eq!(count.0.load(Ordering::SeqCst), 1);
}

#[test]
fn taking_a_full_lane_reports_room_for_blocked_publishers() {
    let queue = Queue::new(2);
    let (_, waker) = counting();
    for n in 0..2 {
        assert!(matches!(
            queue.try_push(&mut Some(entry(n))),
            Push::Accepted
        ));
    }
    let (mut batch, mut retry) = (VecDeque::new(), VecDeque::new());
    assert_eq!(queue.refill(&mut batch, &mut retry, &waker), Refill::Freed);
    assert!(matches!(
        queue.try_push(&mut Some(entry(2))),
        Push::Accepted
    ));
    // The batch is not empty: the lane stays where it is.
    assert_eq!(queue.refill(&mut batch, &mut retry, &waker), Refill::Parked);
    assert_eq!(payloads(&batch), [0, 1]);
}

#[test]
fn a_consumer_parked_for_a_slot_ignores_new_messages_but_not_retries() {
    let queue = Queue::new(10);
    let (count, waker) = counting();
    assert_eq!(queue.park_for_slot(&waker, || false), Refill::Parked);
    assert!(matches!(
        queue.try_push(&mut Some(entry(1))),
        Push::Accepted
    ));
    assert_eq!(count.0.load(Ordering::SeqCst), 0);
    queue.wake_slot_waiter();
    assert_eq!(count.0.load(Ordering::SeqCst), 1);

    assert_eq!(queue.park_for_slot(&waker, || false), Refill::Parked);
    queue.push_retry(entry(2)).unwrap();
    assert_eq!(count.0.load(Ordering::SeqCst), 2);
    assert!(queue.retry_pending());
    assert_eq!(
        queue.park_for_slot(&waker, || false),
        Refill::Again,
        "a retry waits"
    );
    let mut retry = VecDeque::new();
    queue.take_retries(&mut retry);
    assert_eq!(payloads(&retry), [2]);
    assert!(!queue.retry_pending());
}

#[test]
fn a_slot_freed_while_parking_is_not_missed() {
    let queue = Queue::new(10);
    let (_, waker) = counting();
    assert_eq!(queue.park_for_slot(&waker, || true), Refill::Again);
}

#[test]
fn the_retry_lane_ignores_the_bound_and_close_returns_both_lanes() {
    let queue = Queue::new(1);
    assert!(matches!(
        queue.try_push(&mut Some(entry(1))),
        Push::Accepted
    ));
    for n in 2..=4 {
        queue.push_retry(entry(n)).unwrap();
    }
    assert_eq!(queue.depth(), 4);
    let (count, waker) = counting();
    let (mut batch, mut retry) = (VecDeque::new(), VecDeque::new());
    assert_eq!(queue.refill(&mut batch, &mut retry, &waker), Refill::Freed);
    assert_eq!(payloads(&retry), [2, 3, 4]);
    assert_eq!(queue.refill(&mut batch, &mut retry, &waker), Refill::Parked);

    queue.push_retry(entry(5)).unwrap();
    assert_eq!(count.0.load(Ordering::SeqCst), 1);
    assert!(matches!(
        queue.try_push(&mut Some(entry(6))),
        Push::Accepted
    ));
    let (main, lane) = queue.close();
    assert_eq!((payloads(&main), payloads(&lane)), (vec![6], vec![5]));
    assert!(matches!(queue.try_push(&mut Some(entry(7))), Push::Closed));
    assert!(queue.push_retry(entry(8)).is_err());
    assert!(queue.push_drop_oldest(&mut Some(entry(9))).is_none());
    assert_eq!(queue.refill(&mut batch, &mut retry, &waker), Refill::Closed);
}
