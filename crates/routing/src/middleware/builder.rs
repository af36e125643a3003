//! `HandlerBuilder`: stacks middleware layers around a handler, outermost first.

use std::fmt;

use tower_layer::{Identity, Layer, Stack};

/// Stacks [`Layer`]s around a handler, like tower's `ServiceBuilder`.
///
/// The first layer added is the outermost: it sees the message first and the result last.
/// The builder is itself a [`Layer`], so a whole stack can be handed to a router as one
/// layer, keeping its order.
///
/// ```
/// use std::time::Duration;
///
/// use switchyard_core::{Handler, Message, handler_fn};
/// use switchyard_routing::middleware::{
///     HandlerBuilder, recoverer::RecovererLayer, timeout::TimeoutLayer,
/// };
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let stack = HandlerBuilder::new()
///     .layer(RecovererLayer::new())
///     .layer(TimeoutLayer::new(Duration::from_secs(1))?);
/// // `stack` can wrap many handlers; each call builds a new wrapped handler.
/// let echo = stack.handler(handler_fn(|message: Message| async move { Ok(vec![message]) }));
/// assert_eq!(echo.handle(&Message::new("hi")).await?.len(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
#[must_use = "a builder does nothing until `handler` is called"]
pub struct HandlerBuilder<L> {
    layer: L,
}

impl HandlerBuilder<Identity> {
    /// A builder with no layer: [`handler`](Self::handler) returns the handler unchanged.
    pub fn new() -> Self {
        Self {
            layer: Identity::new(),
        }
    }
}

impl Default for HandlerBuilder<Identity> {
    fn default() -> Self {
        Self::new()
    }
}

impl<L> HandlerBuilder<L> {
    /// Adds `layer` inside every layer added so far.
    pub fn layer<T>(self, layer: T) -> HandlerBuilder<Stack<T, L>> {
        HandlerBuilder {
            layer: Stack::new(layer, self.layer),
        }
    }

    /// Wraps `handler` in every layer, the first one added outermost.
    pub fn handler<H>(&self, handler: H) -> L::Service
    where
        L: Layer<H>,
    {
        self.layer.layer(handler)
    }

    /// The composed layer.
    pub fn into_layer(self) -> L {
        self.layer
    }
}

impl<H, L: Layer<H>> Layer<H> for HandlerBuilder<L> {
    type Service = L::Service;

    fn layer(&self, handler: H) -> Self::Service {
        self.layer.layer(handler)
    }
}

impl<L: fmt::Debug> fmt::Debug for HandlerBuilder<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandlerBuilder")
            .field("layers", &self.layer)
            .finish()
    }
}
