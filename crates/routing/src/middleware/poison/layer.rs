//! `PoisonQueueLayer` and its builder: where poisoned messages go, and which errors poison.

use std::{fmt, sync::Arc, time::Duration};

use switchyard_core::{Error, Publisher, Throttle};
use tower_layer::Layer;

use super::{Config, PoisonQueue};
use crate::middleware::{ConfigError, ErrorFilter, error::non_zero};

/// Wraps handlers in [`PoisonQueue`].
///
/// When the handler fails, a [detached](switchyard_core::Message::detached) copy of the
/// input, with [`poisonreason`](super::REASON_ATTRIBUTE) and
/// [`poisonattempts`](super::ATTEMPTS_ATTRIBUTE) added, is published to the poison topic and
/// the call returns `Ok` with no output, so the caller acks the original. If that publish
/// fails or times out, the handler's own error is returned instead: a message is never
/// acked without having gone somewhere.
///
/// Put it outside the [retry](crate::middleware::retry) layer, so that only what the retries
/// could not fix is poisoned, and so that the attempt count is known. By default every error
/// that reaches it poisons; [`poison_if`](PoisonQueueLayerBuilder::poison_if) narrows that.
///
/// ```
/// use std::sync::{Arc, Mutex};
///
/// use async_trait::async_trait;
/// use switchyard_core::{Error, Handler, Message, Publisher, Result, handler_fn};
/// use switchyard_routing::middleware::poison::{PoisonQueueLayer, REASON_ATTRIBUTE};
/// use tower_layer::Layer;
///
/// #[derive(Default)]
/// struct Recording(Mutex<Vec<(String, Message)>>);
///
/// #[async_trait]
/// impl Publisher for Recording {
///     async fn publish(&self, topic: &str, message: Message) -> Result<()> {
///         self.0.lock().unwrap().push((topic.to_owned(), message));
///         Ok(())
///     }
///     async fn close(&self) -> Result<()> {
///         Ok(())
///     }
/// }
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let poison = Arc::new(Recording::default());
/// let handler = PoisonQueueLayer::builder(poison.clone(), "orders.poison")
///     .build()?
///     .layer(handler_fn(|_message: Message| async {
///         Err::<Vec<Message>, _>(Error::permanent_handler("unknown customer"))
///     }));
///
/// let outputs = handler.handle(&Message::new("order")).await?;
/// assert!(outputs.is_empty(), "handled: the caller acks it");
/// let published = poison.0.lock().unwrap();
/// assert_eq!(published[0].0, "orders.poison");
/// assert!(published[0].1.attributes().get(REASON_ATTRIBUTE).unwrap().contains("unknown customer"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct PoisonQueueLayer {
    config: Arc<Config>,
}

impl PoisonQueueLayer {
    /// A builder for a layer that publishes poisoned messages to `topic` through
    /// `publisher`.
    pub fn builder(
        publisher: Arc<dyn Publisher>,
        topic: impl Into<String>,
    ) -> PoisonQueueLayerBuilder {
        PoisonQueueLayerBuilder {
            publisher,
            topic: topic.into(),
            poison_if: None,
            publish_timeout: PoisonQueueLayerBuilder::DEFAULT_PUBLISH_TIMEOUT,
        }
    }

    /// The poison topic.
    pub fn topic(&self) -> &str {
        &self.config.topic
    }
}

impl<H> Layer<H> for PoisonQueueLayer {
    type Service = PoisonQueue<H>;

    fn layer(&self, inner: H) -> PoisonQueue<H> {
        PoisonQueue {
            inner,
            config: self.config.clone(),
        }
    }
}

/// Builds a [`PoisonQueueLayer`]; created by [`PoisonQueueLayer::builder`].
#[must_use = "a builder does nothing until `build` is called"]
pub struct PoisonQueueLayerBuilder {
    publisher: Arc<dyn Publisher>,
    topic: String,
    poison_if: Option<ErrorFilter>,
    publish_timeout: Duration,
}

impl PoisonQueueLayerBuilder {
    /// How long a publish to the poison topic may take by default: 10 s.
    pub const DEFAULT_PUBLISH_TIMEOUT: Duration = Duration::from_secs(10);

    /// Poisons only the errors for which `predicate` is true; the others are returned to
    /// the caller unchanged.
    pub fn poison_if(mut self, predicate: impl Fn(&Error) -> bool + Send + Sync + 'static) -> Self {
        self.poison_if = Some(Arc::new(predicate));
        self
    }

    /// How long a publish to the poison topic may take before it counts as failed (and the
    /// handler error is returned). Must not be zero.
    pub fn publish_timeout(mut self, timeout: Duration) -> Self {
        self.publish_timeout = timeout;
        self
    }

    /// Validates the settings and builds the layer.
    pub fn build(self) -> Result<PoisonQueueLayer, ConfigError> {
        if self.topic.is_empty() {
            return Err(ConfigError::Empty { setting: "topic" });
        }
        Ok(PoisonQueueLayer {
            config: Arc::new(Config {
                publisher: self.publisher,
                topic: self.topic,
                poison_if: self.poison_if,
                publish_timeout: non_zero("publish_timeout", self.publish_timeout)?,
                warnings: Throttle::default(),
            }),
        })
    }
}

impl fmt::Debug for PoisonQueueLayerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PoisonQueueLayerBuilder")
            .field("topic", &self.topic)
            .field("custom_poison_if", &self.poison_if.is_some())
            .field("publish_timeout", &self.publish_timeout)
            .finish_non_exhaustive()
    }
}
