//! The engine's tasks share their thread: under input that is always ready, they still
//! yield to the runtime every so often, as every tokio task should.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use async_trait::async_trait;
use futures::stream;
use switchyard_core::{Message, MessageStream, Result, Subscriber, handler_fn};
use switchyard_engine::Engine;
use switchyard_routing::router::Router;

use super::support::{RecordingPublisher, within};

const MESSAGES: usize = 2_000;

/// tokio's task budget: a task that keeps finding work yields after about this many
/// operations.
const BUDGET: usize = 128;

/// A subscriber whose stream is always ready, and spends none of tokio's budget: the
/// engine's own tasks are all that can make them yield.
struct Ready;

#[async_trait]
impl Subscriber for Ready {
    async fn subscribe(&self, _topic: &str) -> Result<MessageStream> {
        let messages =
            (0..MESSAGES).map(|_| Message::builder().message_type("orders.created").build());
        Ok(Box::pin(stream::iter(messages)))
    }

    async fn close(&self) -> Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_busy_engine_still_lets_other_tasks_run() {
    let handled = Arc::new(AtomicUsize::new(0));
    let counter = handled.clone();
    let router = Router::builder()
        .handle(
            "orders.created",
            handler_fn(move |_message: Message| {
                let counter = counter.clone();
                async move {
                    counter.fetch_add(1, Ordering::SeqCst);
                    Ok(vec![])
                }
            }),
        )
        .unwrap()
        .build();
    let engine = Engine::builder().worker_queue(MESSAGES).build().unwrap();
    engine
        .add_subscriber("in", Arc::new(Ready), "orders")
        .unwrap();
    engine.add_router("orders", router).unwrap();
    engine
        .add_publisher("mem://", RecordingPublisher::new())
        .unwrap();
    within("start", engine.start()).await.unwrap();

    // Another task on the same thread: between two of its turns, how many messages did the
    // engine handle?
    let mut widest = 0;
    let mut last = handled.load(Ordering::SeqCst);
    within("every message handled", async {
        while last < MESSAGES {
            tokio::task::yield_now().await;
            let now = handled.load(Ordering::SeqCst);
            widest = widest.max(now - last);
            last = now;
        }
    })
    .await;
    assert!(
        widest <= 2 * BUDGET,
        "{widest} messages handled without letting another task run"
    );
    let report = within("stop", engine.stop(std::time::Duration::from_secs(5)))
        .await
        .unwrap();
    assert_eq!(report.totals.acked, MESSAGES as u64, "{report:?}");
}
