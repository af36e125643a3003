//! Stopping under load: nothing is lost, and every message is counted exactly, as processed
//! and acked or left and nacked.

use std::{collections::BTreeSet, sync::atomic::Ordering, time::Duration};

use switchyard_core::{Error, Message, NackCause, handler_fn};
use switchyard_engine::{Engine, EngineBuilder, EngineError, StopReport};
use switchyard_routing::router::Router;

use super::support::{Outcome, Rig, start_with_a_closed_subscriber, typed, within};

const MESSAGES: usize = 200;

/// A router whose handler takes `work` (on tokio's clock), sends a follow-up through the
/// loop, and then publishes one output that names its root.
fn slow_router(work: Duration) -> Router {
    Router::builder()
        .handle(
            "orders.created",
            handler_fn(move |order: Message| async move {
                tokio::time::sleep(work).await;
                let root = order.attributes().id().unwrap_or_default().to_owned();
                Ok(vec![
                    Message::builder()
                        .message_type("orders.confirmed")
                        .destination("loop://orders")
                        .causation_id(root)
                        .build()?,
                ])
            }),
        )
        .unwrap()
        .handle(
            "orders.confirmed",
            handler_fn(|confirmed: Message| async move {
                let root = confirmed
                    .attributes()
                    .causation_id()
                    .unwrap_or_default()
                    .to_owned();
                Ok(vec![
                    Message::builder()
                        .message_type("orders.shipped")
                        .destination("mem://shipping")
                        .causation_id(root)
                        .build()?,
                ])
            }),
        )
        .unwrap()
        .build()
}

/// The exact accounting that every stop must satisfy, whatever the timing: every message
/// fed is settled once, by the engine (acked or nacked) or by its transport when the engine
/// never took it (dropped); the engine acked exactly the messages whose output was
/// published; and the report adds up.
fn check_accounting(rig: &Rig, report: &StopReport) {
    let log = &rig.feeder.log;
    let totals = report.totals;
    assert_eq!(log.len(), MESSAGES, "every message settled once");
    assert_eq!(report.unsettled, 0);
    assert_eq!(report.tasks_unfinished, 0);
    assert_eq!(totals.received, totals.acked + totals.nacked, "{report:?}");
    assert_eq!(log.count(|o| o == Outcome::Acked) as u64, totals.acked);
    assert_eq!(
        log.count(|o| o == Outcome::Nacked(NackCause::Explicit)) as u64,
        totals.nacked,
        "the engine nacked what it left"
    );
    assert_eq!(
        log.count(|o| o == Outcome::Nacked(NackCause::Dropped)) as u64,
        MESSAGES as u64 - totals.received,
        "what the engine never took goes back with its stream"
    );
    assert_eq!(
        report.in_flight_at_stop + report.received_while_stopping,
        report.drained + report.left,
        "{report:?}"
    );
    let published: BTreeSet<String> = rig
        .publisher
        .on("shipping")
        .iter()
        .map(|m| m.attributes().causation_id().unwrap().to_owned())
        .collect();
    assert_eq!(
        published,
        log.acked_ids(),
        "acked exactly what was processed"
    );
}

fn busy_engine() -> EngineBuilder {
    Engine::builder().workers(2).worker_queue(16)
}

#[tokio::test(start_paused = true)]
async fn stopping_at_the_deadline_nacks_what_is_left_and_loses_nothing() {
    let rig = Rig::new(busy_engine(), slow_router(Duration::from_millis(10)))
        .start()
        .await;
    for _ in 0..MESSAGES {
        rig.feeder.send(typed("orders.created")).await;
    }
    rig.publisher.wait_published(4).await;
    // Two workers at 10 ms a message cannot drain what is queued in 50 ms.
    let report = within("stop", rig.engine.stop(Duration::from_millis(50)))
        .await
        .unwrap();
    assert!(!report.quiescent, "{report:?}");
    assert!(report.drained > 0, "{report:?}");
    assert!(report.left > 0, "{report:?}");
    check_accounting(&rig, &report);
}

