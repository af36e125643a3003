//! The `Subscriber` trait: where messages arrive from a topic.

use std::pin::Pin;

use async_trait::async_trait;
use futures_core::Stream;

use crate::{Message, Result};

/// The stream of deliveries that [`Subscriber::subscribe`] returns.
///
/// Each item is a delivered message, to be settled through its [`Acker`](crate::Acker), or an
/// error that the transport could not turn into a message (a payload over the limits, a
/// broken frame). The stream ends when the subscriber is closed.
pub type MessageStream = Pin<Box<dyn Stream<Item = Result<Message>> + Send + 'static>>;

/// Receives messages from a topic of a transport.
///
/// Object-safe, so that subscribers can be stored as `Arc<dyn Subscriber>` and merged by
/// name. Every message it delivers honours the [ack contract](crate::ack).
#[async_trait]
pub trait Subscriber: Send + Sync {
    /// Starts receiving from `topic`, or from every topic matching a pattern where the
    /// transport supports patterns (see its documentation).
    async fn subscribe(&self, topic: &str) -> Result<MessageStream>;

    /// Ends every stream this subscriber returned, after their in-flight messages are
    /// settled or nacked. Idempotent.
    async fn close(&self) -> Result<()>;
}
