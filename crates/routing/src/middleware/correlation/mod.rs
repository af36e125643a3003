//! Correlation: stamps each output with the conversation it belongs to (`correlationid`) and
//! the message that caused it (`causationid`).

mod layer;

use async_trait::async_trait;
use switchyard_core::{Handler, Message, Result};

pub use self::layer::CorrelationLayer;

/// A handler whose outputs carry correlation and causation ids; made by
/// [`CorrelationLayer`].
#[derive(Clone, Debug)]
pub struct Correlation<H> {
    inner: H,
}

impl<H> Correlation<H> {
    /// The wrapped handler.
    pub fn get_ref(&self) -> &H {
        &self.inner
    }
}

#[async_trait]
impl<H: Handler> Handler for Correlation<H> {
    async fn handle(&self, message: &Message) -> Result<Vec<Message>> {
        let mut outputs = self.inner.handle(message).await?;
        let input = message.attributes();
        // A message without a correlation id starts a conversation: its own id names it.
        let correlation = input.correlation_id().or(input.id());
        for output in &mut outputs {
            let attributes = output.attributes_mut();
            if attributes.correlation_id().is_none()
                && let Some(correlation) = correlation
            {
                attributes.set_correlation_id(correlation)?;
            }
            if let Some(cause) = input.id() {
                attributes.set_causation_id(cause)?;
            }
        }
        Ok(outputs)
    }
}
