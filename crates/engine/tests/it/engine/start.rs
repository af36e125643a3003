//! A start given up part-way, by a timeout or a `select!` that drops its future while a
//! subscriber is still subscribing: what it had opened is closed, and the engine ends
//! stopped, truthfully reported, with nothing left running.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use async_trait::async_trait;
use switchyard_core::{Message, MessageStream, Publisher, Result, Subscriber};
use switchyard_engine::{Engine, EngineError, EngineState};
use tokio::sync::{Semaphore, mpsc};
use tokio_stream::wrappers::ReceiverStream;

use super::support::within;

/// What a [`Probe`] saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Event {
    /// `subscribe` was called.
    Subscribing(&'static str),
    /// `close` was called.
    Closed(&'static str),
}

/// A subscriber that reports its calls, and whose `subscribe` can be held until the test
/// releases it.
struct Probe {
    name: &'static str,
    /// `subscribe` waits for a permit of this, which the test never gives, when set.
    hold: Option<Semaphore>,
    events: mpsc::UnboundedSender<Event>,
    /// The sending end of the stream's channel: closed once the stream is dropped.
    feed: Mutex<Option<mpsc::Sender<Result<Message>>>>,
}

impl Probe {
    fn new(name: &'static str, held: bool, events: &mpsc::UnboundedSender<Event>) -> Arc<Self> {
        Arc::new(Self {
            name,
            hold: held.then(|| Semaphore::new(0)),
            events: events.clone(),
            feed: Mutex::new(None),
        })
    }

    /// Whether the stream that `subscribe` returned is still held by someone.
    fn stream_alive(&self) -> bool {
        self.feed
            .lock()
            .unwrap()
            .as_ref()
            .is_some_and(|feed| !feed.is_closed())
    }
}

#[async_trait]
impl Subscriber for Probe {
    async fn subscribe(&self, _topic: &str) -> Result<MessageStream> {
        let _ = self.events.send(Event::Subscribing(self.name));
        if let Some(hold) = &self.hold {
            hold.acquire().await.expect("never closed").forget();
        }
        let (feed, receiver) = mpsc::channel(1);
        *self.feed.lock().unwrap() = Some(feed);
        Ok(Box::pin(ReceiverStream::new(receiver)))
    }

    async fn close(&self) -> Result<()> {
        let _ = self.events.send(Event::Closed(self.name));
        Ok(())
    }
}

/// A publisher that reports its close; it is never published to.
struct ClosingPublisher {
    events: mpsc::UnboundedSender<Event>,
}

#[async_trait]
impl Publisher for ClosingPublisher {
    async fn publish(&self, _topic: &str, _message: Message) -> Result<()> {
        panic!("nothing runs, so nothing is published");
    }

    async fn close(&self) -> Result<()> {
        let _ = self.events.send(Event::Closed("publisher"));
        Ok(())
    }
}

/// An engine with `first`, which subscribes at once, then `second`, which never finishes
/// subscribing, and `third`, which is never reached; and a publisher, which the engine
/// owns and closes.
fn engine_with_a_held_subscriber() -> (Engine, [Arc<Probe>; 3], mpsc::UnboundedReceiver<Event>) {
    let (events_tx, events) = mpsc::unbounded_channel();
    let probes = [
        Probe::new("first", false, &events_tx),
        Probe::new("second", true, &events_tx),
        Probe::new("third", false, &events_tx),
    ];
    let engine = Engine::new();
    engine
        .add_publisher("mem://", Arc::new(ClosingPublisher { events: events_tx }))
        .unwrap();
    for probe in &probes {
        engine
            .add_subscriber(probe.name, probe.clone(), "t")
            .unwrap();
    }
    (engine, probes, events)
}

/// Receives events until `first`, `second` and the publisher are closed; returns every
/// event seen.
async fn until_both_closed(events: &mut mpsc::UnboundedReceiver<Event>) -> Vec<Event> {
    let mut seen = Vec::new();
    let closed = ["first", "second", "publisher"].map(Event::Closed);
    within("the subscribers and the publisher closed", async {
        while !closed.iter().all(|event| seen.contains(event)) {
            seen.push(events.recv().await.expect("the probes hold the sender"));
        }
    })
    .await;
    seen
}

/// Checks what is left once the engine has stopped: the state, the report, no stream
/// held, and a start refused.
async fn check_stopped(engine: &Engine, probes: &[Arc<Probe>; 3]) {
    let report = within("stop", engine.stop(Duration::from_secs(1)))
        .await
        .expect("an engine whose start was given up can be stopped");
    assert_eq!(engine.state(), EngineState::Stopped);
    assert_eq!(engine.health().state, EngineState::Stopped);
    assert_eq!(report.totals.received, 0, "{report:?}");
    assert_eq!(report.close_failures, 0, "{report:?}");
    assert_eq!(report.tasks_unfinished, 0, "{report:?}");
    assert!(
        probes.iter().all(|probe| !probe.stream_alive()),
        "a subscription's stream is still held"
    );
    let again = within("start again", engine.start()).await;
    assert!(
        matches!(
            again,
            Err(EngineError::InvalidTransition {
                from: EngineState::Stopped,
                to: EngineState::Starting
            })
        ),
        "{again:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_start_given_up_by_a_timeout_closes_what_it_subscribed() {
    let (engine, probes, mut events) = engine_with_a_held_subscriber();
    let gave_up = tokio::time::timeout(Duration::from_secs(1), engine.start()).await;
    assert!(gave_up.is_err(), "the second subscribe never finishes");
    assert_ne!(engine.state(), EngineState::Starting, "stuck starting");

    // `stop` waits for what the given-up start had opened to be closed.
    check_stopped(&engine, &probes).await;
    let seen = until_both_closed(&mut events).await;
    assert!(
        !seen.contains(&Event::Subscribing("third")) && !seen.contains(&Event::Closed("third")),
        "the subscriber never reached is neither subscribed nor closed: {seen:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_start_dropped_by_a_select_is_rolled_back_without_a_stop() {
    let (engine, probes, mut events) = engine_with_a_held_subscriber();
    tokio::select! {
        started = engine.start() => panic!("the second subscribe never finishes: {started:?}"),
        () = async {
            while events.recv().await != Some(Event::Subscribing("second")) {}
        } => {}
    }
    assert_ne!(engine.state(), EngineState::Starting, "stuck starting");

    // Nobody calls `stop`: the subscribers are closed all the same.
    until_both_closed(&mut events).await;
    check_stopped(&engine, &probes).await;
}

#[tokio::test(start_paused = true)]
async fn a_stop_during_the_start_interrupts_it_and_closes_what_it_subscribed() {
    let (engine, probes, mut events) = engine_with_a_held_subscriber();
    let (started, stopped) = within("start and stop", async {
        tokio::join!(engine.start(), async {
            while events.recv().await != Some(Event::Subscribing("second")) {}
            engine.stop(Duration::from_secs(1)).await
        })
    })
    .await;
    assert!(
        matches!(started, Err(EngineError::StartInterrupted)),
        "{started:?}"
    );
    let report = stopped.expect("a stop during the start stops the engine");
    assert_eq!(report.close_failures, 0, "{report:?}");

    // `stop` returned once the start's subscribers and the publisher were closed.
    until_both_closed(&mut events).await;
    check_stopped(&engine, &probes).await;
}

#[tokio::test(start_paused = true)]
async fn a_stop_cannot_interrupt_a_start_that_nobody_polls_but_that_start_gives_up_later() {
    let (engine, probes, mut events) = engine_with_a_held_subscriber();
    let start = engine.start();
    tokio::pin!(start);
    tokio::select! {
        started = &mut start => panic!("the second subscribe never finishes: {started:?}"),
        () = async {
            while events.recv().await != Some(Event::Subscribing("second")) {}
        } => {}
    }

    // The start is not polled while this stop waits: it cannot give up in time.
    let refused = within("stop", engine.stop(Duration::from_secs(1))).await;
    assert!(
        matches!(
            refused,
            Err(EngineError::InvalidTransition {
                from: EngineState::Starting,
                to: EngineState::Stopping
            })
        ),
        "{refused:?}"
    );
    assert_eq!(engine.state(), EngineState::Starting);

    // Polled again, it finds the stop's request and gives up.
    let started = within("the start gives up", start).await;
    assert!(
        matches!(started, Err(EngineError::StartInterrupted)),
        "{started:?}"
    );
    until_both_closed(&mut events).await;
    check_stopped(&engine, &probes).await;
}
