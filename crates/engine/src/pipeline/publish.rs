//! Publishing an output: the destination-to-topic mapping, and the [`Target`] that
//! publishes and settles the output's acker with the outcome.

use std::sync::Arc;

use switchyard_core::{Error, Message, Publisher};

use super::signal::Signal;
use crate::{EngineObserver, stats::ComponentStats};

/// The topic a destination is published to: the destination without its scheme.
///
/// `mem://orders` → `orders`, `kafka://orders/eu` → `orders/eu`. A destination without
/// `://` is its own topic. The scheme only picks the publisher (by the prefix it was
/// registered under); the rest names the topic within it.
///
/// ```
/// use switchyard_engine::topic_of;
///
/// assert_eq!(topic_of("mem://orders"), "orders");
/// ```
pub fn topic_of(destination: &str) -> &str {
    // A plain byte scan, rather than `split_once("://")`, which builds a substring searcher
    // on every call: this runs once per published message, on a short string.
    let bytes = destination.as_bytes();
    (0..bytes.len())
        .find(|&at| bytes[at..].starts_with(b"://"))
        // `:` is ASCII, so `at + 3` is a character boundary.
        .map_or(destination, |at| &destination[at + 3..])
}

/// A registered publisher, as the workers use it.
pub(crate) struct Target {
    /// The prefix it was registered under, which names it in hooks and health.
    pub(crate) name: Arc<str>,
    pub(crate) publisher: Arc<dyn Publisher>,
    pub(crate) stats: Arc<ComponentStats>,
}

impl Target {
    /// Publishes `message` to `topic` and settles its acker: acked once the publisher
    /// accepted it, nacked if it failed or if the engine shuts down first. The acker is
    /// settled here whatever the publisher does with its copy of the message.
    pub(crate) async fn publish(
        &self,
        topic: &str,
        message: Message,
        shutdown: &Signal,
        observer: &dyn EngineObserver,
    ) {
        let acker = message.acker().clone();
        let result = tokio::select! {
            biased;
            result = self.publisher.publish(topic, message) => result,
            () = shutdown.fired() => {
                acker.nack();
                return;
            }
        };
        match result {
            Ok(()) => {
                acker.ack();
            }
            Err(error) => {
                acker.nack();
                self.failed(topic, &error, observer);
            }
        }
    }

    fn failed(&self, topic: &str, error: &Error, observer: &dyn EngineObserver) {
        self.stats.record(error);
        metrics::counter!("switchyard_engine_publish_failures_total", "publisher" => self.stats.label().to_string())
            .increment(1);
        // Counted every time; logged at most once a second per publisher, with how many
        // were left out, since a broker that is down fails every message.
        if let Some(suppressed) = self.stats.warning() {
            tracing::warn!(
                publisher = %self.stats.label(),
                error = %error.report(),
                suppressed,
                "publish failed; nacking the message"
            );
        }
        observer.on_publisher_error(&self.name, topic, error);
    }
}

#[cfg(test)]
mod tests;
