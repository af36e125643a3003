//! Tests of the harness defaults.

use std::sync::Arc;

use async_trait::async_trait;
use switchyard_core::{Error, Publisher, Result, Subscriber};

use super::{Harness, unique_topic};

#[test]
fn unique_topics_name_the_scenario_and_never_repeat() {
    let first = unique_topic("publish_subscribe");
    let second = unique_topic("publish_subscribe");
    assert!(
        first.starts_with("conformance-publish-subscribe-"),
        "{first}"
    );
    assert_ne!(first, second);
    assert!(
        first
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
        "{first} is safe as a Kafka topic, a Redis key and a bus topic"
    );
}

/// A harness that implements only what every harness must.
struct Minimal;

#[async_trait]
impl Harness for Minimal {
    async fn publisher(&self) -> Result<Arc<dyn Publisher>> {
        Err(Error::permanent_transport("unused"))
    }

    async fn subscriber(&self) -> Result<Arc<dyn Subscriber>> {
        Err(Error::permanent_transport("unused"))
    }
}

#[tokio::test]
async fn optional_operations_fail_unless_implemented() {
    let harness: &dyn Harness = &Minimal;
    let unsupported = |result: Result<()>, operation: &str| {
        let err = result.expect_err("not implemented");
        assert!(!err.is_transient());
        assert!(
            err.report()
                .contains(&format!("does not implement `{operation}`")),
            "{err}"
        );
    };
    unsupported(
        harness.subscriber_in_group("g").await.map(drop),
        "subscriber_in_group",
    );
    unsupported(harness.restart().await, "restart");
    harness
        .prepare_topic("t")
        .await
        .expect("preparing is optional");
    harness
        .prepare_group("t", "g")
        .await
        .expect("preparing is optional");
    assert!(harness.topic("topic").starts_with("conformance-topic-"));
}
