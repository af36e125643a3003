//! Message kinds: requests, responses, notifications and events, told apart by an attribute.

use std::{
    fmt,
    sync::{Arc, LazyLock},
};

use switchyard_core::{Attributes, Message, attributes::names};

/// The attribute that carries a message's [`MessageKind`].
pub const KIND_ATTRIBUTE: &str = names::KIND;

/// The attribute where a request names the topic (or inbox) its response goes to.
pub const REPLY_TO_ATTRIBUTE: &str = names::REPLYTO;

/// What a message is for. Carried in the [`KIND_ATTRIBUTE`] attribute; a message without it
/// is an [`Event`](MessageKind::Event).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// Expects exactly one response, matched by `correlationid`.
    Request,
    /// Answers a request.
    Response,
    /// Delivered to every matching endpoint; expects no answer.
    Notification,
    /// Published to every subscriber of its topic.
    Event,
}

impl MessageKind {
    /// The attribute value.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Request => "request",
            MessageKind::Response => "response",
            MessageKind::Notification => "notification",
            MessageKind::Event => "event",
        }
    }

    /// The kind of `message`: its [`KIND_ATTRIBUTE`], or `Event` when absent or unknown.
    pub fn of(message: &Message) -> Self {
        Self::of_attributes(message.attributes())
    }

    /// The kind named by `attributes`.
    pub fn of_attributes(attributes: &Attributes) -> Self {
        match attributes.get(KIND_ATTRIBUTE) {
            Some("request") => MessageKind::Request,
            Some("response") => MessageKind::Response,
            Some("notification") => MessageKind::Notification,
            _ => MessageKind::Event,
        }
    }

    /// Sets `message`'s kind.
    pub fn stamp(self, message: &mut Message) {
        // One shared copy of each value, so that stamping a message allocates nothing.
        static REQUEST: LazyLock<Arc<str>> = LazyLock::new(|| Arc::from("request"));
        static RESPONSE: LazyLock<Arc<str>> = LazyLock::new(|| Arc::from("response"));
        static NOTIFICATION: LazyLock<Arc<str>> = LazyLock::new(|| Arc::from("notification"));
        static EVENT: LazyLock<Arc<str>> = LazyLock::new(|| Arc::from("event"));
        let value = match self {
            MessageKind::Request => &REQUEST,
            MessageKind::Response => &RESPONSE,
            MessageKind::Notification => &NOTIFICATION,
            MessageKind::Event => &EVENT,
        };
        debug_assert_eq!(&***value, self.as_str());
        // The name and value are constants that pass validation.
        let _ = message
            .attributes_mut()
            .insert_shared(KIND_ATTRIBUTE, Arc::clone(value));
    }
}

impl fmt::Display for MessageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    //! Kinds round-trip through the attribute.

    use super::*;

    #[test]
    fn kinds_round_trip_and_default_to_event() {
        for kind in [
            MessageKind::Request,
            MessageKind::Response,
            MessageKind::Notification,
            MessageKind::Event,
        ] {
            let mut message = Message::new("x");
            kind.stamp(&mut message);
            assert_eq!(MessageKind::of(&message), kind);
        }
        assert_eq!(MessageKind::of(&Message::new("x")), MessageKind::Event);
        let odd = Message::builder()
            .attribute(KIND_ATTRIBUTE, "other")
            .build()
            .unwrap();
        assert_eq!(MessageKind::of(&odd), MessageKind::Event);
    }
}
