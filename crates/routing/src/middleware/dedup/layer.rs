//! `DeduplicatorLayer` and its builder: the size and the age of the window.

use std::{sync::Arc, time::Duration};

use tower_layer::Layer;

use super::{Deduplicator, Shared, window::Window};
use crate::middleware::{ConfigError, error::non_zero};

/// Wraps handlers in [`Deduplicator`]: a message whose (`id`, `source`) was handled
/// successfully within the window returns `Ok` with no output, so the caller acks it
/// without running the handler again.
///
/// The window holds at most `max_entries` keys, each for at most `max_age`; the oldest go
/// first. Memory is bounded by `max_entries` whatever arrives: keys are stored as fixed-size
/// hashes, not as the ids themselves. A message counts as seen from the moment its handling
/// starts (so a concurrent redelivery is skipped too), and is forgotten again if the handler
/// fails, so the redelivery that follows a failure is handled. Every handler the layer wraps
/// shares the one window.
///
/// "Handled" means the handler returned `Ok`. If the caller then fails to deliver the
/// outputs and the message comes back, it is skipped: deduplicate where a handler's effects
/// are its own (a database write), or make the outputs idempotent downstream.
///
/// ```
/// use std::time::Duration;
///
/// use switchyard_core::{Handler, Message, handler_fn};
/// use switchyard_routing::middleware::dedup::DeduplicatorLayer;
/// use tower_layer::Layer;
///
/// # futures::executor::block_on(async {
/// let dedup = DeduplicatorLayer::builder()
///     .max_entries(10_000)
///     .max_age(Duration::from_secs(600))
///     .build()?;
/// let handler = dedup.layer(handler_fn(|message: Message| async move { Ok(vec![message]) }));
///
/// let message = Message::builder().id("order-7").source("shop").build()?;
/// assert_eq!(handler.handle(&message).await?.len(), 1);
/// assert_eq!(handler.handle(&message).await?.len(), 0, "skipped");
/// assert_eq!(dedup.duplicates(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct DeduplicatorLayer {
    shared: Arc<Shared>,
}

impl DeduplicatorLayer {
    /// A builder with the defaults: 10 000 keys, 10 minutes.
    pub fn builder() -> DeduplicatorLayerBuilder {
        DeduplicatorLayerBuilder {
            max_entries: 10_000,
            max_age: Duration::from_secs(600),
        }
    }

    /// How many duplicates were skipped so far.
    pub fn duplicates(&self) -> u64 {
        self.shared.duplicates()
    }

    /// How many keys the window holds now.
    pub fn len(&self) -> usize {
        self.shared.len()
    }

    /// Whether the window holds no key.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<H> Layer<H> for DeduplicatorLayer {
    type Service = Deduplicator<H>;

    fn layer(&self, inner: H) -> Deduplicator<H> {
        Deduplicator {
            inner,
            shared: self.shared.clone(),
        }
    }
}

/// Builds a [`DeduplicatorLayer`]; created by [`DeduplicatorLayer::builder`].
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct DeduplicatorLayerBuilder {
    max_entries: usize,
    max_age: Duration,
}

impl DeduplicatorLayerBuilder {
    /// The most keys remembered; past it the oldest is forgotten. Must not be zero.
    pub fn max_entries(mut self, entries: usize) -> Self {
        self.max_entries = entries;
        self
    }

    /// How long a key is remembered. Must not be zero.
    pub fn max_age(mut self, age: Duration) -> Self {
        self.max_age = age;
        self
    }

    /// Validates the settings and builds the layer.
    pub fn build(self) -> Result<DeduplicatorLayer, ConfigError> {
        let max_entries = non_zero("max_entries", self.max_entries)?;
        let max_age = non_zero("max_age", self.max_age)?;
        Ok(DeduplicatorLayer {
            shared: Arc::new(Shared::new(Window::new(max_entries, max_age))),
        })
    }
}
