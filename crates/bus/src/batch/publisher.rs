//! [`BatchingPublisher`]: the handle that callers publish through.

use std::{fmt, sync::Arc};

use async_trait::async_trait;
use switchyard_core::{Error, Message, Publisher, Result};
use tokio::{
    sync::{OnceCell, OwnedSemaphorePermit, Semaphore, TryAcquireError, mpsc, oneshot, watch},
    time::Instant,
};
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use super::{
    BatchConfig, COMPONENT, Receipt, closed,
    driver::{Accepted, Driver, DriverParts, FlushRequest},
    error::ErrorTemplate,
};

/// How many `flush()` calls may wait to be seen by the driver at once; more wait their
/// turn to send.
const FLUSH_QUEUE: usize = 16;

/// A [`Publisher`] that gathers messages into batches per topic and sends each batch with
/// one call to the inner publisher's [`publish_batch`](Publisher::publish_batch).
///
/// A batch is sent when it reaches [`max_batch_size`](BatchConfig::max_batch_size) or when
/// its oldest message has waited [`max_latency`](BatchConfig::max_latency), whichever
/// comes first. [`publish`](Publisher::publish) returns when the batch holding its message
/// has been answered, with that batch's result; [`enqueue`](Self::enqueue) returns a
/// [`Receipt`] as soon as the message is accepted, so that one task can keep many messages
/// in flight. See the [module documentation](super) for the guarantees on ordering,
/// cancellation, backpressure, closing and dropping.
///
/// `P` is any publisher, `dyn Publisher` included (the default), so it wraps an
/// `Arc<dyn Publisher>` picked at run time as well as a concrete type. Handles are cheap to
/// clone and share one background task.
///
/// ```
/// use std::sync::{Arc, Mutex};
///
/// use async_trait::async_trait;
/// use switchyard_bus::batch::{BatchConfig, BatchingPublisher};
/// use switchyard_core::{Message, Publisher, Result};
///
/// /// Records the size of every batch it is given.
/// #[derive(Default)]
/// struct Sizes(Mutex<Vec<usize>>);
///
/// #[async_trait]
/// impl Publisher for Sizes {
///     async fn publish(&self, topic: &str, message: Message) -> Result<()> {
///         self.publish_batch(topic, vec![message]).await
///     }
///     async fn publish_batch(&self, _topic: &str, messages: Vec<Message>) -> Result<()> {
///         self.0.lock().unwrap().push(messages.len());
///         Ok(())
///     }
///     async fn close(&self) -> Result<()> {
///         Ok(())
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<()> {
/// let sizes = Arc::new(Sizes::default());
/// let inner: Arc<dyn Publisher> = sizes.clone();
/// let config = BatchConfig::builder().max_batch_size(3).build().expect("valid");
/// let publisher: BatchingPublisher = BatchingPublisher::new(inner, config);
///
/// // Accept five messages without waiting for each: one full batch of three is sent at
/// // once, the other two when the oldest of them has waited `max_latency`.
/// let mut receipts = Vec::new();
/// for n in 0..5 {
///     receipts.push(publisher.enqueue("orders", Message::new(format!("{n}"))).await?);
/// }
/// for receipt in receipts {
///     receipt.await?;
/// }
/// publisher.close().await?;
/// assert_eq!(*sizes.0.lock().unwrap(), [3, 2]);
/// # Ok(())
/// # }
/// ```
pub struct BatchingPublisher<P: ?Sized = dyn Publisher> {
    shared: Arc<Shared<P>>,
}

/// What every handle shares. Its drop, when the last handle goes, stops the driver.
struct Shared<P: ?Sized> {
    config: BatchConfig,
    accepted: mpsc::Sender<Accepted>,
    flushes: mpsc::Sender<FlushRequest>,
    permits: Arc<Semaphore>,
    watermark: watch::Receiver<u64>,
    closing: CancellationToken,
    cancel: CancellationToken,
    tracker: TaskTracker,
    closed: OnceCell<Result<(), ErrorTemplate>>,
    inner: Arc<P>,
}

impl<P: ?Sized> Drop for Shared<P> {
    fn drop(&mut self) {
        // Nobody can close the publisher any more: stop the driver rather than leave it
        // running unowned. It fails whatever is still pending with `Error::Closed`.
        self.cancel.cancel();
    }
}

impl<P: Publisher + ?Sized + 'static> BatchingPublisher<P> {
    /// Wraps `inner`, and starts the background task that batches for it.
    ///
    /// # Panics
    ///
    /// Outside a Tokio runtime, as [`tokio::spawn`] does.
    pub fn new(inner: Arc<P>, config: BatchConfig) -> Self {
        // Every accepted message holds one of `max_pending` permits until it is answered,
        // so the channel, with as many slots, can never be full when a caller sends.
        let (accepted_tx, accepted_rx) = mpsc::channel(config.max_pending());
        let (flushes_tx, flushes_rx) = mpsc::channel(FLUSH_QUEUE);
        let permits = Arc::new(Semaphore::new(config.max_pending()));
        let (watermark_tx, watermark_rx) = watch::channel(0);
        let closing = CancellationToken::new();
        let cancel = CancellationToken::new();
        let tracker = TaskTracker::new();
        let driver = Driver::new(
            Arc::clone(&inner),
            config,
            DriverParts {
                accepted: accepted_rx,
                flushes: flushes_rx,
                permits: Arc::clone(&permits),
                watermark: watermark_tx,
                closing: closing.clone(),
                cancel: cancel.clone(),
            },
        );
        tracker.spawn(driver.run());
        tracker.close();
        Self {
            shared: Arc::new(Shared {
                config,
                accepted: accepted_tx,
                flushes: flushes_tx,
                permits,
                watermark: watermark_rx,
                closing,
                cancel,
                tracker,
                closed: OnceCell::new(),
                inner,
            }),
        }
    }

    /// Accepts `message` into the open batch of `topic` and returns its [`Receipt`],
    /// waiting for room while [`max_pending`](BatchConfig::max_pending) messages are
    /// pending. Waiters get room in the order they asked for it.
    ///
    /// Cancel-safe: if this future is dropped before it returns, the message was not
    /// accepted. Wrap it in [`tokio::time::timeout`] to bound the wait. Once it has
    /// returned, the message will be sent whether or not the receipt is awaited.
    ///
    /// Fails with [`Error::Closed`] after [`close`](Publisher::close), and with
    /// [`Error::TooLarge`] when the message breaks the configured
    /// [`limits`](BatchConfig::limits).
    pub async fn enqueue(&self, topic: &str, message: Message) -> Result<Receipt> {
        self.check(&message)?;
        let permit = Arc::clone(&self.shared.permits)
            .acquire_owned()
            .await
            .map_err(|_| closed())?;
        self.accept(topic, message, permit)
    }

    /// Accepts `message` as [`enqueue`](Self::enqueue) does, but fails at once with
    /// [`Error::QueueFull`] instead of waiting for room. The message is then dropped:
    /// clone it first (cloning a [`Message`] copies no payload) to try again later.
    ///
    /// Fails with [`Error::Closed`] and [`Error::TooLarge`] as `enqueue` does.
    pub fn try_enqueue(&self, topic: &str, message: Message) -> Result<Receipt> {
        self.check(&message)?;
        let permit = Arc::clone(&self.shared.permits)
            .try_acquire_owned()
            .map_err(|err| match err {
                TryAcquireError::NoPermits => queue_full(),
                TryAcquireError::Closed => closed(),
            })?;
        self.accept(topic, message, permit)
    }

    fn check(&self, message: &Message) -> Result<()> {
        if self.shared.closing.is_cancelled() {
            return Err(closed());
        }
        match self.shared.config.limits() {
            Some(limits) => limits.check(message),
            None => Ok(()),
        }
    }

    fn accept(
        &self,
        topic: &str,
        message: Message,
        permit: OwnedSemaphorePermit,
    ) -> Result<Receipt> {
        // Checked again: `close` may have started while this caller waited for room.
        if self.shared.closing.is_cancelled() {
            return Err(closed());
        }
        let (reply, result) = oneshot::channel();
        let accepted = Accepted {
            topic: topic.to_owned(),
            message,
            reply,
            accepted_at: Instant::now(),
            permit,
        };
        self.shared
            .accepted
            .try_send(accepted)
            .map_err(|err| match err {
                // Not reachable while every queued message holds a permit; kept typed anyway.
                mpsc::error::TrySendError::Full(_) => queue_full(),
                mpsc::error::TrySendError::Closed(_) => closed(),
            })?;
        Ok(Receipt::new(result))
    }

    /// Sends every open batch now, without waiting for size or latency, and waits until
    /// every message accepted before the call has been answered.
    ///
    /// The answers themselves go to each message's caller; `flush` fails only with
    /// [`Error::Closed`], when the publisher is closed or stops before it is done.
    pub async fn flush(&self) -> Result<()> {
        if self.shared.closing.is_cancelled() {
            return Err(closed());
        }
        let (reply, target) = oneshot::channel();
        self.shared
            .flushes
            .send(FlushRequest { reply })
            .await
            .map_err(|_| closed())?;
        let target = target.await.map_err(|_| closed())?;
        let mut watermark = self.shared.watermark.clone();
        watermark
            .wait_for(|answered_below| *answered_below >= target)
            .await
            .map_err(|_| closed())?;
        Ok(())
    }

    /// The configuration.
    pub fn config(&self) -> &BatchConfig {
        &self.shared.config
    }

    /// The inner publisher.
    pub fn inner(&self) -> &Arc<P> {
        &self.shared.inner
    }

    /// How many messages are accepted and not yet answered (batches being sent included),
    /// as of now.
    pub fn pending(&self) -> usize {
        self.shared
            .config
            .max_pending()
            .saturating_sub(self.shared.permits.available_permits())
    }

    /// Stops taking messages, lets the driver send everything pending, then closes the
    /// inner publisher, all within `close_timeout`.
    async fn shut_down(&self) -> Result<(), ErrorTemplate> {
        let shared = &self.shared;
        shared.closing.cancel();
        // Callers waiting for room get `Error::Closed` rather than a place in a batch that
        // would never be sent.
        shared.permits.close();
        let timeout = shared.config.close_timeout();
        let drained = tokio::time::timeout(timeout, async {
            shared.tracker.wait().await;
            shared.inner.close().await
        })
        .await;
        match drained {
            Ok(result) => result.map_err(ErrorTemplate::new),
            Err(_elapsed) => {
                tracing::warn!(
                    ?timeout,
                    "batching publisher close timed out; failing what is still pending"
                );
                shared.cancel.cancel();
                shared.tracker.wait().await;
                Err(ErrorTemplate::new(Error::Timeout {
                    operation: "batching publisher close",
                    after: timeout,
                }))
            }
        }
    }
}

