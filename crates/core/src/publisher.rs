//! The `Publisher` trait: where messages leave for a topic.

use async_trait::async_trait;

use crate::{Message, Result};

/// Sends messages to a topic of a transport: a Kafka topic, a Redis stream, a bus topic.
///
/// Object-safe, so that publishers can be stored as `Arc<dyn Publisher>` and picked by
/// destination at run time.
///
/// Delivery is at least once. A publish that returned `Ok` was accepted by the transport
/// (for brokers: acknowledged by the broker as the transport's configuration requires). A
/// publish that returned `Err` may or may not have reached the broker; publishing again may
/// duplicate, which consumers absorb by deduplicating on the message `id`.
#[async_trait]
pub trait Publisher: Send + Sync {
    /// Publishes one message to `topic`.
    ///
    /// Fails with [`Error::TooLarge`](crate::Error::TooLarge) when the message breaks the
    /// publisher's limits, and with [`Error::Closed`](crate::Error::Closed) after
    /// [`close`](Self::close).
    async fn publish(&self, topic: &str, message: Message) -> Result<()>;

    /// Publishes several messages to `topic`, in order.
    ///
    /// Transports override this to send a batch in one round trip. On `Err`, treat every
    /// message of the batch as possibly unpublished. The default publishes one at a time and
    /// stops at the first error.
    async fn publish_batch(&self, topic: &str, messages: Vec<Message>) -> Result<()> {
        for message in messages {
            self.publish(topic, message).await?;
        }
        Ok(())
    }

    /// Flushes what is buffered and stops taking messages. Idempotent.
    async fn close(&self) -> Result<()>;
}
