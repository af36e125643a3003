//! Message kinds: requests, responses, notifications and events, told apart by an attribute.

use std::{fmt, sync::LazyLock};

use switchyard_core::{Attribute, Attributes, Message, attributes::names};

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
        message.attributes_mut().insert_all([self.attribute()]);
    }

    /// The kind as an attribute, validated once: stamping a message with it allocates
    /// nothing and checks nothing.
    pub(crate) fn attribute(self) -> Attribute {
        static ATTRIBUTES: LazyLock<[Attribute; 4]> = LazyLock::new(|| {
            [
                MessageKind::Request,
                MessageKind::Response,
                MessageKind::Notification,
                MessageKind::Event,
            ]
            .map(|kind| {
                Attribute::new(KIND_ATTRIBUTE, kind.as_str())
                    .expect("the kind attribute's name and values are valid")
            })
        });
        let attribute = &ATTRIBUTES[self as usize];
        debug_assert_eq!(attribute.value(), self.as_str());
        attribute.clone()
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
            let attribute = kind.attribute();
            assert_eq!(
                (attribute.name(), attribute.value()),
                (KIND_ATTRIBUTE, kind.as_str())
            );
        }
        assert_eq!(MessageKind::of(&Message::new("x")), MessageKind::Event);
        let odd = Message::builder()
            .attribute(KIND_ATTRIBUTE, "other")
            .build()
            .unwrap();
        assert_eq!(MessageKind::of(&odd), MessageKind::Event);
    }
}
