//! Test doubles over tokio channels: a subscriber whose deliveries record how they were
//! settled, and a publisher that records, refuses or waits. They stand in for the
//! application's transports; they make no claim about any real one.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use async_trait::async_trait;
use switchyard_core::{
    AckSink, Acker, Error, Message, MessageStream, NackCause, Publisher, Result, Subscriber,
};
use switchyard_engine::{Engine, EngineBuilder, EngineError, TickerSubscriber};
use switchyard_routing::router::Router;
use tokio::sync::{Notify, Semaphore, mpsc};
use tokio_stream::wrappers::ReceiverStream;

/// Starts `engine` with two subscribers: `first`, and `closed`, a ticker closed before the
/// start, which fails the start. Returns the start's error, and `first` with its feeder, to
/// check what became of it.
pub(crate) async fn start_with_a_closed_subscriber(
    engine: &Engine,
) -> (EngineError, Arc<ChannelSubscriber>, Feeder) {
    let (first, feeder) = ChannelSubscriber::new(1);
    let closed = TickerSubscriber::new(Duration::from_secs(1), |_tick| async {
        Ok(Vec::<Message>::new())
    })
    .unwrap();
    closed.close().await.unwrap();
    engine.add_subscriber("first", first.clone(), "t").unwrap();
    engine
        .add_subscriber("closed", Arc::new(closed), "t")
        .unwrap();
    let err = within("start", engine.start()).await.unwrap_err();
    (err, first, feeder)
}

/// How long any wait may take before the test fails as hung. Paused-clock tests reach it
/// at once when nothing else can run.
pub(crate) const DEADLINE: Duration = Duration::from_secs(20);

/// Awaits `future`, failing the test if it takes longer than [`DEADLINE`].
pub(crate) async fn within<F: std::future::Future>(what: &str, future: F) -> F::Output {
    match tokio::time::timeout(DEADLINE, future).await {
        Ok(output) => output,
        Err(_) => panic!("{what}: still waiting after {DEADLINE:?}, hung"),
    }
}

/// How a delivered message was settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Acked,
    Nacked(NackCause),
}

/// The outcome of every delivered message, by id.
#[derive(Clone, Default)]
pub(crate) struct AckLog {
    outcomes: Arc<Mutex<BTreeMap<String, Outcome>>>,
    changed: Arc<Notify>,
}

impl AckLog {
    fn record(&self, id: &str, outcome: Outcome) {
        let previous = self.outcomes.lock().unwrap().insert(id.to_owned(), outcome);
        assert!(previous.is_none(), "{id} settled twice");
        self.changed.notify_waiters();
    }

    pub(crate) fn outcome(&self, id: &str) -> Option<Outcome> {
        self.outcomes.lock().unwrap().get(id).copied()
    }

    pub(crate) fn len(&self) -> usize {
        self.outcomes.lock().unwrap().len()
    }

    pub(crate) fn count(&self, wanted: impl Fn(Outcome) -> bool) -> usize {
        self.outcomes
            .lock()
            .unwrap()
            .values()
            .filter(|o| wanted(**o))
            .count()
    }

    pub(crate) fn acked_ids(&self) -> BTreeSet<String> {
        self.outcomes
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, o)| **o == Outcome::Acked)
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// Waits until `n` messages are settled.
    pub(crate) async fn settled(&self, n: usize) {
        within("messages settled", async {
            loop {
                let changed = self.changed.notified();
                tokio::pin!(changed);
                changed.as_mut().enable();
                if self.len() >= n {
                    return;
                }
                changed.await;
            }
        })
        .await;
    }

    /// Waits for the outcome of `id`.
    pub(crate) async fn outcome_of(&self, id: &str) -> Outcome {
        within("an outcome", async {
            loop {
                let changed = self.changed.notified();
                tokio::pin!(changed);
                changed.as_mut().enable();
                if let Some(outcome) = self.outcome(id) {
                    return outcome;
                }
                changed.await;
            }
        })
        .await
    }
}

struct LogSink {
    id: String,
    log: AckLog,
}