#[tokio::test(start_paused = true)]
async fn a_long_enough_stop_drains_everything_including_the_loop() {
    let rig = Rig::new(busy_engine(), slow_router(Duration::from_millis(10)))
        .start()
        .await;
    for _ in 0..MESSAGES {
        rig.feeder.send(typed("orders.created")).await;
    }
    rig.publisher.wait_published(1).await;
    let report = within("stop", rig.engine.stop(Duration::from_secs(60)))
        .await
        .unwrap();
    assert!(report.quiescent, "{report:?}");
    assert_eq!(report.left, 0);
    assert_eq!(report.totals.nacked, 0);
    assert!(report.drained > 0);
    check_accounting(&rig, &report);
    assert_eq!(
        rig.publisher
            .closes
            .load(std::sync::atomic::Ordering::SeqCst),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_immediate_stop_under_real_concurrency_loses_nothing() {
    let rig = Rig::new(busy_engine(), slow_router(Duration::ZERO))
        .start()
        .await;
    for _ in 0..MESSAGES {
        rig.feeder.send(typed("orders.created")).await;
    }
    let report = within("stop", rig.engine.stop(Duration::ZERO))
        .await
        .unwrap();
    check_accounting(&rig, &report);
}

#[tokio::test(start_paused = true)]
async fn each_worker_count_drains_completely() {
    for workers in [1, 3] {
        let rig = Rig::new(
            Engine::builder().workers(workers),
            slow_router(Duration::from_millis(1)),
        )
        .start()
        .await;
        for _ in 0..MESSAGES {
            rig.feeder.send(typed("orders.created")).await;
        }
        rig.feeder.log.settled(MESSAGES).await;
        let report = within("stop", rig.engine.stop(Duration::from_secs(1)))
            .await
            .unwrap();
        assert_eq!(report.totals.acked, MESSAGES as u64, "{workers} workers");
        assert_eq!(report.in_flight_at_stop, 0);
        check_accounting(&rig, &report);
    }
}

/// `Duration::MAX` as the close timeout means "no limit": neither `stop` nor a start that
/// fails (and closes the subscribers it opened) may panic adding it to the clock.
#[tokio::test(start_paused = true)]
async fn an_unbounded_close_timeout_means_no_limit() {
    let unbounded = || Engine::builder().close_timeout(Duration::MAX);

    let rig = Rig::new(unbounded(), slow_router(Duration::from_millis(1)))
        .start()
        .await;
    for _ in 0..MESSAGES {
        rig.feeder.send(typed("orders.created")).await;
    }
    rig.feeder.log.settled(MESSAGES).await;
    let report = within("stop", rig.engine.stop(Duration::from_secs(60)))
        .await
        .unwrap();
    assert!(report.quiescent, "{report:?}");
    assert_eq!(report.totals.acked, MESSAGES as u64);
    assert_eq!(report.close_failures, 0);
    assert_eq!(rig.publisher.closes.load(Ordering::SeqCst), 1);
    check_accounting(&rig, &report);

    let engine = unbounded().build().unwrap();
    let (err, first, _feeder) = start_with_a_closed_subscriber(&engine).await;
    assert!(
        matches!(
            &err,
            EngineError::Subscribe {
                source: Error::Closed { .. },
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        first.closes.load(Ordering::SeqCst),
        1,
        "the subscriber opened before the failure is closed"
    );
}

/// A publisher whose `close` counts its calls, then panics or waits until the test opens
/// its gate.
struct GatedClose {
    closes: std::sync::atomic::AtomicUsize,
    gate: tokio::sync::Semaphore,
    panics: bool,
}

impl GatedClose {
    fn new(panics: bool) -> std::sync::Arc<Self> {
        std::sync::Arc::new(Self {
            closes: std::sync::atomic::AtomicUsize::new(0),
            gate: tokio::sync::Semaphore::new(0),
            panics,
        })
    }
}

#[async_trait::async_trait]
impl switchyard_core::Publisher for GatedClose {
    async fn publish(&self, _topic: &str, _message: Message) -> switchyard_core::Result<()> {
        Ok(())
    }

    async fn close(&self) -> switchyard_core::Result<()> {
        self.closes.fetch_add(1, Ordering::SeqCst);
        assert!(!self.panics, "a publisher's close that panics");
        self.gate.acquire().await.expect("never closed").forget();
        Ok(())
    }
}

/// "Stopping twice is fine", and the report counts every root exactly, also when the first
/// `stop` is given up part-way (a `timeout` or `select!` around it, here while the
/// publishers close): the shutdown goes on without it, and the next `stop` returns its
/// report, with the message it nacked left and the publisher closed once. (The next `stop`
/// used to run the whole shutdown again: that message was reported nowhere, the drain
/// called quiescent, and the publisher closed twice.)
#[tokio::test(start_paused = true)]
async fn a_stop_given_up_part_way_then_stopped_again_reports_and_closes_once() {
    let (handler, mut handler_runs) = crate::hanging::hanging_handler();
    let router = Router::builder()
        .handle("orders.created", handler)
        .unwrap()
        .build();
    let publisher = GatedClose::new(false);
    let engine = Engine::new();
    let (subscriber, feeder) = super::support::ChannelSubscriber::new(16);
    engine.add_subscriber("in", subscriber, "orders").unwrap();
    engine.add_router("orders", router).unwrap();
    engine.add_publisher("mem://", publisher.clone()).unwrap();
    within("start", engine.start()).await.unwrap();

    let id = feeder.send(typed("orders.created")).await;
    within("the handler runs", handler_runs.recv()).await;

    // The first stop drains for 10 ms, nacks the message, and then waits on the close;
    // the caller gives up on it after a second (the close timeout is 5 s).
    let first = tokio::time::timeout(
        Duration::from_secs(1),
        engine.stop(Duration::from_millis(10)),
    )
    .await;
    assert!(first.is_err(), "the first stop was given up");
    assert!(matches!(feeder.log.outcome(&id), Some(Outcome::Nacked(_))));
    publisher.gate.add_permits(16);

    let report = within("second stop", engine.stop(Duration::from_millis(10)))
        .await
        .unwrap();
    let closes = publisher.closes.load(Ordering::SeqCst);
    assert_eq!(
        (report.left, report.quiescent, closes),
        (1, false, 1),
        "the root nacked by the shutdown is not in the report, and the publisher is closed \
         {closes} times: {report:?}"
    );
}

/// A publisher whose `close` panics is a close that failed: `stop` reports it and returns.
#[tokio::test(start_paused = true)]
async fn a_close_that_panics_counts_as_a_failed_close() {
    let publisher = GatedClose::new(true);
    let engine = Engine::new();
    let (subscriber, _feeder) = super::support::ChannelSubscriber::new(16);
    engine.add_subscriber("in", subscriber, "orders").unwrap();
    engine
        .add_router("orders", slow_router(Duration::ZERO))
        .unwrap();
    engine.add_publisher("mem://", publisher.clone()).unwrap();
    within("start", engine.start()).await.unwrap();

    let report = within("stop", engine.stop(Duration::from_secs(1)))
        .await
        .unwrap();
    assert_eq!(report.close_failures, 1, "{report:?}");
    assert_eq!(publisher.closes.load(Ordering::SeqCst), 1);
    // Stopping again returns the same report, and closes nothing again.
    let again = within("stop again", engine.stop(Duration::from_secs(1)))
        .await
        .unwrap();
    assert_eq!(again.close_failures, 1);
    assert_eq!(publisher.closes.load(Ordering::SeqCst), 1);
}

/// A subscriber whose stream panics when polled: a broken transport.
struct PanickingSubscriber;

#[async_trait::async_trait]
impl switchyard_core::Subscriber for PanickingSubscriber {
    async fn subscribe(
        &self,
        _topic: &str,
    ) -> switchyard_core::Result<switchyard_core::MessageStream> {
        Ok(Box::pin(futures::stream::poll_fn(
            |_| -> std::task::Poll<Option<switchyard_core::Result<Message>>> {
                panic!("a broken transport")
            },
        )))
    }

    async fn close(&self) -> switchyard_core::Result<()> {
        Ok(())
    }
}

/// An intake ended by a subscriber's panic takes no more input, and says so: `stop` does
/// not wait its whole timeout for that confirmation.
#[tokio::test(start_paused = true)]
async fn a_stop_after_a_subscriber_panicked_does_not_wait_its_timeout() {
    let engine = Engine::new();
    engine
        .add_subscriber("in", std::sync::Arc::new(PanickingSubscriber), "orders")
        .unwrap();
    engine
        .add_router("orders", slow_router(Duration::ZERO))
        .unwrap();
    engine
        .add_publisher("mem://", super::support::RecordingPublisher::new())
        .unwrap();
    within("start", engine.start()).await.unwrap();
    // Let the intake poll the stream, and end.
    tokio::task::yield_now().await;

    let timeout = Duration::from_secs(60);
    let report = within("stop", engine.stop(timeout)).await.unwrap();
    assert!(report.quiescent, "{report:?}");
    assert!(report.elapsed < timeout, "{report:?}");
}

/// A `stop` without a time limit, given up by its caller, and then the last handle
/// dropped: nobody can stop the engine any more, so, as for an engine dropped without
/// `stop`, its tasks end and nack what they hold; the shutdown's own task, which runs to its
/// end whoever waits, must not keep them running for good with a handler that never ends.
#[tokio::test(start_paused = true)]
async fn an_unbounded_stop_given_up_then_the_engine_dropped_ends_its_tasks() {
    let (handler, mut handler_runs) = crate::hanging::hanging_handler();
    let router = Router::builder()
        .handle("orders.created", handler)
        .unwrap()
        .build();
    let rig = Rig::new(Engine::builder(), router).start().await;
    let id = rig.feeder.send(typed("orders.created")).await;
    let mut alive = within("the handler", handler_runs.recv())
        .await
        .expect("the handler runs");

    let given_up =
        tokio::time::timeout(Duration::from_secs(1), rig.engine.stop(Duration::MAX)).await;
    assert!(given_up.is_err(), "the handler never ends");
    let Rig { engine, feeder, .. } = rig;
    drop(engine);

    within("the handler to be dropped", alive.closed()).await;
    within("the message to be settled", async {
        while feeder.log.outcome(&id).is_none() {
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert!(
        matches!(feeder.log.outcome(&id), Some(Outcome::Nacked(_))),
        "nacked for redelivery, not lost"
    );
}
