//! Recoverer: a panic in a handler becomes a [`PanicError`] instead of unwinding through the
//! caller, so that one bad message cannot take a consumer down.

mod error;
mod layer;

use std::panic::AssertUnwindSafe;

use async_trait::async_trait;
use futures::FutureExt;
use switchyard_core::{Handler, Message, Result};

pub use self::{
    error::{MAX_PANIC_MESSAGE, PanicError},
    layer::RecovererLayer,
};

/// A handler whose panics become errors; made by [`RecovererLayer`].
#[derive(Clone, Debug)]
pub struct Recoverer<H> {
    inner: H,
}

impl<H> Recoverer<H> {
    /// The wrapped handler.
    pub fn get_ref(&self) -> &H {
        &self.inner
    }
}

#[async_trait]
impl<H: Handler> Handler for Recoverer<H> {
    async fn handle(&self, message: &Message) -> Result<Vec<Message>> {
        // `AssertUnwindSafe` is sound here: after a panic nothing of the handler's state is
        // used again by this call, the message is only borrowed, and a handler that shares
        // state across calls must already tolerate being interrupted at any await point.
        match AssertUnwindSafe(self.inner.handle(message))
            .catch_unwind()
            .await
        {
            Ok(result) => result,
            Err(payload) => {
                let panic = PanicError::from_payload(payload.as_ref());
                metrics::counter!("switchyard_middleware_panics_total").increment(1);
                tracing::error!(
                    message_type = message.attributes().message_type().unwrap_or_default(),
                    panic = panic.message(),
                    "handler panicked; recovered as an error"
                );
                Err(panic.into())
            }
        }
    }
}
