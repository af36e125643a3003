//! Backpressure: a `FanIn` consumer that stops holds its producers back.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use futures::{StreamExt, stream};
use switchyard_routing::fan::{FanIn, FanInMode};
use tokio::sync::mpsc;

use super::DEADLINE;

/// A stream over a tokio receiver.
fn receiver_stream<T: Send + 'static>(
    receiver: mpsc::Receiver<T>,
) -> stream::BoxStream<'static, T> {
    stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|item| (item, receiver))
    })
    .boxed()
}

#[tokio::test(start_paused = true)]
async fn a_stopped_consumer_holds_the_producer_back() {
    for mode in [FanInMode::Concurrent, FanInMode::RoundRobin] {
        let (sender, receiver) = mpsc::channel::<u32>(1);
        let sent = Arc::new(AtomicUsize::new(0));
        let producer = tokio::spawn({
            let sent = sent.clone();
            async move {
                for item in 0..100 {
                    if sender.send(item).await.is_err() {
                        break;
                    }
                    sent.fetch_add(1, Ordering::SeqCst);
                }
            }
        });
        let mut fan_in = FanIn::builder()
            .mode(mode)
            .input("producer", receiver_stream(receiver))
            .input("idle", stream::pending())
            .build()
            .expect("valid");
        tokio::pin!(producer);

        // No consumer yet: the producer fills the one slot and waits. With the clock paused,
        // the deadline passes only once every task is stuck, so this is a bounded wait.
        let stuck = tokio::time::timeout(Duration::from_secs(1), &mut producer).await;
        assert!(stuck.is_err(), "{mode:?}: the producer cannot finish");
        assert_eq!(
            sent.load(Ordering::SeqCst),
            1,
            "{mode:?}: one buffered item"
        );

        for expected in 0..5 {
            let tagged = fan_in.next().await.expect("an item");
            assert_eq!(tagged.item, expected);
        }
        let stuck = tokio::time::timeout(Duration::from_secs(1), &mut producer).await;
        assert!(stuck.is_err(), "{mode:?}: still held back");
        let sent_now = sent.load(Ordering::SeqCst);
        assert!(
            sent_now <= 6,
            "{mode:?}: sent {sent_now} for 5 consumed and 1 slot"
        );

        // Consuming the rest lets it finish, and nothing was lost.
        let rest: Vec<u32> = fan_in
            .by_ref()
            .take(95)
            .map(|tagged| tagged.item)
            .collect()
            .await;
        assert_eq!(rest, (5..100).collect::<Vec<_>>(), "{mode:?}");
        tokio::time::timeout(DEADLINE, producer)
            .await
            .expect("the producer finishes")
            .expect("no panic");
    }
}
