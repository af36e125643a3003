//! Hooks that the engine calls when something leaves the ordinary path: [`EngineObserver`],
//! and [`ObserverFns`] to build one from closures.

use std::fmt;

use switchyard_core::{Error, Message};
use switchyard_routing::{fan::DeadLetterReason, router::RouterError};

/// Observes an [`Engine`](crate::Engine)'s errors, loop overflows and dead letters. Every
/// method has a no-op default: implement only what you need, or use [`ObserverFns`].
///
/// The hooks run inline on the engine's tasks, so they must return quickly and never block:
/// count, log, or `try_send` on a channel. The engine also logs these events with `tracing`,
/// counts them through the `metrics` facade and keeps them in
/// [`Health`](crate::Health); an observer is for what the application does about them.
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use switchyard_core::Message;
/// use switchyard_engine::{Engine, EngineObserver};
///
/// #[derive(Default)]
/// struct Overflows(AtomicU64);
///
/// impl EngineObserver for Overflows {
///     fn on_loop_overflow(&self, _message: &Message) {
///         self.0.fetch_add(1, Ordering::Relaxed);
///     }
/// }
///
/// let engine = Engine::builder().observer(Overflows::default()).build()?;
/// # let _ = engine;
/// # Ok::<(), switchyard_engine::EngineError>(())
/// ```
pub trait EngineObserver: Send + Sync {
    /// The stream of the subscriber registered as `subscriber` yielded an error instead of
    /// a message.
    fn on_subscriber_error(&self, subscriber: &str, error: &Error) {
        let _ = (subscriber, error);
    }

    /// The router registered for `source` failed on `message`: no handler for its type, or
    /// the handler (after its middleware) returned an error or panicked. Called before the
    /// message is nacked or dead-lettered.
    fn on_router_error(&self, source: &str, message: &Message, error: &RouterError) {
        let _ = (source, message, error);
    }

    /// The publisher registered under a prefix failed to publish to `topic`; the messages
    /// of that call are nacked.
    ///
    /// `publisher` is the prefix as health, logs and metric labels show it: redacted, so a
    /// prefix registered as `redis://user:secret@cache/` arrives as
    /// `redis://[REDACTED]@cache/`, and a credential in it never reaches the hook. `topic`
    /// likewise, whatever the prefix: the destination `redis://user:secret@cache/audit`
    /// arrives as the topic `[REDACTED]@cache/audit`, under the prefix above or under
    /// `redis://` alike (the whole destination is redacted, then its topic taken). Under a
    /// prefix without a scheme (`audit`, say), text at the start of the topic that merely
    /// looks like userinfo (`team@eu/orders`) is redacted too. A prefix and a topic without
    /// a credential arrive as they are.
    fn on_publisher_error(&self, publisher: &str, topic: &str, error: &Error) {
        let _ = (publisher, topic, error);
    }

    /// The internal loop was full; `message` goes to the dead letter instead.
    fn on_loop_overflow(&self, message: &Message) {
        let _ = message;
    }

    /// `message` is about to be sent to the dead letter for `reason`.
    fn on_dead_letter(&self, message: &Message, reason: DeadLetterReason) {
        let _ = (message, reason);
    }
}

/// The observer of an engine built without one.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct NoopObserver;

impl EngineObserver for NoopObserver {}

type SubscriberErrorFn = Box<dyn Fn(&str, &Error) + Send + Sync>;
type RouterErrorFn = Box<dyn Fn(&str, &Message, &RouterError) + Send + Sync>;
type PublisherErrorFn = Box<dyn Fn(&str, &str, &Error) + Send + Sync>;
type LoopOverflowFn = Box<dyn Fn(&Message) + Send + Sync>;
type DeadLetterFn = Box<dyn Fn(&Message, DeadLetterReason) + Send + Sync>;

/// An [`EngineObserver`] made of closures, one per hook; hooks without a closure do nothing.
///
/// ```
/// use switchyard_engine::{Engine, ObserverFns};
///
/// let observer = ObserverFns::new()
///     .subscriber_error(|name, error| tracing::warn!(name, error = %error.report(), "subscriber"))
///     .dead_letter(|_message, reason| tracing::warn!(%reason, "dead-lettered"));
/// let engine = Engine::builder().observer(observer).build()?;
/// # let _ = engine;
/// # Ok::<(), switchyard_engine::EngineError>(())
/// ```
#[derive(Default)]
#[must_use = "an observer does nothing until given to `EngineBuilder::observer`"]
pub struct ObserverFns {
    subscriber_error: Option<SubscriberErrorFn>,
    router_error: Option<RouterErrorFn>,
    publisher_error: Option<PublisherErrorFn>,
    loop_overflow: Option<LoopOverflowFn>,
    dead_letter: Option<DeadLetterFn>,
}

impl ObserverFns {
    /// An observer with no hook set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the closure of [`EngineObserver::on_subscriber_error`].
    pub fn subscriber_error(mut self, f: impl Fn(&str, &Error) + Send + Sync + 'static) -> Self {
        self.subscriber_error = Some(Box::new(f));
        self
    }

    /// Sets the closure of [`EngineObserver::on_router_error`].
    pub fn router_error(
        mut self,
        f: impl Fn(&str, &Message, &RouterError) + Send + Sync + 'static,
    ) -> Self {
        self.router_error = Some(Box::new(f));
        self
    }

    /// Sets the closure of [`EngineObserver::on_publisher_error`].
    pub fn publisher_error(
        mut self,
        f: impl Fn(&str, &str, &Error) + Send + Sync + 'static,
    ) -> Self {
        self.publisher_error = Some(Box::new(f));
        self
    }

    /// Sets the closure of [`EngineObserver::on_loop_overflow`].
    pub fn loop_overflow(mut self, f: impl Fn(&Message) + Send + Sync + 'static) -> Self {
        self.loop_overflow = Some(Box::new(f));
        self
    }

    /// Sets the closure of [`EngineObserver::on_dead_letter`].
    pub fn dead_letter(
        mut self,
        f: impl Fn(&Message, DeadLetterReason) + Send + Sync + 'static,
    ) -> Self {
        self.dead_letter = Some(Box::new(f));
        self
    }
}

impl EngineObserver for ObserverFns {
    fn on_subscriber_error(&self, subscriber: &str, error: &Error) {
        if let Some(f) = &self.subscriber_error {
            f(subscriber, error);
        }
    }

    fn on_router_error(&self, source: &str, message: &Message, error: &RouterError) {
        if let Some(f) = &self.router_error {
            f(source, message, error);
        }
    }

    fn on_publisher_error(&self, publisher: &str, topic: &str, error: &Error) {
        if let Some(f) = &self.publisher_error {
            f(publisher, topic, error);
        }
    }

    fn on_loop_overflow(&self, message: &Message) {
        if let Some(f) = &self.loop_overflow {
            f(message);
        }
    }

    fn on_dead_letter(&self, message: &Message, reason: DeadLetterReason) {
        if let Some(f) = &self.dead_letter {
            f(message, reason);
        }
    }
}

impl fmt::Debug for ObserverFns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObserverFns")
            .field("subscriber_error", &self.subscriber_error.is_some())
            .field("router_error", &self.router_error.is_some())
            .field("publisher_error", &self.publisher_error.is_some())
            .field("loop_overflow", &self.loop_overflow.is_some())
            .field("dead_letter", &self.dead_letter.is_some())
            .finish()
    }
}
