//! A dispatch route: which topics and types go to which dispatcher.

use super::MessageCategory;

/// Sends messages on topics matching a glob pattern, of one category and optionally one
/// message type, to a dispatcher.
///
/// ```
/// use switchyard_routing::dispatch::{MessageCategory, Route};
///
/// let route = Route::new("order-events", "*.orders.events.*", MessageCategory::Event, "orders")
///     .message_type("OrderPlaced");
/// assert_eq!(route.id(), "order-events");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub(super) id: String,
    pub(super) topic_pattern: String,
    pub(super) category: MessageCategory,
    pub(super) dispatcher_id: String,
    pub(super) message_type: Option<String>,
    pub(super) enabled: bool,
}

impl Route {
    /// An enabled route for every message type of `category`.
    pub fn new(
        id: impl Into<String>,
        topic_pattern: impl Into<String>,
        category: MessageCategory,
        dispatcher_id: impl Into<String>,
    ) -> Self {
        Self {
            id: id.into(),
            topic_pattern: topic_pattern.into(),
            category,
            dispatcher_id: dispatcher_id.into(),
            message_type: None,
            enabled: true,
        }
    }

    /// Restricts the route to one message type (the `type` attribute).
    pub fn message_type(mut self, message_type: impl Into<String>) -> Self {
        self.message_type = Some(message_type.into());
        self
    }

    /// Registers the route switched off: it is validated, but matches nothing.
    pub fn disabled(mut self) -> Self {
        self.enabled = false;
        self
    }

    /// The route's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The glob pattern of topics it takes.
    pub fn topic_pattern(&self) -> &str {
        &self.topic_pattern
    }

    /// The category of messages it takes.
    pub fn category(&self) -> MessageCategory {
        self.category
    }

    /// The dispatcher it sends to.
    pub fn dispatcher_id(&self) -> &str {
        &self.dispatcher_id
    }

    /// Whether it is switched on.
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }
}
