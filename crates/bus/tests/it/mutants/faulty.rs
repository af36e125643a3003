//! `Faulty`: a conformance harness over the real in-memory pub/sub (`MemoryPubSub`) whose
//! publishers and subscribers delegate to it, each breaking the contract in one way.

use std::{
    sync::{
        Arc, Mutex, MutexGuard,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::Duration,
};

use async_trait::async_trait;
use futures::stream;
use switchyard_bus::pubsub::{MemoryPubSub, PubSubConfig, SlowConsumerPolicy, SubscribeOptions};
use switchyard_conformance::Harness;
use switchyard_core::{Error, Message, MessageStream, Publisher, Result, Subscriber};

use super::stream::FaultyStream;

/// How the bus under the wrappers is configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Bus {
    /// As `switchyard-bus` runs the suite by default: deliveries ahead of acks.
    Defaults,
    /// One message in flight per subscription, which orders deliveries.
    InFlightOne,
}

/// The one fault a [`Faulty`] harness injects. Counts are 1-based and shared by every
/// client of the harness, unless said otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// None: the real bus, for the passing half of each check. Publishers and subscribers
    /// are the bus itself; group members delegate to it unchanged.
    Nothing,
    /// Every n-th publish returns `Ok` and is never delivered.
    LoseEvery(usize),
    /// The n-th delivery is delivered twice in a row (the same delivery, one acker).
    Duplicate(usize),
    /// Each publisher holds its n-th publish back and publishes it right after the next
    /// one: two adjacent messages of one publisher swap places. (A publisher that
    /// publishes nothing more loses it.)
    SwapPublishes(usize),
    /// The n-th delivery arrives with one payload byte changed.
    CorruptPayload(usize),
    /// The n-th delivery arrives with its `type` attribute changed.
    CorruptAttribute(usize),
    /// An explicit nack acks the delivery instead, so it is never redelivered.
    NackAcks,
    /// An explicit nack acks the delivery and publishes the message again, so that it
    /// comes back after everything published before the nack.
    NackRequeues,
    /// Every n-th publish goes to the topic published to most recently before it, if
    /// that was another one, instead of its own.
    Misroute(usize),
    /// Every n-th publish also goes to the topic published to most recently before it, if
    /// that was another one.
    Leak(usize),
    /// `Subscriber::close` returns `Ok` and does nothing.
    IgnoreSubscriberClose,
    /// Streams never end: once the bus closed them, they stay pending.
    StreamsNeverEnd,
    /// Once the bus closed a stream, the stream delivers its last message again (a fresh
    /// delivery) before it ends.
    DeliverAfterClose,
    /// `Publisher::close` returns `Ok` and does nothing.
    IgnorePublisherClose,
    /// A publisher's second `close` fails.
    PublisherCloseTwiceFails,
    /// A subscriber's second `close` fails.
    SubscriberCloseTwiceFails,
    /// A closed publisher accepts messages, and drops them.
    PublishAfterClose,
    /// A closed subscriber subscribes, to a stream that ends at once.
    SubscribeAfterClose,
    /// Members of a consumer group subscribe as if outside it: each gets every message.
    GroupsBroadcast,
    /// Every n-th delivery's ack nacks upstream instead, so that the acked message comes
    /// back (n = 1: acks are ignored, and every message is redelivered forever).
    AckRedelivers(usize),
    /// The first stream the harness hands out ends after its first delivery, although
    /// nothing closed its subscriber (its bus subscription is dropped, so the bus hands
    /// what it held to the rest of the group).
    FirstStreamEnds,
    /// No fault in what is delivered, but each publisher's n-th publish takes a second
    /// before it reaches the bus, as on a slow broker.
    SlowPublish(usize),
}

/// How long a [`Fault::SlowPublish`] publish takes: longer than the quiet period of
/// [`SuiteConfig::paused_clock`](switchyard_conformance::SuiteConfig::paused_clock), far
/// shorter than its message timeout.
const SLOW_PUBLISH: Duration = Duration::from_secs(1);

/// What every client of one harness shares.
#[derive(Default)]
pub(crate) struct Shared {
    published: AtomicUsize,
    pub(crate) delivered: AtomicUsize,
    streams: AtomicUsize,
    last_topic: Mutex<Option<String>>,
}

