//! `Harness`: how the suite reaches the transport under test.

use std::{
    sync::{
        Arc, OnceLock,
        atomic::{AtomicU64, Ordering},
    },
    time::{SystemTime, UNIX_EPOCH},
};

use async_trait::async_trait;
use switchyard_core::{Error, Publisher, Result, Subscriber};

/// The transport under test, as the suite sees it: a factory of publishers and subscribers
/// over one broker (or one in-process instance), plus the few operations that some
/// scenarios need. Each transport's test code implements it once.
///
/// Object-safe: scenarios take `&dyn Harness`.
///
/// Every scenario gets a harness of its own (see [`run_all`](crate::run_all) and
/// [`conformance_tests!`](crate::conformance_tests)), so a scenario that closes the
/// transport does not affect the next.
///
/// ```
/// use std::sync::Arc;
///
/// use async_trait::async_trait;
/// use switchyard_conformance::Harness;
/// use switchyard_core::{Publisher, Result, Subscriber};
///
/// /// A transport whose one object is both publisher and subscriber.
/// struct InProcess<T>(Arc<T>);
///
/// #[async_trait]
/// impl<T: Publisher + Subscriber + 'static> Harness for InProcess<T> {
///     async fn publisher(&self) -> Result<Arc<dyn Publisher>> {
///         Ok(self.0.clone())
///     }
///
///     async fn subscriber(&self) -> Result<Arc<dyn Subscriber>> {
///         Ok(self.0.clone())
///     }
/// }
/// ```
#[async_trait]
pub trait Harness: Send + Sync {
    /// A new publisher to the broker under test.
    ///
    /// Closing it must not close anything else, unless the features claim
    /// [`require_single_instance`](crate::Features::require_single_instance).
    async fn publisher(&self) -> Result<Arc<dyn Publisher>>;

    /// A new subscriber outside any consumer group: each of its subscriptions receives
    /// every message published to the topic while it is subscribed.
    ///
    /// Closing it must not close anything else, unless the features claim
    /// [`require_single_instance`](crate::Features::require_single_instance).
    async fn subscriber(&self) -> Result<Arc<dyn Subscriber>>;

    /// A new subscriber whose subscriptions join the consumer group `group`. Called only
    /// when the features claim [`consumer_groups`](crate::Features::consumer_groups).
    ///
    /// The default fails: a harness that claims consumer groups must override it.
    async fn subscriber_in_group(&self, group: &str) -> Result<Arc<dyn Subscriber>> {
        let _ = group;
        Err(unsupported("subscriber_in_group"))
    }

    /// Prepares `topic` before anything is published to it, so that a subscriber from
    /// [`subscriber`](Self::subscriber) that subscribes later still receives what is
    /// published from now on, where the transport is
    /// [`persistent`](crate::Features::persistent). Watermill calls this
    /// `SubscribeInitialize`. The default does nothing.
    async fn prepare_topic(&self, topic: &str) -> Result<()> {
        let _ = topic;
        Ok(())
    }

    /// Prepares the consumer group `group` on `topic` before anything is published to it,
    /// so that the group receives what is published from now on even while it has no
    /// member, where the transport is [`persistent`](crate::Features::persistent) (for
    /// Redis Streams, `XGROUP CREATE`). The default does nothing.
    async fn prepare_group(&self, topic: &str, group: &str) -> Result<()> {
        let _ = (topic, group);
        Ok(())
    }

    /// Restarts the broker and returns once it accepts connections again. Called only when
    /// the features claim [`restart_service`](crate::Features::restart_service); clients
    /// must reconnect by themselves.
    ///
    /// The default fails: a harness that claims restarts must override it.
    async fn restart(&self) -> Result<()> {
        Err(unsupported("restart"))
    }

    /// A topic name that no other scenario, and no earlier run against the same broker,
    /// has used. The default is `conformance-<scenario>-<run>-<n>`, where `<run>` is
    /// unique to this process; override it where the broker needs another shape.
    fn topic(&self, scenario: &str) -> String {
        unique_topic(scenario)
    }
}

fn unsupported(operation: &'static str) -> Error {
    Error::permanent_transport(format!(
        "the conformance harness does not implement `{operation}`"
    ))
}

/// `conformance-<scenario>-<run>-<n>`: unique within the process through `n`, and across
/// runs against a long-lived broker through `run`, which mixes the process id with the
/// start time.
pub(crate) fn unique_topic(scenario: &str) -> String {
    static RUN: OnceLock<String> = OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let run = RUN.get_or_init(|| {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos());
        format!("{:x}{:x}", std::process::id(), nanos % (1 << 40))
    });
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("conformance-{}-{run}-{n}", scenario.replace('_', "-"))
}

#[cfg(test)]
mod tests;
