//! [`TickerSubscriber`]: a [`Subscriber`] that calls a generator on an interval and emits
//! the messages it returns, such as a periodic `order.timeout.check`.

use std::{
    collections::VecDeque, fmt, future::Future, panic::AssertUnwindSafe, sync::Arc, time::Duration,
};

use async_trait::async_trait;
use futures::{FutureExt, StreamExt, future::BoxFuture, stream};
use switchyard_core::{
    Error, Message, MessageStream, Result, Subscriber,
    deadline::{FAR_FUTURE, deadline},
};
use tokio::time::{Instant, Interval, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use crate::EngineError;

/// One tick of a [`TickerSubscriber`], given to its generator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Tick {
    /// 1 for the first tick of a subscription, then 2, 3, ...
    pub number: u64,
    /// When the tick was due, on tokio's clock.
    pub scheduled: Instant,
}

type Generator = dyn Fn(Tick) -> BoxFuture<'static, Result<Vec<Message>>> + Send + Sync;

/// A [`Subscriber`] that calls a generator every `period` and emits the messages it
/// returns, in order.
///
/// - The first tick is one period after `subscribe`, as with a Go ticker, and the next
///   ones follow every period. A tick that comes due while the consumer is busy (the
///   engine applying backpressure) is skipped rather than burst: one check after a stall,
///   not a pile of them.
/// - A generator error is emitted as an error item of the stream (the engine reports it as
///   a subscriber error) and the ticker goes on. So is a generator that panics, as an
///   [`Error::Handler`] with the panic's text.
/// - A period longer than [`FAR_FUTURE`] (30 years), such as `Duration::MAX`, never comes
///   due: the ticker never ticks, and its streams end only at `close`. That is what
///   `Duration::MAX` means wherever Switchyard takes a duration: no limit, not a panic.
/// - The topic given to `subscribe` is not used: a ticker has nothing to subscribe to.
/// - The messages keep the acker they were built with, which nothing upstream waits for:
///   a tick that is nacked is not emitted again, the next tick is the retry.
/// - [`close`](Subscriber::close) ends every stream of this ticker at once, dropping a
///   generator call under way and what is left of the last tick; `subscribe` after
///   `close` fails with [`Error::Closed`].
///
/// ```
/// use std::time::Duration;
///
/// use futures::StreamExt;
/// use switchyard_core::{Message, Subscriber};
/// use switchyard_engine::TickerSubscriber;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build()?.block_on(async {
/// let ticker = TickerSubscriber::new(Duration::from_secs(60), |tick| async move {
///     let check = Message::builder()
///         .message_type("order.timeout.check")
///         .attribute("tick", tick.number.to_string())
///         .build()?;
///     Ok(vec![check])
/// })?;
/// let mut stream = ticker.subscribe("unused").await?;
/// let first = stream.next().await.expect("a tick")?; // one minute later, on the paused clock
/// assert_eq!(first.attributes().get("tick"), Some("1"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct TickerSubscriber {
    period: Duration,
    generator: Arc<Generator>,
    closed: CancellationToken,
}

impl TickerSubscriber {
    /// A ticker that calls `generator` every `period`; one that never ticks for a period
    /// past [`FAR_FUTURE`].
    ///
    /// # Errors
    ///
    /// [`EngineError::Config`] for a zero period.
    pub fn new<F, Fut>(period: Duration, generator: F) -> Result<Self, EngineError>
    where
        F: Fn(Tick) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Vec<Message>>> + Send + 'static,
    {
        if period.is_zero() {
            return Err(EngineError::Config {
                setting: "period",
                reason: "must not be zero",
            });
        }
        Ok(Self {
            period,
            generator: Arc::new(move |tick| Box::pin(generator(tick))),
            closed: CancellationToken::new(),
        })
    }

    /// The period.
    pub fn period(&self) -> Duration {
        self.period
    }
}