impl AckSink for LogSink {
    fn ack(&self) {
        self.log.record(&self.id, Outcome::Acked);
    }

    fn nack(&self, cause: NackCause) {
        self.log.record(&self.id, Outcome::Nacked(cause));
    }
}

/// A subscriber fed by the test through a [`Feeder`]; its one stream is the receiving end of
/// a bounded channel.
pub(crate) struct ChannelSubscriber {
    receiver: Mutex<Option<mpsc::Receiver<Result<Message>>>>,
    pub(crate) closes: AtomicUsize,
}

/// The test's end of a [`ChannelSubscriber`].
#[derive(Clone)]
pub(crate) struct Feeder {
    sender: mpsc::Sender<Result<Message>>,
    pub(crate) log: AckLog,
}

impl ChannelSubscriber {
    pub(crate) fn new(capacity: usize) -> (Arc<Self>, Feeder) {
        let (sender, receiver) = mpsc::channel(capacity);
        let subscriber = Arc::new(Self {
            receiver: Mutex::new(Some(receiver)),
            closes: AtomicUsize::new(0),
        });
        (
            subscriber,
            Feeder {
                sender,
                log: AckLog::default(),
            },
        )
    }
}

#[async_trait]
impl Subscriber for ChannelSubscriber {
    async fn subscribe(&self, _topic: &str) -> Result<MessageStream> {
        let receiver = self.receiver.lock().unwrap().take().ok_or(Error::Closed {
            component: "test subscriber",
        })?;
        Ok(Box::pin(ReceiverStream::new(receiver)))
    }

