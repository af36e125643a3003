//! Shared test doubles: a handler that records when it was called, a recording publisher,
//! and deadline helpers.

use std::{
    future::Future,
    sync::{Arc, Mutex},
    time::Duration,
};

use async_trait::async_trait;
use switchyard_core::{Error, Handler, Message, Publisher, Result};
use tokio::time::Instant;

/// Awaits `future`, failing the test if it does not finish within an hour of tokio time.
/// Under the paused clock an hour passes instantly once everything else is idle, so a hang
/// fails fast instead of blocking the suite.
pub(crate) async fn within<F: Future>(future: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(3600), future)
        .await
        .expect("did not finish within the deadline: hung")
}

/// A message with a fixed id and source.
pub(crate) fn message(id: &str) -> Message {
    Message::builder()
        .id(id)
        .source("tests")
        .message_type("tests.input")
        .payload(id.to_owned())
        .build()
        .unwrap()
}

/// Asserts `low <= actual <= high`.
#[track_caller]
pub(crate) fn assert_between(actual: Duration, low: Duration, high: Duration) {
    assert!(
        low <= actual && actual <= high,
        "{actual:?} is outside [{low:?}, {high:?}]"
    );
}

/// When each call of a [`Recorded`] handler started.
#[derive(Clone, Default)]
pub(crate) struct Calls(Arc<Mutex<Vec<Instant>>>);

impl Calls {
    fn push(&self, at: Instant) -> u32 {
        let mut starts = self.0.lock().unwrap();
        starts.push(at);
        u32::try_from(starts.len()).unwrap()
    }

    pub(crate) fn count(&self) -> usize {
        self.0.lock().unwrap().len()
    }

    /// The start of each call, relative to `origin`.
    pub(crate) fn offsets(&self, origin: Instant) -> Vec<Duration> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .map(|at| *at - origin)
            .collect()
    }

    /// The time between consecutive starts.
    pub(crate) fn gaps(&self) -> Vec<Duration> {
        let starts = self.0.lock().unwrap();
        starts.windows(2).map(|pair| pair[1] - pair[0]).collect()
    }
}

/// A handler that records each call's start (tokio time) and answers with `f(call, message)`,
/// where `call` counts from 1.
pub(crate) struct Recorded<F> {
    f: F,
    calls: Calls,
}

/// Makes a [`Recorded`] handler and the record of its calls.
pub(crate) fn recorded<F, Fut>(f: F) -> (Recorded<F>, Calls)
where
    F: Fn(u32, Message) -> Fut + Send + Sync,
    Fut: Future<Output = Result<Vec<Message>>> + Send,
{
    let calls = Calls::default();
    (
        Recorded {
            f,
            calls: calls.clone(),
        },
        calls,
    )
}

#[async_trait]
impl<F, Fut> Handler for Recorded<F>
where
    F: Fn(u32, Message) -> Fut + Send + Sync,
    Fut: Future<Output = Result<Vec<Message>>> + Send,
{
    async fn handle(&self, message: &Message) -> Result<Vec<Message>> {
        let call = self.calls.push(Instant::now());
        (self.f)(call, message.clone()).await
    }
}

/// What a [`RecordingPublisher`] does with a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    Accept,
    Fail,
    Hang,
}

/// A publisher that records what it accepted.
pub(crate) struct RecordingPublisher {
    mode: Mode,
    published: Mutex<Vec<(String, Message)>>,
}

impl RecordingPublisher {
    pub(crate) fn new(mode: Mode) -> Arc<Self> {
        Arc::new(Self {
            mode,
            published: Mutex::new(Vec::new()),
        })
    }

    pub(crate) fn published(&self) -> Vec<(String, Message)> {
        self.published.lock().unwrap().clone()
    }
}

#[async_trait]
impl Publisher for RecordingPublisher {
    async fn publish(&self, topic: &str, message: Message) -> Result<()> {
        match self.mode {
            Mode::Accept => {
                self.published
                    .lock()
                    .unwrap()
                    .push((topic.to_owned(), message));
                Ok(())
            }
            Mode::Fail => Err(Error::transient_transport("poison broker unavailable")),
            Mode::Hang => std::future::pending().await,
        }
    }

    async fn close(&self) -> Result<()> {
        Ok(())
    }
}
