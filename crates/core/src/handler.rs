//! The `Handler` trait: the application code that turns a message into zero or more
//! messages.

use std::{future::Future, pin::Pin, sync::Arc};

use async_trait::async_trait;

use crate::{Message, Result};

/// Processes one message and returns the messages it produces.
///
/// The handler borrows the message: whoever called it (a router, the engine) owns the
/// delivery and settles it once the handler succeeded and every output was accepted, so a
/// handler does not call `ack` or `nack` itself. An `Err` that is
/// [transient](crate::Error::is_transient) may be retried; a permanent one sends the
/// message to the dead letter.
///
/// Object-safe, so that handlers can be stored as `Arc<dyn Handler>`.
#[async_trait]
pub trait Handler: Send + Sync {
    /// Handles `message`.
    async fn handle(&self, message: &Message) -> Result<Vec<Message>>;
}

/// Written out rather than with `#[async_trait]`, which would box a second future around
/// the one the inner handler already boxed: forwarding that one costs no allocation, and
/// routers call every handler through an `Arc`.
impl<H: Handler + ?Sized> Handler for Arc<H> {
    fn handle<'life0, 'life1, 'async_trait>(
        &'life0 self,
        message: &'life1 Message,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<Message>>> + Send + 'async_trait>>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        Self: 'async_trait,
    {
        (**self).handle(message)
    }
}

/// A [`Handler`] made from an async closure; see [`handler_fn`].
#[derive(Clone)]
pub struct HandlerFn<F> {
    f: F,
}

/// Makes a [`Handler`] from an async function of a message.
///
/// The function gets a clone of the message, which is cheap (see [`Message`]).
///
/// ```
/// use switchyard_core::{Handler, Message, handler_fn};
///
/// # futures::executor::block_on(async {
/// let echo = handler_fn(|message: Message| async move {
///     Ok(vec![Message::new(message.payload().clone())])
/// });
/// let out = echo.handle(&Message::new("hi")).await?;
/// assert_eq!(out[0].payload(), "hi");
/// # Ok::<(), switchyard_core::Error>(())
/// # }).unwrap();
/// ```
pub fn handler_fn<F, Fut>(f: F) -> HandlerFn<F>
where
    F: Fn(Message) -> Fut + Send + Sync,
    Fut: Future<Output = Result<Vec<Message>>> + Send,
{
    HandlerFn { f }
}

#[async_trait]
impl<F, Fut> Handler for HandlerFn<F>
where
    F: Fn(Message) -> Fut + Send + Sync,
    Fut: Future<Output = Result<Vec<Message>>> + Send,
{
    async fn handle(&self, message: &Message) -> Result<Vec<Message>> {
        (self.f)(message.clone()).await
    }
}
