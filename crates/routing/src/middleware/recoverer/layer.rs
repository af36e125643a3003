//! `RecovererLayer`: turns handler panics into errors.

use tower_layer::Layer;

use super::Recoverer;

/// Wraps handlers in [`Recoverer`]: a panic while handling a message becomes a permanent
/// [`PanicError`](super::PanicError) and the process keeps running.
///
/// The process's panic hook still runs first (by default it prints the panic to stderr);
/// a library does not replace it, an application that wants otherwise installs its own.
///
/// ```
/// use switchyard_core::{Handler, Message, handler_fn};
/// use switchyard_routing::middleware::recoverer::{PanicError, RecovererLayer};
/// use tower_layer::Layer;
///
/// # futures::executor::block_on(async {
/// let buggy = RecovererLayer::new().layer(handler_fn(|message: Message| async move {
///     if message.payload().is_empty() {
///         panic!("empty payload");
///     }
///     Ok(vec![])
/// }));
/// let err = buggy.handle(&Message::new("")).await.unwrap_err();
/// assert!(!err.is_transient());
/// assert!(err.report().contains("handler panicked: empty payload"));
/// # });
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct RecovererLayer {
    _private: (),
}

impl RecovererLayer {
    /// The layer; it has no settings.
    pub fn new() -> Self {
        Self::default()
    }
}

impl<H> Layer<H> for RecovererLayer {
    type Service = Recoverer<H>;

    fn layer(&self, inner: H) -> Recoverer<H> {
        Recoverer { inner }
    }
}
