//! Publishing an output: the destination-to-topic mapping, and the [`Target`] that
//! publishes and settles the output's acker with the outcome.

use std::{borrow::Cow, sync::Arc};

use switchyard_core::{Error, Message, Publisher, redact};

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

/// `topic` as the observer is shown it: the topic of the destination it was cut from,
/// redacted whole.
///
/// The topic alone cannot be redacted: cutting off `scheme://` also cuts off what lets
/// [`redact`] recognise a URL's userinfo (`redis://app:secret@cache/audit` goes to the topic
/// `app:secret@cache/audit`). So the destination is put back together (the prefix's scheme,
/// then the topic), redacted, and the topic taken from that. Under a prefix without a scheme
/// (such as `audit`) the destination's scheme is unknown, and a stand-in one is used:
/// userinfo-like text at the start of the topic (`user@host/…`) is then redacted even if
/// the destination had no scheme, which errs on the safe side. A topic with nothing to hide
/// is borrowed back unchanged.
pub(crate) fn shown_topic<'a>(prefix: &str, topic: &'a str) -> Cow<'a, str> {
    // `topic_of` returns a suffix of its input, so this is the length of `scheme://`, or 0.
    let scheme = &prefix[..prefix.len() - topic_of(prefix).len()];
    let scheme = if scheme.is_empty() {
        "unknown://"
    } else {
        scheme
    };
    let destination = format!("{scheme}{topic}");
    match redact(&destination) {
        Cow::Borrowed(_) => Cow::Borrowed(topic),
        // A suffix of the redacted text hides whatever that text hides.
        Cow::Owned(redacted) => Cow::Owned(topic_of(&redacted).to_owned()),
    }
}

/// A registered publisher, as the workers use it.
pub(crate) struct Target {
    /// The prefix it was registered under, which resolves destinations to it. Hooks,
    /// health, logs and metrics name it by its redacted label instead (`stats.label()`).
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
        let Some(result) = shutdown
            .unless_fired(self.publisher.publish(topic, message))
            .await
        else {
            acker.nack();
            return;
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
        // The redacted label, like the log line and the metric: the prefix as registered
        // may carry a credential (`redis://user:password@host/`), which the topic then
        // repeats, and a hook is one more way out to logs and dashboards.
        observer.on_publisher_error(self.stats.label(), &shown_topic(&self.name, topic), error);
    }
}

#[cfg(test)]
mod tests;
