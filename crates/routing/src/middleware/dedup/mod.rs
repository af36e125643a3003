//! Deduplicator: skips a message whose (`id`, `source`) was already handled within a window
//! bounded by count and by age, so that redeliveries of an at-least-once transport do not
//! repeat their effects.

mod layer;
mod window;

use std::{
    hash::{BuildHasher, RandomState},
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
};

use async_trait::async_trait;
use switchyard_core::{Handler, Message, Result};
use tokio::time::Instant;

pub use self::layer::{DeduplicatorLayer, DeduplicatorLayerBuilder};
use self::window::{Key, Seen, Window};
use crate::middleware::lock;

/// A handler that skips duplicates; made by [`DeduplicatorLayer`].
#[derive(Clone, Debug)]
pub struct Deduplicator<H> {
    inner: H,
    shared: Arc<Shared>,
}

impl<H> Deduplicator<H> {
    /// The wrapped handler.
    pub fn get_ref(&self) -> &H {
        &self.inner
    }
}

#[async_trait]
impl<H: Handler> Handler for Deduplicator<H> {
    async fn handle(&self, message: &Message) -> Result<Vec<Message>> {
        let attributes = message.attributes();
        // Every built or received message has an id; one without cannot be recognised.
        let Some(id) = attributes.id() else {
            return self.inner.handle(message).await;
        };
        let key = self.shared.key(attributes.source(), id);
        let Seen::First(generation) = self.shared.observe(key) else {
            self.shared.duplicates.fetch_add(1, Ordering::Relaxed);
            metrics::counter!("switchyard_middleware_duplicates_total").increment(1);
            tracing::debug!(
                message_type = attributes.message_type().unwrap_or_default(),
                "duplicate message skipped"
            );
            return Ok(Vec::new());
        };
        let mark = Mark {
            shared: &self.shared,
            key,
            generation,
            keep: false,
        };
        let result = self.inner.handle(message).await;
        mark.settle(result.is_ok());
        result
    }
}

/// The window and the counters, shared by every handler that one layer wraps.
#[derive(Debug)]
pub(super) struct Shared {
    window: Mutex<Window>,
    /// Two independently keyed SipHashers give a 128-bit key: a chance collision, which
    /// would skip a message that is not a duplicate, is out of reach, and the random keys
    /// stop anyone from crafting one.
    hashers: [RandomState; 2],
    duplicates: AtomicU64,
}

impl Shared {
    fn new(window: Window) -> Self {
        Self {
            window: Mutex::new(window),
            hashers: [RandomState::new(), RandomState::new()],
            duplicates: AtomicU64::new(0),
        }
    }

    fn key(&self, source: Option<&str>, id: &str) -> Key {
        let [high, low] = &self.hashers;
        (u128::from(high.hash_one((source, id))) << 64) | u128::from(low.hash_one((source, id)))
    }

    fn observe(&self, key: Key) -> Seen {
        let mut window = lock(&self.window);
        // Read the clock under the lock so that marks enter the window in time order.
        window.observe(key, Instant::now())
    }

    fn duplicates(&self) -> u64 {
        self.duplicates.load(Ordering::Relaxed)
    }

    fn len(&self) -> usize {
        lock(&self.window).len()
    }
}

/// A message being handled. Unless the handler succeeded, dropping it forgets the mark, so
/// that the redelivery of a message that failed, panicked or was cancelled (by a timeout,
/// say) is handled again rather than skipped.
struct Mark<'a> {
    shared: &'a Shared,
    key: Key,
    generation: u64,
    keep: bool,
}

impl Mark<'_> {
    fn settle(mut self, succeeded: bool) {
        self.keep = succeeded;
    }
}

impl Drop for Mark<'_> {
    fn drop(&mut self) {
        if !self.keep {
            lock(&self.shared.window).forget(self.key, self.generation);
        }
    }
}