    async fn close(&self) -> Result<()> {
        self.closes.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

impl Feeder {
    /// Delivers `message` with an acker that records its outcome under its id; returns
    /// the id.
    pub(crate) async fn send(&self, message: Message) -> String {
        let id = message
            .attributes()
            .id()
            .expect("built messages have an id")
            .to_owned();
        let acker = Acker::new(LogSink {
            id: id.clone(),
            log: self.log.clone(),
        });
        within(
            "room in the subscriber",
            self.sender.send(Ok(message.with_acker(acker))),
        )
        .await
        .expect("the engine holds the stream");
        id
    }

    /// Delivers an error item, as a transport that could not decode a frame does.
    pub(crate) async fn send_error(&self, error: Error) {
        within("room in the subscriber", self.sender.send(Err(error)))
            .await
            .expect("the engine holds the stream");
    }
}

/// What a [`RecordingPublisher`] does with a publish.
#[derive(Default)]
pub(crate) struct Behaviour {
    /// Topics whose publishes fail.
    pub(crate) reject: Vec<String>,
    /// When set, each message waits for a permit before it is recorded.
    pub(crate) gate: Option<Arc<Semaphore>>,
    /// Topics whose publishes panic: a bug in a transport.
    pub(crate) panic_on: Vec<String>,
}

/// A publisher that records what it publishes, by topic, or refuses.
pub(crate) struct RecordingPublisher {
    behaviour: Behaviour,
    published: Mutex<Vec<(String, Message)>>,
    changed: Notify,
    pub(crate) entered: AtomicUsize,
    pub(crate) closes: AtomicUsize,
}

impl RecordingPublisher {
    pub(crate) fn new() -> Arc<Self> {
        Self::with(Behaviour::default())
    }

    pub(crate) fn with(behaviour: Behaviour) -> Arc<Self> {
        Arc::new(Self {
            behaviour,
            published: Mutex::new(Vec::new()),
            changed: Notify::new(),
            entered: AtomicUsize::new(0),
            closes: AtomicUsize::new(0),
        })
    }

    /// The messages published to `topic`.
    pub(crate) fn on(&self, topic: &str) -> Vec<Message> {
        self.published
            .lock()
            .unwrap()
            .iter()
            .filter(|(t, _)| t == topic)
            .map(|(_, m)| m.clone())
            .collect()
    }

    /// Waits until `n` messages are published.
    pub(crate) async fn wait_published(&self, n: usize) {
        self.wait_until(|this| this.published.lock().unwrap().len() >= n)
            .await;
    }

    /// Waits until `n` publishes have started, gated or not.
    pub(crate) async fn wait_entered(&self, n: usize) {
        self.wait_until(|this| this.entered.load(Ordering::SeqCst) >= n)
            .await;
    }

    async fn wait_until(&self, done: impl Fn(&Self) -> bool) {
        within("publishes", async {
            loop {
                let changed = self.changed.notified();
                tokio::pin!(changed);
                changed.as_mut().enable();
                if done(self) {
                    return;
                }
                changed.await;
            }
        })
        .await;
    }
}

#[async_trait]
impl Publisher for RecordingPublisher {
    async fn publish(&self, topic: &str, message: Message) -> Result<()> {
        self.entered.fetch_add(1, Ordering::SeqCst);
        self.changed.notify_waiters();
        if let Some(gate) = &self.behaviour.gate {
            gate.acquire().await.expect("never closed").forget();
        }
        assert!(
            !self.behaviour.panic_on.iter().any(|t| t == topic),
            "publisher bug on {topic}"
        );
        if self.behaviour.reject.iter().any(|t| t == topic) {
            return Err(Error::permanent_transport(format!(
                "topic {topic} rejected: password=hunter2"
            )));
        }
        self.published
            .lock()
            .unwrap()
            .push((topic.to_owned(), message.detached()));
        self.changed.notify_waiters();
        Ok(())
    }

    async fn close(&self) -> Result<()> {
        self.closes.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// A message of `message_type`.
/// A router that handles `orders.created` and produces nothing: each message is acked.
pub(crate) fn absorbing_router() -> Router {
    Router::builder()
        .handle(
            "orders.created",
            switchyard_core::handler_fn(|_message: Message| async { Ok(Vec::<Message>::new()) }),
        )
        .expect("a valid type")
        .build()
}

pub(crate) fn typed(message_type: &str) -> Message {
    Message::builder()
        .message_type(message_type)
        .build()
        .expect("valid")
}

/// A message of `message_type` for `destination`.
pub(crate) fn to(message_type: &str, destination: &str) -> Message {
    Message::builder()
        .message_type(message_type)
        .destination(destination)
        .build()
        .expect("valid")
}

/// The value of `name` on `message`.
pub(crate) fn attr<'m>(message: &'m Message, name: &str) -> Option<&'m str> {
    message.attributes().get(name)
}

/// An engine wired the usual way for these tests: one subscriber `in`, one router (for the
/// source `orders` unless said otherwise), every `mem://` destination to one recording publisher, and the dead letter at
/// `mem://dead-letter`.
pub(crate) struct Rig {
    pub(crate) engine: Engine,
    pub(crate) feeder: Feeder,
    pub(crate) publisher: Arc<RecordingPublisher>,
}

impl Rig {
    pub(crate) fn new(builder: EngineBuilder, router: Router) -> Self {
        Self::with_publisher(builder, router, RecordingPublisher::new())
    }

    pub(crate) fn with_publisher(
        builder: EngineBuilder,
        router: Router,
        publisher: Arc<RecordingPublisher>,
    ) -> Self {
        Self::for_source(builder, "orders", router, publisher)
    }

    /// A rig whose router is registered for `source`.
    pub(crate) fn for_source(
        builder: EngineBuilder,
        source: &str,
        router: Router,
        publisher: Arc<RecordingPublisher>,
    ) -> Self {
        let engine = builder.build().expect("valid settings");
        let (subscriber, feeder) = ChannelSubscriber::new(1024);
        engine
            .add_subscriber("in", subscriber, "orders")
            .expect("registered");
        engine.add_router(source, router).expect("registered");
        engine
            .add_publisher("mem://", publisher.clone())
            .expect("registered");
        engine
            .set_dead_letter("mem://dead-letter")
            .expect("registered");
        Self {
            engine,
            feeder,
            publisher,
        }
    }

    pub(crate) async fn start(self) -> Self {
        within("start", self.engine.start()).await.expect("starts");
        self
    }

    /// The messages published to the dead letter.
    pub(crate) fn dead_letters(&self) -> Vec<Message> {
        self.publisher.on("dead-letter")
    }
}