impl Shared {
    /// Remembers `topic` as the last published to, and returns the one before it if it
    /// was another topic.
    fn other_topic(&self, topic: &str) -> Option<String> {
        let mut last = lock(&self.last_topic);
        let previous = last.replace(topic.to_owned());
        previous.filter(|previous| previous != topic)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The harness: one bus, and the fault its clients inject.
pub(crate) struct Faulty {
    bus: MemoryPubSub,
    fault: Fault,
    shared: Arc<Shared>,
}

impl Faulty {
    pub(crate) fn new(bus: Bus, fault: Fault) -> Self {
        // As `switchyard-bus` runs the suite: short redelivery backoffs, and a block
        // timeout that backpressure never reaches.
        let mut config = PubSubConfig::builder()
            .redelivery_delay(Duration::from_millis(1))
            .max_redelivery_delay(Duration::from_millis(10))
            .policy(SlowConsumerPolicy::Block {
                timeout: Duration::from_secs(30),
            });
        if bus == Bus::InFlightOne {
            config = config.max_in_flight(1);
        }
        let config = config.build().expect("a valid pub/sub configuration");
        Self {
            bus: MemoryPubSub::new(config),
            fault,
            shared: Arc::default(),
        }
    }

    fn subscriber_with(&self, options: SubscribeOptions) -> Arc<FaultySubscriber> {
        Arc::new(FaultySubscriber {
            bus: self.bus.clone(),
            options,
            fault: self.fault,
            shared: self.shared.clone(),
            closes: Closes::default(),
        })
    }
}

#[async_trait]
impl Harness for Faulty {
    async fn publisher(&self) -> Result<Arc<dyn Publisher>> {
        if self.fault == Fault::Nothing {
            return Ok(Arc::new(self.bus.clone()));
        }
        Ok(Arc::new(FaultyPublisher {
            bus: self.bus.clone(),
            fault: self.fault,
            shared: self.shared.clone(),
            publishes: AtomicUsize::new(0),
            held: Mutex::new(None),
            closes: Closes::default(),
        }))
    }

    async fn subscriber(&self) -> Result<Arc<dyn Subscriber>> {
        if self.fault == Fault::Nothing {
            return Ok(Arc::new(self.bus.clone()));
        }
        Ok(self.subscriber_with(SubscribeOptions::default()))
    }

    async fn subscriber_in_group(&self, group: &str) -> Result<Arc<dyn Subscriber>> {
        if self.fault == Fault::GroupsBroadcast {
            return Ok(self.subscriber_with(SubscribeOptions::default()));
        }
        let options = SubscribeOptions::builder()
            .group(group)
            .build()
            .map_err(Error::permanent_transport)?;
        Ok(self.subscriber_with(options))
    }
}

/// How often a client was closed.
#[derive(Default)]
struct Closes {
    count: AtomicUsize,
    closed: AtomicBool,
}

impl Closes {
    /// Counts a close; whether it is the second or a later one.
    fn again(&self) -> bool {
        self.closed.store(true, Ordering::Release);
        self.count.fetch_add(1, Ordering::AcqRel) > 0
    }

    fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }
}

fn second_close() -> Error {
    Error::permanent_transport("closed twice")
}

struct FaultyPublisher {
    bus: MemoryPubSub,
    fault: Fault,
    shared: Arc<Shared>,
    publishes: AtomicUsize,
    held: Mutex<Option<(String, Message)>>,
    closes: Closes,
}

#[async_trait]
impl Publisher for FaultyPublisher {
    async fn publish(&self, topic: &str, message: Message) -> Result<()> {
        if self.fault == Fault::PublishAfterClose && self.closes.is_closed() {
            return Ok(());
        }
        let n = self.shared.published.fetch_add(1, Ordering::AcqRel) + 1;
        let other = self.shared.other_topic(topic);
        let own = self.publishes.fetch_add(1, Ordering::AcqRel) + 1;
        match self.fault {
            Fault::LoseEvery(every) if n % every == 0 => Ok(()),
            Fault::Misroute(every) if n % every == 0 && other.is_some() => {
                let other = other.unwrap_or_default();
                self.bus.publish(&other, message).await
            }
            Fault::Leak(every) if n % every == 0 && other.is_some() => {
                let other = other.unwrap_or_default();
                self.bus.publish(&other, message.clone()).await?;
                self.bus.publish(topic, message).await
            }
            Fault::SlowPublish(at) if own == at => {
                tokio::time::sleep(SLOW_PUBLISH).await;
                self.bus.publish(topic, message).await
            }
            Fault::SwapPublishes(at) if own == at => {
                *lock(&self.held) = Some((topic.to_owned(), message));
                Ok(())
            }
            Fault::SwapPublishes(at) if own == at + 1 => {
                self.bus.publish(topic, message).await?;
                let held = lock(&self.held).take();
                match held {
                    Some((topic, message)) => self.bus.publish(&topic, message).await,
                    None => Ok(()),
                }
            }
            _ => self.bus.publish(topic, message).await,
        }
    }

    async fn close(&self) -> Result<()> {
        if self.closes.again() && self.fault == Fault::PublisherCloseTwiceFails {
            return Err(second_close());
        }
        if self.fault == Fault::IgnorePublisherClose {
            return Ok(());
        }
        self.bus.close().await
    }
}

struct FaultySubscriber {
    bus: MemoryPubSub,
    options: SubscribeOptions,
    fault: Fault,
    shared: Arc<Shared>,
    closes: Closes,
}

#[async_trait]
impl Subscriber for FaultySubscriber {
    async fn subscribe(&self, topic: &str) -> Result<MessageStream> {
        if self.fault == Fault::SubscribeAfterClose && self.closes.is_closed() {
            return Ok(Box::pin(stream::empty()));
        }
        let inner = self.bus.subscribe_with(topic, self.options.clone())?;
        let mut stream = FaultyStream::new(inner.into(), self.fault, self.shared.clone());
        let first = self.shared.streams.fetch_add(1, Ordering::AcqRel) == 0;
        if self.fault == Fault::FirstStreamEnds && first {
            stream = stream.ending_after(1);
        }
        if self.fault == Fault::NackRequeues {
            stream = stream.requeue_to(self.bus.clone(), topic);
        }
        Ok(Box::pin(stream))
    }

    async fn close(&self) -> Result<()> {
        if self.closes.again() && self.fault == Fault::SubscriberCloseTwiceFails {
            return Err(second_close());
        }
        if self.fault == Fault::IgnoreSubscriberClose {
            return Ok(());
        }
        self.bus.close().await
    }
}
