//! `CorrelationLayer`: the correlation middleware, which has no settings.

use tower_layer::Layer;

use super::Correlation;

/// Wraps handlers in [`Correlation`].
///
/// Each output of a successful call:
///
/// - keeps its own `correlationid` if the handler set one, and otherwise inherits the
///   input's, or the input's `id` when the input has none (the input then starts the
///   conversation);
/// - gets `causationid` set to the input's `id`, replacing any the handler copied from the
///   input, because the input is by definition what caused it.
///
/// ```
/// use switchyard_core::{Handler, Message, handler_fn};
/// use switchyard_routing::middleware::correlation::CorrelationLayer;
/// use tower_layer::Layer;
///
/// # futures::executor::block_on(async {
/// let handler = CorrelationLayer::new().layer(handler_fn(|_message: Message| async {
///     Ok(vec![Message::new("reply")])
/// }));
/// let request = Message::builder().id("req-1").correlation_id("conv-9").build()?;
/// let reply = &handler.handle(&request).await?[0];
/// assert_eq!(reply.attributes().correlation_id(), Some("conv-9"));
/// assert_eq!(reply.attributes().causation_id(), Some("req-1"));
/// # Ok::<(), switchyard_core::Error>(())
/// # }).unwrap();
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct CorrelationLayer {
    _private: (),
}

impl CorrelationLayer {
    /// The layer; it has no settings.
    pub fn new() -> Self {
        Self::default()
    }
}

impl<H> Layer<H> for CorrelationLayer {
    type Service = Correlation<H>;

    fn layer(&self, inner: H) -> Correlation<H> {
        Correlation { inner }
    }
}
