//! The type router: picks a handler by message type, exact or by pattern, and runs it.
//!
//! A [`Router`] is usable on its own ("simple mode"), without the engine:
//!
//! ```
//! use std::time::Duration;
//!
//! use switchyard_core::{Message, handler_fn};
//! use switchyard_routing::{middleware::timeout::TimeoutLayer, router::Router};
//!
//! # tokio_test_block_on(async {
//! let router = Router::builder()
//!     .handle("orders.created", handler_fn(|message: Message| async move {
//!         let shipped = Message::builder().message_type("orders.shipped").build()?;
//!         Ok(vec![shipped])
//!     }))?
//!     // A pattern: every other `orders.` type.
//!     .handle("orders.*", handler_fn(|_message: Message| async { Ok(vec![]) }))?
//!     // Middleware applies to every handler of the router.
//!     .layer(TimeoutLayer::new(Duration::from_secs(5))?)
//!     .build();
//!
//! let created = Message::builder().message_type("orders.created").build()?;
//! let outputs = router.handle(&created).await?;
//! assert_eq!(outputs[0].attributes().message_type(), Some("orders.shipped"));
//!
//! let unknown = Message::builder().message_type("users.created").build()?;
//! assert!(router.handle(&unknown).await.is_err(), "no handler: the caller dead-letters it");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
//! # }
//! ```

mod error;
mod source;

use std::{fmt, sync::Arc};

use foldhash::{HashMap, HashSet};

use switchyard_core::{Handler, Message};
use tower_layer::Layer;

pub use self::{
    error::RouterError,
    source::{SourceMatcher, TypePrefix},
};
use crate::pattern::{Pattern, PatternIndex, PatternIndexBuilder, PatternKind};

/// A handler as the router stores it.
pub type BoxHandler = Arc<dyn Handler>;

/// Dispatches messages to handlers by their `type` attribute.
///
/// Exact types are looked up in a hash map; pattern types (see [`crate::pattern`] for the
/// syntax) are tried when no exact type matches, in registration order. A router is
/// immutable once built and cheap to share (`Arc`).
#[derive(Clone)]
pub struct Router {
    /// foldhash rather than std's SipHash, as in the pattern index's exact map: the keys
    /// are registered types, never the types being looked up, and hashing them is most of
    /// a lookup's cost.
    exact: HashMap<String, BoxHandler>,
    /// Pattern types, each to its handler's position in `pattern_handlers`.
    patterns: Arc<PatternIndex<usize>>,
    pattern_handlers: Vec<BoxHandler>,
}

impl Router {
    /// A builder for a router.
    pub fn builder() -> RouterBuilder {
        RouterBuilder::default()
    }

    /// The handler for a message type, if any.
    pub fn handler_for(&self, message_type: &str) -> Option<&BoxHandler> {
        self.exact.get(message_type).or_else(|| {
            let found = self.patterns.find_first(message_type)?;
            self.pattern_handlers.get(*found.value)
        })
    }

    /// Handles `message` with the handler for its type and returns the outputs.
    ///
    /// A message without a type, or whose type has no handler, is a typed error that the
    /// caller dead-letters; the message is not settled here.
    pub async fn handle(&self, message: &Message) -> Result<Vec<Message>, RouterError> {
        let Some(message_type) = message.attributes().message_type() else {
            let id = message.attributes().id().unwrap_or_default().to_owned();
            return Err(RouterError::MissingType { id });
        };
        let Some(handler) = self.handler_for(message_type) else {
            return Err(RouterError::NoHandler {
                message_type: message_type.to_owned(),
            });
        };
        handler
            .handle(message)
            .await
            .map_err(|source| RouterError::Handler {
                message_type: message_type.to_owned(),
                source,
            })
    }

    /// How many handlers are registered.
    pub fn len(&self) -> usize {
        self.exact.len() + self.patterns.len()
    }

    /// Whether no handler is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl fmt::Debug for Router {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut types: Vec<&str> = self.exact.keys().map(String::as_str).collect();
        types.sort_unstable();
        f.debug_struct("Router")
            .field("exact", &types)
            .field("patterns", &self.pattern_handlers.len())
            .finish()
    }
}

/// Wraps a handler in a router-wide middleware layer.
type Wrap = Box<dyn Fn(BoxHandler) -> BoxHandler + Send + Sync>;

/// Builds a [`Router`]; created by [`Router::builder`].
#[derive(Default)]
pub struct RouterBuilder {
    exact: HashMap<String, BoxHandler>,
    patterns: PatternIndexBuilder<usize>,
    pattern_handlers: Vec<BoxHandler>,
    /// The patterns registered so far, as written: a second handler for one of them would
    /// never be called.
    pattern_texts: HashSet<String>,
    layers: Vec<Wrap>,
}

impl RouterBuilder {
    /// Registers `handler` for a message type: an exact type such as `orders.created`, or a
    /// pattern such as `orders.*`.
    ///
    /// A second handler for the same exact type, or for the same pattern (written the same
    /// way), is a [`RouterError::DuplicateType`]; an invalid pattern is a
    /// [`RouterError::InvalidPattern`].
    pub fn handle(
        self,
        message_type: &str,
        handler: impl Handler + 'static,
    ) -> Result<Self, RouterError> {
        self.handle_arc(message_type, Arc::new(handler))
    }

    /// [`handle`](Self::handle) for a handler that is already shared.
    pub fn handle_arc(
        mut self,
        message_type: &str,
        handler: BoxHandler,
    ) -> Result<Self, RouterError> {
        let pattern: Pattern = message_type.parse()?;
        if pattern.kind() == PatternKind::Exact {
            if self.exact.contains_key(message_type) {
                return Err(RouterError::DuplicateType {
                    message_type: message_type.to_owned(),
                });
            }
            self.exact.insert(message_type.to_owned(), handler);
        } else {
            // The first of two handlers for one pattern would always win.
            if !self.pattern_texts.insert(message_type.to_owned()) {
                return Err(RouterError::DuplicateType {
                    message_type: message_type.to_owned(),
                });
            }
            // Every pattern has the same priority, so registration order decides among them.
            self.patterns
                .insert_pattern(pattern, 0, self.pattern_handlers.len())?;
            self.pattern_handlers.push(handler);
        }
        Ok(self)
    }

    /// Wraps every handler of the router, registered before or after this call, in `layer`:
    /// middleware for the whole router. A layer added later wraps the ones added before it,
    /// so the last layer added runs first.
    pub fn layer<L>(mut self, layer: L) -> Self
    where
        L: Layer<BoxHandler> + Send + Sync + 'static,
        L::Service: Handler + 'static,
    {
        self.layers
            .push(Box::new(move |handler| Arc::new(layer.layer(handler))));
        self
    }

    /// Builds the router.
    pub fn build(self) -> Router {
        let layers = self.layers;
        let wrap =
            |handler: BoxHandler| layers.iter().fold(handler, |handler, layer| layer(handler));
        Router {
            exact: self
                .exact
                .into_iter()
                .map(|(name, handler)| (name, wrap(handler)))
                .collect(),
            patterns: Arc::new(self.patterns.build()),
            pattern_handlers: self.pattern_handlers.into_iter().map(wrap).collect(),
        }
    }
}

#[cfg(test)]
mod tests;
