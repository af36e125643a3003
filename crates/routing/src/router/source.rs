//! `SourceMatcher`: which router a message goes to.

use switchyard_core::Message;

/// Picks the router for a message, by a key that routers are registered under.
///
/// The default, [`TypePrefix`], takes the message type's prefix before its first `.`:
/// `orders.created` goes to the router registered as `orders`. Any
/// `Fn(&Message) -> Option<String>` is a matcher too.
pub trait SourceMatcher: Send + Sync {
    /// The router key for `message`, or `None` if no router should take it (the caller
    /// dead-letters it).
    fn source(&self, message: &Message) -> Option<String>;
}

/// The default [`SourceMatcher`]: the message type up to its first `.`, or the whole type
/// when it has no `.`.
///
/// ```
/// use switchyard_core::Message;
/// use switchyard_routing::router::{SourceMatcher, TypePrefix};
///
/// let message = Message::builder().message_type("orders.created").build()?;
/// assert_eq!(TypePrefix.source(&message).as_deref(), Some("orders"));
/// # Ok::<(), switchyard_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct TypePrefix;

impl SourceMatcher for TypePrefix {
    fn source(&self, message: &Message) -> Option<String> {
        let message_type = message.attributes().message_type()?;
        let prefix = message_type.split('.').next().unwrap_or(message_type);
        Some(prefix.to_owned())
    }
}

impl<F> SourceMatcher for F
where
    F: Fn(&Message) -> Option<String> + Send + Sync,
{
    fn source(&self, message: &Message) -> Option<String> {
        self(message)
    }
}