/// The state of one subscription's stream.
struct Ticking {
    /// `None` for a period that never comes due: tokio's `Interval` would panic adding
    /// such a period to the time of a tick.
    interval: Option<Interval>,
    number: u64,
    /// What the last tick returned and is not emitted yet; as long as one generator call's
    /// output, which the generator bounds.
    pending: VecDeque<Message>,
    generator: Arc<Generator>,
    closed: CancellationToken,
}

impl Ticking {
    /// The next item: a message left from the last tick, or the first of the next tick
    /// that produces any; `None` once the ticker is closed.
    async fn next(&mut self) -> Option<Result<Message>> {
        loop {
            // Checked before what is left of the last tick too: `close` ends the stream at
            // once, and those messages have nothing upstream waiting for them.
            if self.closed.is_cancelled() {
                return None;
            }
            if let Some(message) = self.pending.pop_front() {
                return Some(Ok(message));
            }
            let scheduled = tokio::select! {
                biased;
                () = self.closed.cancelled() => return None,
                scheduled = next_tick(self.interval.as_mut()) => scheduled,
            };
            self.number += 1;
            let tick = Tick {
                number: self.number,
                scheduled,
            };
            // The call is inside the future, so that a panic building the generator's future
            // is caught along with one while running it. Uncaught, it would unwind through
            // whoever polls this stream: in an engine, the intake, which takes no more input
            // from any subscriber after that. `AssertUnwindSafe` is sound as in the router
            // workers: the generator is only called again for the next tick, and state it
            // shares across calls must already tolerate a call stopped at any await.
            let generator = &self.generator;
            let generated = AssertUnwindSafe(async move { generator(tick).await }).catch_unwind();
            // Raced against `close`, which must end the stream even while a generator waits
            // (on a database that does not answer, say).
            let generated = tokio::select! {
                biased;
                () = self.closed.cancelled() => return None,
                generated = generated => generated,
            };
            match generated {
                Ok(Ok(messages)) => self.pending.extend(messages),
                Ok(Err(error)) => return Some(Err(error)),
                Err(panic) => {
                    let panic = switchyard_core::panic_text(panic.as_ref());
                    return Some(Err(Error::permanent_handler(format!(
                        "the ticker's generator panicked: {panic}"
                    ))));
                }
            }
        }
    }
}

/// The time of the next tick of `interval`; never, without one.
async fn next_tick(interval: Option<&mut Interval>) -> Instant {
    match interval {
        Some(interval) => interval.tick().await,
        None => std::future::pending().await,
    }
}

#[async_trait]
impl Subscriber for TickerSubscriber {
    async fn subscribe(&self, _topic: &str) -> Result<MessageStream> {
        if self.closed.is_cancelled() {
            return Err(Error::Closed {
                component: "ticker subscriber",
            });
        }
        // tokio's `Interval` adds the period to each tick's `Instant`, which panics where the
        // sum overflows (`Duration::MAX` does at once). Rather than probe the clock's limit,
        // a period past `FAR_FUTURE` never ticks; up to it, ticks stay centuries away from
        // any overflow.
        let interval = (self.period <= FAR_FUTURE).then(|| {
            let mut interval =
                tokio::time::interval_at(deadline(Instant::now(), self.period), self.period);
            interval.set_missed_tick_behavior(MissedTickBehavior::Skip);
            interval
        });
        let ticking = Ticking {
            interval,
            number: 0,
            pending: VecDeque::new(),
            generator: self.generator.clone(),
            closed: self.closed.clone(),
        };
        let stream = stream::unfold(ticking, |mut ticking| async move {
            let item = ticking.next().await?;
            Some((item, ticking))
        });
        Ok(stream.boxed())
    }

    async fn close(&self) -> Result<()> {
        self.closed.cancel();
        Ok(())
    }
}

impl fmt::Debug for TickerSubscriber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TickerSubscriber")
            .field("period", &self.period)
            .field("closed", &self.closed.is_cancelled())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
