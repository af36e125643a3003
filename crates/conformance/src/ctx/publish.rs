//! Publishing with a deadline, retrying transient errors as an application would.

use std::time::Duration;

use switchyard_core::{Message, Publisher, deadline::deadline};
use tokio::time::{Instant, sleep, timeout_at};

use super::Ctx;
use crate::fixture::batch::key_of;

impl Ctx<'_> {
    /// Publishes `messages` one at a time, in order.
    pub(crate) async fn publish_all(
        &self,
        publisher: &dyn Publisher,
        topic: &str,
        messages: &[Message],
    ) {
        for message in messages {
            self.publish(publisher, topic, message, self.config.message_timeout())
                .await;
        }
    }

    /// Publishes one message, retrying transient errors until `budget` has passed. A
    /// permanent error, or no answer within the budget, fails the scenario.
    pub(crate) async fn publish(
        &self,
        publisher: &dyn Publisher,
        topic: &str,
        message: &Message,
        budget: Duration,
    ) {
        let until = deadline(Instant::now(), budget);
        loop {
            match timeout_at(until, publisher.publish(topic, message.clone())).await {
                Ok(Ok(())) => return,
                Ok(Err(err))
                    if err.is_transient()
                        && deadline(Instant::now(), self.config.retry_interval()) < until =>
                {
                    tracing::debug!(error = %err.report(), "conformance publish retried");
                    sleep(self.config.retry_interval()).await;
                }
                Ok(Err(err)) => panic!(
                    "publishing `{}` to `{topic}` failed: {}",
                    key_of(message).unwrap_or_default(),
                    err.report()
                ),
                Err(_) => panic!(
                    "publishing `{}` to `{topic}` did not succeed within {budget:?}",
                    key_of(message).unwrap_or_default()
                ),
            }
        }
    }

    /// Publishes `messages` with one `publish_batch` call.
    pub(crate) async fn publish_batch(
        &self,
        publisher: &dyn Publisher,
        topic: &str,
        messages: &[Message],
    ) {
        let wait = self.config.message_timeout();
        match tokio::time::timeout(wait, publisher.publish_batch(topic, messages.to_vec())).await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => panic!(
                "publishing a batch of {} to `{topic}` failed: {}",
                messages.len(),
                err.report()
            ),
            Err(_) => panic!(
                "publishing a batch of {} to `{topic}` did not return within {wait:?}",
                messages.len()
            ),
        }
    }
}
