//! The context a scenario runs in: the harness, the claimed features and the deadlines,
//! with helpers that make every call to the transport a bounded wait that fails loudly.

mod publish;
pub(crate) mod read;

use std::{future::Future, sync::Arc, time::Duration};

use futures::StreamExt;
use switchyard_core::{MessageStream, Publisher, Subscriber};

use crate::{Features, Harness, SuiteConfig};

/// One scenario's view of the transport under test.
pub(crate) struct Ctx<'a> {
    harness: &'a dyn Harness,
    pub(crate) features: Features,
    pub(crate) config: &'a SuiteConfig,
    scenario: &'static str,
}

/// A subscriber with one open subscription.
pub(crate) struct Subscription {
    pub(crate) subscriber: Arc<dyn Subscriber>,
    pub(crate) stream: MessageStream,
}

/// Awaits `future`, failing with `what()` if it takes longer than `limit`.
pub(crate) async fn within<F: Future>(
    limit: Duration,
    future: F,
    what: impl FnOnce() -> String,
) -> F::Output {
    match tokio::time::timeout(limit, future).await {
        Ok(output) => output,
        Err(_) => panic!("{} did not finish within {limit:?}", what()),
    }
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(
        harness: &'a dyn Harness,
        features: Features,
        config: &'a SuiteConfig,
        scenario: &'static str,
    ) -> Self {
        Self {
            harness,
            features,
            config,
            scenario,
        }
    }

    /// Runs the scenario's body within the scenario deadline.
    pub(crate) async fn bounded<T>(&self, body: impl Future<Output = T>) -> T {
        tracing::debug!(scenario = self.scenario, "conformance scenario starts");
        let scenario = self.scenario;
        within(self.config.scenario_timeout(), body, || {
            format!("scenario `{scenario}`")
        })
        .await
    }

    /// A fresh topic for this scenario.
    pub(crate) fn topic(&self) -> String {
        self.harness.topic(self.scenario)
    }

    /// Whether to publish before subscribing, as Watermill does with persistent
    /// transports; a transport that keeps nothing needs the subscription first.
    pub(crate) fn publish_first(&self) -> bool {
        self.features.persistent
    }

    /// The harness itself, for the operations that have no helper here.
    pub(crate) fn harness(&self) -> &'a dyn Harness {
        self.harness
    }

    pub(crate) async fn publisher(&self) -> Arc<dyn Publisher> {
        let result = within(
            self.config.message_timeout(),
            self.harness.publisher(),
            || "creating a publisher".to_owned(),
        )
        .await;
        result.unwrap_or_else(|err| {
            panic!("the harness could not create a publisher: {}", err.report())
        })
    }

    pub(crate) async fn subscriber(&self) -> Arc<dyn Subscriber> {
        let result = within(
            self.config.message_timeout(),
            self.harness.subscriber(),
            || "creating a subscriber".to_owned(),
        )
        .await;
        result.unwrap_or_else(|err| {
            panic!(
                "the harness could not create a subscriber: {}",
                err.report()
            )
        })
    }

    pub(crate) async fn member_of(&self, group: &str) -> Arc<dyn Subscriber> {
        let result = within(
            self.config.message_timeout(),
            self.harness.subscriber_in_group(group),
            || format!("creating a subscriber in group `{group}`"),
        )
        .await;
        result.unwrap_or_else(|err| {
            panic!(
                "the harness could not create a subscriber in group `{group}`: {}",
                err.report()
            )
        })
    }

    pub(crate) async fn subscribe(
        &self,
        subscriber: &dyn Subscriber,
        topic: &str,
    ) -> MessageStream {
        let result = within(
            self.config.message_timeout(),
            subscriber.subscribe(topic),
            || format!("subscribing to `{topic}`"),
        )
        .await;
        let stream = result
            .unwrap_or_else(|err| panic!("subscribing to `{topic}` failed: {}", err.report()));
        // Fused, so that a scenario may wait for the end of a stream that already ended.
        Box::pin(stream.fuse())
    }

    /// A new subscriber outside any group, subscribed to `topic`.
    pub(crate) async fn open_plain(&self, topic: &str) -> Subscription {
        let subscriber = self.subscriber().await;
        let stream = self.subscribe(&*subscriber, topic).await;
        Subscription { subscriber, stream }
    }

    /// A new member of `group`, subscribed to `topic`.
    pub(crate) async fn open_member(&self, topic: &str, group: &str) -> Subscription {
        let subscriber = self.member_of(group).await;
        let stream = self.subscribe(&*subscriber, topic).await;
        Subscription { subscriber, stream }
    }

    /// Ends a subscription mid-scenario: closes its subscriber and waits for the stream to
    /// end, or, when every client is one instance, drops the stream (which must
    /// unsubscribe) so that the instance stays open for the rest of the scenario.
    pub(crate) async fn leave(&self, subscription: Subscription) {
        if self.features.require_single_instance {
            drop(subscription);
        } else {
            self.close_subscription(subscription).await;
        }
    }

    /// Closes a subscription's subscriber and waits for its stream to end.
    pub(crate) async fn close_subscription(&self, subscription: Subscription) {
        let Subscription {
            subscriber,
            mut stream,
        } = subscription;
        self.close_subscriber(&*subscriber).await;
        self.expect_end(&mut stream, "a subscription whose subscriber was closed")
            .await;
    }

    pub(crate) async fn close_publisher(&self, publisher: &dyn Publisher) {
        let result = within(self.config.close_timeout(), publisher.close(), || {
            "closing a publisher".to_owned()
        })
        .await;
        result.unwrap_or_else(|err| panic!("closing a publisher failed: {}", err.report()));
    }

    pub(crate) async fn close_subscriber(&self, subscriber: &dyn Subscriber) {
        let result = within(self.config.close_timeout(), subscriber.close(), || {
            "closing a subscriber".to_owned()
        })
        .await;
        result.unwrap_or_else(|err| panic!("closing a subscriber failed: {}", err.report()));
    }

    pub(crate) async fn prepare_topic(&self, topic: &str) {
        let result = within(
            self.config.message_timeout(),
            self.harness.prepare_topic(topic),
            || format!("preparing topic `{topic}`"),
        )
        .await;
        result.unwrap_or_else(|err| panic!("preparing topic `{topic}` failed: {}", err.report()));
    }

    pub(crate) async fn prepare_group(&self, topic: &str, group: &str) {
        let result = within(
            self.config.message_timeout(),
            self.harness.prepare_group(topic, group),
            || format!("preparing group `{group}` on `{topic}`"),
        )
        .await;
        result.unwrap_or_else(|err| {
            panic!(
                "preparing group `{group}` on `{topic}` failed: {}",
                err.report()
            )
        });
    }
}
