//! Timeout: a deadline on each handler call; past it the call is dropped and the result is
//! [`Error::Timeout`], which is transient.

mod layer;

use std::time::Duration;

use async_trait::async_trait;
use switchyard_core::{Error, Handler, Message, Result};

pub use self::layer::TimeoutLayer;

/// The `operation` that a handler [`Error::Timeout`] names.
pub const OPERATION: &str = "handler";

/// A handler with a deadline per call; made by [`TimeoutLayer`].
#[derive(Clone, Debug)]
pub struct Timeout<H> {
    inner: H,
    after: Duration,
}

impl<H> Timeout<H> {
    /// The wrapped handler.
    pub fn get_ref(&self) -> &H {
        &self.inner
    }

    /// The deadline of each call.
    pub fn deadline(&self) -> Duration {
        self.after
    }
}

#[async_trait]
impl<H: Handler> Handler for Timeout<H> {
    async fn handle(&self, message: &Message) -> Result<Vec<Message>> {
        match tokio::time::timeout(self.after, self.inner.handle(message)).await {
            Ok(result) => result,
            Err(_elapsed) => {
                metrics::counter!("switchyard_middleware_timeouts_total").increment(1);
                tracing::debug!(after = ?self.after, "handler timed out");
                Err(Error::Timeout {
                    operation: OPERATION,
                    after: self.after,
                })
            }
        }
    }
}
