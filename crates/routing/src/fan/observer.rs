//! Hooks that a [`FanOut`](super::FanOut) calls when a message does not take the ordinary
//! path.

use switchyard_core::Message;

use super::DeadLetterReason;

/// Observes the messages that a [`FanOut`](super::FanOut) could not route as addressed.
/// Every method has a no-op default: implement only what you need.
///
/// The hooks run inline in [`FanOut::route`](super::FanOut::route), on the caller's task,
/// so they must return quickly and must not block: count, log, or send on a channel with
/// `try_send`. The fan-out also logs these events with `tracing` and counts them through the
/// `metrics` facade; an observer is for what the application does about them.
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use switchyard_core::Message;
/// use switchyard_routing::fan::{DeadLetterReason, FanOutObserver};
///
/// #[derive(Default)]
/// struct Unroutable(AtomicU64);
///
/// impl FanOutObserver for Unroutable {
///     fn on_no_match(&self, _message: &Message, _reason: DeadLetterReason) {
///         self.0.fetch_add(1, Ordering::Relaxed);
///     }
/// }
/// ```
pub trait FanOutObserver: Send + Sync {
    /// No route matched `message`: it has no destination, no prefix matches, or it is
    /// addressed to the loop and there is no loop output. Called before the message goes to
    /// the dead letter, and also when there is no dead letter and `route` returns
    /// [`FanOutError::Unroutable`](super::FanOutError::Unroutable).
    fn on_no_match(&self, message: &Message, reason: DeadLetterReason) {
        let _ = (message, reason);
    }

    /// `output` was full and its policy
    /// [`DropNewest`](super::SlowConsumerPolicy::DropNewest) dropped `message`.
    fn on_drop(&self, output: &str, message: &Message) {
        let _ = (output, message);
    }

    /// `output` was full and its policy
    /// [`DeadLetter`](super::SlowConsumerPolicy::DeadLetter) sends `message` to the dead
    /// letter instead.
    fn on_overflow(&self, output: &str, message: &Message) {
        let _ = (output, message);
    }
}

/// The observer of a fan-out built without one.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct NoopObserver;

impl FanOutObserver for NoopObserver {}