#[async_trait]
impl<P: Publisher + ?Sized + 'static> Publisher for BatchingPublisher<P> {
    /// Accepts `message` (waiting for room) and returns when its batch has been answered,
    /// with the batch's result.
    ///
    /// If this future is dropped after the message was accepted, the message is still
    /// sent; only its result is lost.
    async fn publish(&self, topic: &str, message: Message) -> Result<()> {
        self.enqueue(topic, message).await?.await
    }

    /// Accepts every message in order (they join the topic's batches like any others) and
    /// returns when all have been answered: `Ok` if every one was published, otherwise the
    /// first error. Messages after one that could not be accepted are not sent.
    async fn publish_batch(&self, topic: &str, messages: Vec<Message>) -> Result<()> {
        let mut receipts = Vec::with_capacity(messages.len());
        let mut first_error = None;
        for message in messages {
            match self.enqueue(topic, message).await {
                Ok(receipt) => receipts.push(receipt),
                Err(error) => {
                    first_error = Some(error);
                    break;
                }
            }
        }
        for receipt in receipts {
            if let Err(error) = receipt.await {
                first_error.get_or_insert(error);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Stops taking messages, sends every pending batch, waits for the batches in flight,
    /// then closes the inner publisher.
    ///
    /// Idempotent: every call, concurrent ones included, waits for the one shutdown and
    /// returns its outcome. Gives up after [`close_timeout`](BatchConfig::close_timeout)
    /// with [`Error::Timeout`]; what was still pending then is failed with
    /// [`Error::Closed`] to its callers, and the inner publisher is not closed.
    async fn close(&self) -> Result<()> {
        self.shared
            .closed
            .get_or_init(|| self.shut_down())
            .await
            .as_ref()
            .map(|_| ())
            .map_err(ErrorTemplate::make)
    }
}

impl<P: ?Sized> Clone for BatchingPublisher<P> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<P: ?Sized> fmt::Debug for BatchingPublisher<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BatchingPublisher")
            .field("config", &self.shared.config)
            .field("closing", &self.shared.closing.is_cancelled())
            .finish_non_exhaustive()
    }
}

fn queue_full() -> Error {
    Error::QueueFull {
        queue: COMPONENT.to_owned(),
    }
}
