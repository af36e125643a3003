//! Middleware for [`Handler`]s: retry, timeout, recoverer, correlation, poison queue,
//! throttle, deduplicator and circuit breaker, composed as tower-style layers.
//!
//! Every middleware is a [`Layer`]: `SomeLayer::…build()?.layer(handler)` returns a type that
//! implements [`Handler`] again, so layers nest. A layer is `Clone` and works on any handler,
//! including the `Arc<dyn Handler>` that a router stores, so the same layer can wrap one
//! handler or every handler of a router.
//!
//! # Composing
//!
//! [`HandlerBuilder`] stacks layers like tower's `ServiceBuilder`: the first layer added is
//! the outermost, it sees the message first and the result last.
//!
//! ```
//! use std::{sync::Arc, time::Duration};
//!
//! use switchyard_core::{Error, Handler, Message, handler_fn};
//! use switchyard_routing::middleware::{
//!     HandlerBuilder, correlation::CorrelationLayer, recoverer::RecovererLayer,
//!     retry::RetryLayer, timeout::TimeoutLayer,
//! };
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build()?.block_on(async {
//! let handler = HandlerBuilder::new()
//!     .layer(CorrelationLayer::new())
//!     .layer(RetryLayer::builder().max_attempts(3).build()?)
//!     .layer(TimeoutLayer::new(Duration::from_secs(5))?)
//!     .layer(RecovererLayer::new())
//!     .handler(handler_fn(|message: Message| async move {
//!         Ok(vec![Message::new(message.payload().clone())])
//!     }));
//!
//! let input = Message::builder().correlation_id("order-7").build()?;
//! let outputs = handler.handle(&input).await?;
//! assert_eq!(outputs[0].attributes().correlation_id(), Some("order-7"));
//! assert_eq!(outputs[0].attributes().causation_id(), input.attributes().id());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Order
//!
//! A sensible order, outermost first:
//!
//! 1. [`correlation`], so that every output, including those of a retried call, is stamped;
//! 2. [`dedup`], so that a duplicate costs nothing;
//! 3. [`poison`], outside [`retry`], so that only what the retries could not fix is
//!    published to the poison queue (with the attempt count that retry records);
//! 4. [`breaker`], outside [`retry`] to count one failure per message, or inside it to
//!    count every attempt;
//! 5. [`throttle`], inside [`retry`] if every attempt must respect the rate;
//! 6. [`retry`];
//! 7. [`timeout`], inside [`retry`], so that each attempt has its own deadline;
//! 8. [`recoverer`], innermost, so that a panic becomes an error that the layers above
//!    see like any other; add a second one outermost as a last line of defence.
//!
//! # State
//!
//! A stateful layer (throttle, deduplicator, circuit breaker) shares one state between its
//! clones and every handler it wraps: a throttle applied to a router limits the router as a
//! whole, and [`CircuitBreakerLayer::state`](breaker::CircuitBreakerLayer::state) reports the
//! one breaker. Build one layer per handler for separate state.
//!
//! # Errors
//!
//! The handler error stays [`switchyard_core::Error`]. Errors that middleware adds travel as
//! [`Error::Handler`] with a typed source that can be downcast: [`retry::RetryError`],
//! [`recoverer::PanicError`], [`throttle::ThrottledError`] and [`breaker::CircuitOpenError`].
//! A timeout is [`Error::Timeout`]. Invalid configuration is a [`ConfigError`] from the
//! builder.
//!
//! [`Handler`]: switchyard_core::Handler
//! [`Layer`]: tower_layer::Layer

pub mod breaker;
mod builder;
pub mod correlation;
pub mod dedup;
mod error;
pub mod poison;
pub mod recoverer;
pub mod retry;
pub mod throttle;
pub mod timeout;

use std::sync::Arc;

use switchyard_core::Error;

pub use self::{builder::HandlerBuilder, error::ConfigError};

/// A user-supplied test on a handler error, such as "is this worth retrying?".
pub(crate) type ErrorFilter = Arc<dyn Fn(&Error) -> bool + Send + Sync>;

/// Locks a mutex whose critical sections never panic; should one ever have, its data is
/// still consistent (every update is a single assignment), so poisoning is ignored rather
/// than turned into a panic here.
pub(crate) fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The longest prefix of `text` that is at most `max` bytes and ends on a char boundary:
/// bounds outside text before it goes into an error or an attribute.
pub(crate) fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}
