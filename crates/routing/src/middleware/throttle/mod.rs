//! Throttle: a rate limit of N handler calls per period; a call over the rate waits for its
//! turn, up to a bounded wait, and past it fails with a transient [`ThrottledError`].

mod error;
mod layer;
mod limiter;

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use async_trait::async_trait;
use switchyard_core::{Handler, Message, Result};
use tokio::time::Instant;

use self::limiter::{SlidingLog, Turn};
pub use self::{
    error::ThrottledError,
    layer::{ThrottleLayer, ThrottleLayerBuilder},
};
use crate::middleware::lock;

/// A rate-limited handler; made by [`ThrottleLayer`].
#[derive(Clone, Debug)]
pub struct Throttle<H> {
    inner: H,
    shared: Arc<Shared>,
}

impl<H> Throttle<H> {
    /// The wrapped handler.
    pub fn get_ref(&self) -> &H {
        &self.inner
    }
}

#[async_trait]
impl<H: Handler> Handler for Throttle<H> {
    async fn handle(&self, message: &Message) -> Result<Vec<Message>> {
        self.shared.acquire().await?;
        self.inner.handle(message).await
    }
}

/// The limiter, shared by every handler that one layer wraps.
#[derive(Debug)]
pub(super) struct Shared {
    log: Mutex<SlidingLog>,
    max_wait: Duration,
}

impl Shared {
    fn new(log: SlidingLog, max_wait: Duration) -> Self {
        Self {
            log: Mutex::new(log),
            max_wait,
        }
    }

    /// Waits for this call's turn. The turn is reserved before waiting, so waiters go in
    /// order and no lock is held while they sleep; a waiter that is cancelled hands its
    /// turn back (see [`SlidingLog::withdraw`]).
    async fn acquire(&self) -> Result<(), ThrottledError> {
        let now = Instant::now();
        let reserved = lock(&self.log).reserve(now, self.max_wait);
        match reserved {
            Ok(turn) => {
                if turn.at > now {
                    let waiting = Waiting {
                        shared: self,
                        turn: Some(turn),
                    };
                    tokio::time::sleep_until(turn.at).await;
                    waiting.started();
                }
                Ok(())
            }
            Err(wait) => {
                metrics::counter!("switchyard_middleware_throttled_total").increment(1);
                tracing::debug!(?wait, max_wait = ?self.max_wait, "throttle refused a call");
                Err(ThrottledError::new(wait, self.max_wait))
            }
        }
    }
}

/// A reserved turn not reached yet. Dropping it before [`Waiting::started`] (the caller was
/// cancelled while it slept) withdraws the reservation, so that the slot is not lost.
struct Waiting<'a> {
    shared: &'a Shared,
    turn: Option<Turn>,
}

impl Waiting<'_> {
    /// The turn came and the call starts: the grant stays in the log.
    fn started(mut self) {
        self.turn = None;
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        if let Some(turn) = self.turn.take() {
            lock(&self.shared.log).withdraw(turn);
        }
    }
}
