//! Poison queue: a message that the handler cannot process, once the retries are spent, is
//! published to a poison topic with the reason and the attempt count, and then acked, so
//! that it stops blocking its partition or stream.

mod layer;

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use switchyard_core::{Error, Handler, Message, Publisher, Result, Throttle};

pub use self::layer::{PoisonQueueLayer, PoisonQueueLayerBuilder};
use crate::middleware::{ErrorFilter, retry::RetryError, truncate};

/// The attribute that carries why the message was poisoned: the handler error's
/// [report](Error::report), redacted and cut to [`MAX_REASON_LEN`] bytes.
pub const REASON_ATTRIBUTE: &str = "poisonreason";

/// The attribute that carries how many times the handler ran, as a decimal number: the count
/// recorded by a [retry](crate::middleware::retry) layer inside, or 1 without one.
pub const ATTEMPTS_ATTRIBUTE: &str = "poisonattempts";

/// The longest reason kept in [`REASON_ATTRIBUTE`], in bytes.
pub const MAX_REASON_LEN: usize = 1024;

/// A handler whose permanent failures go to a poison topic; made by [`PoisonQueueLayer`].
#[derive(Clone, Debug)]
pub struct PoisonQueue<H> {
    inner: H,
    config: Arc<Config>,
}

impl<H> PoisonQueue<H> {
    /// The wrapped handler.
    pub fn get_ref(&self) -> &H {
        &self.inner
    }
}

#[async_trait]
impl<H: Handler> Handler for PoisonQueue<H> {
    async fn handle(&self, message: &Message) -> Result<Vec<Message>> {
        let err = match self.inner.handle(message).await {
            Ok(outputs) => return Ok(outputs),
            Err(err) => err,
        };
        if !self.config.is_poison(&err) {
            return Err(err);
        }
        match self.config.publish(message, &err).await {
            Ok(()) => {
                metrics::counter!("switchyard_middleware_poisoned_total").increment(1);
                if let Some(suppressed) = self.config.warnings.admit() {
                    tracing::warn!(
                        topic = %self.config.topic,
                        message_type = message.attributes().message_type().unwrap_or_default(),
                        error = %err.report(),
                        suppressed,
                        "message sent to the poison queue"
                    );
                }
                // Published: the caller acks the original and the pipeline moves on.
                Ok(Vec::new())
            }
            Err(publish_err) => {
                metrics::counter!("switchyard_middleware_poison_failures_total").increment(1);
                if let Some(suppressed) = self.config.warnings.admit() {
                    tracing::error!(
                        topic = %self.config.topic,
                        error = %err.report(),
                        publish_error = %publish_err.report(),
                        suppressed,
                        "cannot publish to the poison queue; returning the handler error"
                    );
                }
                // Never lose the message: the caller sees the original failure and nacks or
                // dead-letters as it would without this layer.
                Err(err)
            }
        }
    }
}

/// The validated settings, shared by every handler the layer wraps.
struct Config {
    publisher: Arc<dyn Publisher>,
    topic: String,
    poison_if: Option<ErrorFilter>,
    publish_timeout: Duration,
    /// One log line a second about poisoned messages, with how many were left out; the
    /// metrics count every one.
    warnings: Throttle,
}

impl Config {
    fn is_poison(&self, err: &Error) -> bool {
        self.poison_if
            .as_ref()
            .is_none_or(|predicate| predicate(err))
    }

    async fn publish(&self, message: &Message, err: &Error) -> Result<()> {
        let report = err.report();
        let attempts = RetryError::attempts_of(err).unwrap_or(1);
        // A detached copy: publishing must not settle the original delivery, whose ack is
        // the caller's once this returns.
        let mut copy = message.detached();
        let attributes = copy.attributes_mut();
        attributes.insert(REASON_ATTRIBUTE, truncate(&report, MAX_REASON_LEN))?;
        attributes.insert(ATTEMPTS_ATTRIBUTE, attempts.to_string())?;
        match tokio::time::timeout(
            self.publish_timeout,
            self.publisher.publish(&self.topic, copy),
        )
        .await
        {
            Ok(result) => result,
            Err(_elapsed) => Err(Error::Timeout {
                operation: "poison queue publish",
                after: self.publish_timeout,
            }),
        }
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("topic", &self.topic)
            .field("custom_poison_if", &self.poison_if.is_some())
            .field("publish_timeout", &self.publish_timeout)
            .finish_non_exhaustive()
    }
}
