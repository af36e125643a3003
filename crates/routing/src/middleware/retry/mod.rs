//! Retry: runs the handler again after a failure worth retrying, with exponential backoff
//! and jitter, bounded by a number of attempts and an elapsed-time budget.
//!
//! What is retried is decided by [`Error::is_transient`] unless
//! [`RetryLayerBuilder::retry_if`] says otherwise. When the handler fails for good, the
//! error is wrapped in a [`RetryError`] that records the number of attempts; outer layers
//! (the [poison queue](super::poison)) read it back with [`RetryError::find`].

mod error;
mod layer;

use std::sync::Arc;

use async_trait::async_trait;
use backon::Retryable;
use switchyard_core::{Error, Handler, Message, Result};
use tokio::time::Instant;

use self::layer::Policy;
pub use self::{
    error::{GiveUp, RetryError},
    layer::{RetryLayer, RetryLayerBuilder},
};

/// A handler wrapped in retries; made by [`RetryLayer`].
///
/// See [`RetryLayer`] for an example.
#[derive(Clone, Debug)]
pub struct Retry<H> {
    inner: H,
    policy: Arc<Policy>,
}

impl<H> Retry<H> {
    /// The wrapped handler.
    pub fn get_ref(&self) -> &H {
        &self.inner
    }
}

#[async_trait]
impl<H: Handler> Handler for Retry<H> {
    async fn handle(&self, message: &Message) -> Result<Vec<Message>> {
        let policy = &*self.policy;
        let started = Instant::now();
        let mut attempts: u32 = 0;
        // What stopped the retries; stays `NotRetryable` unless the backoff ran out first.
        let mut gave_up = GiveUp::NotRetryable;

        let result = (|| {
            attempts = attempts.saturating_add(1);
            self.inner.handle(message)
        })
        .retry(policy.backoff())
        .when(|err: &Error| policy.should_retry(err))
        .adjust(|_, next| match next {
            None => {
                gave_up = GiveUp::AttemptsExhausted;
                None
            }
            Some(delay) if policy.over_budget(started.elapsed().saturating_add(delay)) => {
                gave_up = GiveUp::ElapsedExhausted;
                None
            }
            delay => delay,
        })
        .notify(|err: &Error, delay| {
            metrics::counter!("switchyard_middleware_retries_total").increment(1);
            tracing::debug!(
                ?delay,
                transient = err.is_transient(),
                error = %err.report(),
                "retrying handler"
            );
        })
        .await;

        result.map_err(|last| RetryError::new(attempts, gave_up, started.elapsed(), last).into())
    }
}

#[cfg(test)]
mod tests;
