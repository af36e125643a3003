//! Unit tests of the pub/sub as a whole: what its streams cost on the hot path.

use std::{
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    task::{Context, Poll, Wake, Waker},
};

use futures::Stream;
use switchyard_core::Message;

use super::*;

#[derive(Default)]
struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn poll(
    subscription: &mut Subscription,
    waker: &Waker,
) -> Poll<Option<switchyard_core::Result<Message>>> {
    Pin::new(subscription).poll_next(&mut Context::from_waker(waker))
}

#[tokio::test]
async fn a_stream_is_woken_once_per_batch_not_per_message() {
    let bus = MemoryPubSub::new(PubSubConfig::default());
    let mut subscription = bus
        .subscribe_with("t", SubscribeOptions::default())
        .unwrap();
    let counter = Arc::new(CountingWaker::default());
    let waker = Waker::from(Arc::clone(&counter));
    assert!(poll(&mut subscription, &waker).is_pending());

    for n in 0..100 {
        bus.publish("t", Message::new(format!("{n}")))
            .await
            .unwrap();
    }
    assert_eq!(
        counter.0.load(Ordering::SeqCst),
        1,
        "one wake for 100 messages"
    );

    // While the stream works through its batch, new messages wake nobody.
    for n in 0..100 {
        let Poll::Ready(Some(Ok(message))) = poll(&mut subscription, &waker) else {
            panic!("message {n} is ready");
        };
        assert_eq!(message.payload(), format!("{n}").as_str());
        message.ack();
        if n == 50 {
            bus.publish("t", Message::new("late")).await.unwrap();
        }
    }
    assert_eq!(counter.0.load(Ordering::SeqCst), 1);
    let Poll::Ready(Some(Ok(late))) = poll(&mut subscription, &waker) else {
        panic!("the late message is ready");
    };
    assert_eq!(late.payload(), "late");
    assert!(poll(&mut subscription, &waker).is_pending());
    let stats = subscription.stats();
    assert_eq!(
        (stats.delivered, stats.acked, stats.in_flight),
        (101, 100, 1)
    );
    bus.close().await.unwrap();
}

#[tokio::test]
async fn acks_free_slots_without_waking_a_stream_that_is_not_waiting() {
    let bus = MemoryPubSub::new(PubSubConfig::default());
    let options = SubscribeOptions::builder()
        .max_in_flight(2)
        .build()
        .unwrap();
    let mut subscription = bus.subscribe_with("t", options).unwrap();
    let counter = Arc::new(CountingWaker::default());
    let waker = Waker::from(Arc::clone(&counter));
    for n in 0..3 {
        bus.publish("t", Message::new(format!("{n}")))
            .await
            .unwrap();
    }
    let mut held = Vec::new();
    for _ in 0..2 {
        let Poll::Ready(Some(Ok(message))) = poll(&mut subscription, &waker) else {
            panic!("ready");
        };
        held.push(message);
    }
    assert!(
        poll(&mut subscription, &waker).is_pending(),
        "no slot for the third"
    );
    held[0].ack();
    assert_eq!(
        counter.0.load(Ordering::SeqCst),
        1,
        "the freed slot wakes the stream"
    );
    held[1].ack();
    assert_eq!(counter.0.load(Ordering::SeqCst), 1, "once");
    assert!(matches!(
        poll(&mut subscription, &waker),
        Poll::Ready(Some(Ok(_)))
    ));
    bus.close().await.unwrap();
}
