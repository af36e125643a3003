//! A recording, gated inner publisher for the batching tests: a test double for the
//! publisher that `BatchingPublisher` wraps, not for a transport.

use std::{
    future::Future,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use async_trait::async_trait;
use switchyard_core::{Error, Message, Publisher, Result};
use tokio::{
    sync::{Semaphore, oneshot, watch},
    time::Instant,
};

/// The attribute that makes [`Inner`] fail a batch: `transient`, `permanent` or `panic`.
pub(super) const FAIL: &str = "fail";

/// Fails a test that would otherwise hang: with the paused clock, a future that can never
/// finish makes the runtime jump to this deadline.
pub(super) async fn within<F: Future>(future: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(600), future)
        .await
        .expect("did not finish within the deadline")
}

/// One call to [`Publisher::publish_batch`], recorded when it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Call {
    pub(super) topic: String,
    pub(super) payloads: Vec<String>,
    pub(super) at: Instant,
}

/// Records every batch; optionally holds each batch at a gate until the test opens it;
/// fails batches that hold a message marked with [`FAIL`].
pub(super) struct Inner {
    calls: Mutex<Vec<Call>>,
    finished: AtomicUsize,
    closes: AtomicUsize,
    gate: Option<Semaphore>,
    /// Bumped whenever a batch starts or finishes, so that tests wait for events rather
    /// than spin (a spinning task would keep the paused clock from advancing).
    changes: watch::Sender<u64>,
}

impl Inner {
    fn with_gate(gate: Option<Semaphore>) -> Arc<Self> {
        Arc::new(Self {
            calls: Mutex::default(),
            finished: AtomicUsize::default(),
            closes: AtomicUsize::default(),
            gate,
            changes: watch::channel(0).0,
        })
    }

    /// Answers every batch at once.
    pub(super) fn new() -> Arc<Self> {
        Self::with_gate(None)
    }

    /// Holds every batch until [`open`](Self::open) lets it through.
    pub(super) fn gated() -> Arc<Self> {
        Self::with_gate(Some(Semaphore::new(0)))
    }

    /// A publisher that forwards to this one, and a receiver that resolves once every
    /// clone of that publisher has been dropped: how a test sees that the batching task
    /// which held it has ended.
    pub(super) fn tracked(self: &Arc<Self>) -> (Arc<dyn Publisher>, oneshot::Receiver<()>) {
        let (alive, gone) = oneshot::channel();
        let tracked = Tracked {
            inner: Arc::clone(self),
            _alive: alive,
        };
        (Arc::new(tracked), gone)
    }

    /// Waits until `condition` holds, checking whenever a batch starts or finishes.
    pub(super) async fn until(&self, condition: impl Fn(&Self) -> bool) {
        let mut changes = self.changes.subscribe();
        within(async {
            while !condition(self) {
                changes.changed().await.expect("the sender lives in self");
            }
        })
        .await;
    }

    /// Whether `condition` still does not hold once every task is idle: on the paused
    /// clock, the runtime only jumps to the timeout's deadline when nothing else can run.
    pub(super) async fn never(&self, condition: impl Fn(&Self) -> bool) -> bool {
        tokio::time::timeout(Duration::from_secs(1), self.until(condition))
            .await
            .is_err()
    }

    /// Lets `batches` more batches through the gate.
    pub(super) fn open(&self, batches: usize) {
        if let Some(gate) = &self.gate {
            gate.add_permits(batches);
        }
    }

    /// Every batch started so far, in order.
    pub(super) fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }

    /// The size of every batch started so far, in order.
    pub(super) fn sizes(&self) -> Vec<usize> {
        self.calls()
            .iter()
            .map(|call| call.payloads.len())
            .collect()
    }

    /// How many batches have been answered.
    pub(super) fn finished(&self) -> usize {
        self.finished.load(Ordering::SeqCst)
    }

    /// How many times `close` was called.
    pub(super) fn closes(&self) -> usize {
        self.closes.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Publisher for Inner {
    async fn publish(&self, topic: &str, message: Message) -> Result<()> {
        self.publish_batch(topic, vec![message]).await
    }

    async fn publish_batch(&self, topic: &str, messages: Vec<Message>) -> Result<()> {
        let payloads = messages
            .iter()
            .map(|m| String::from_utf8_lossy(m.payload()).into_owned())
            .collect();
        self.calls.lock().unwrap().push(Call {
            topic: topic.to_owned(),
            payloads,
            at: Instant::now(),
        });
        self.changes.send_modify(|n| *n += 1);
        if let Some(gate) = &self.gate {
            gate.acquire().await.expect("gate is never closed").forget();
        }
        self.finished.fetch_add(1, Ordering::SeqCst);
        self.changes.send_modify(|n| *n += 1);
        let marks = messages.iter().filter_map(|m| m.attributes().get(FAIL));
        for mark in marks {
            match mark {
                "transient" => return Err(Error::transient_transport("broker unavailable")),
                "permanent" => return Err(Error::permanent_transport("not authorized")),
                "panic" => panic!("inner publisher panics, as the test asked"),
                _ => {}
            }
        }
        Ok(())
    }

    async fn close(&self) -> Result<()> {
        self.closes.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// Forwards to [`Inner`]; its drop tells [`Inner::tracked`]'s receiver.
struct Tracked {
    inner: Arc<Inner>,
    _alive: oneshot::Sender<()>,
}

#[async_trait]
impl Publisher for Tracked {
    async fn publish(&self, topic: &str, message: Message) -> Result<()> {
        self.inner.publish(topic, message).await
    }

    async fn publish_batch(&self, topic: &str, messages: Vec<Message>) -> Result<()> {
        self.inner.publish_batch(topic, messages).await
    }

    async fn close(&self) -> Result<()> {
        self.inner.close().await
    }
}

/// A message whose payload is `text`.
pub(super) fn msg(text: &str) -> Message {
    Message::new(text.to_owned())
}

/// A message whose payload is `text` and that makes [`Inner`] fail its batch `how`.
pub(super) fn failing(text: &str, how: &str) -> Message {
    Message::builder()
        .payload(text.to_owned())
        .attribute(FAIL, how)
        .build()
        .unwrap()
}
