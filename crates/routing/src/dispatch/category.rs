//! Message categories and the pluggable parser that reads them from a topic.

use std::fmt;

/// What kind of message a topic carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MessageCategory {
    /// Something happened (`events`).
    Event,
    /// Do something (`commands`).
    Command,
    /// Something is wanted, not yet decided (`intents`).
    Intent,
    /// A question that expects an answer (`queries`).
    Query,
}

impl MessageCategory {
    /// The topic segment that names the category, plural as the convention writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageCategory::Event => "events",
            MessageCategory::Command => "commands",
            MessageCategory::Intent => "intents",
            MessageCategory::Query => "queries",
        }
    }

    /// The category a topic segment names, singular or plural, in lowercase.
    pub fn from_segment(segment: &str) -> Option<Self> {
        Some(match segment {
            "events" | "event" => MessageCategory::Event,
            "commands" | "command" => MessageCategory::Command,
            "intents" | "intent" => MessageCategory::Intent,
            "queries" | "query" => MessageCategory::Query,
            _ => return None,
        })
    }
}

impl fmt::Display for MessageCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Reads the [`MessageCategory`] of a topic. Replace it with
/// [`DispatchEngine::with_topic_parser`](super::DispatchEngine::with_topic_parser) when
/// your topics follow another convention.
pub trait TopicParser: Send + Sync {
    /// The category of `topic`, or `None` if the topic does not follow the convention.
    fn category(&self, topic: &str) -> Option<MessageCategory>;
}

/// The default [`TopicParser`]: `<env>.<domain>.<category>.<version>`, such as
/// `prod.orders.events.v1`.
///
/// ```
/// use switchyard_routing::dispatch::{ConventionParser, MessageCategory, TopicParser};
///
/// assert_eq!(ConventionParser.category("dev.user.events.v1"), Some(MessageCategory::Event));
/// assert_eq!(ConventionParser.category("dev.user.v1"), None);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct ConventionParser;

impl TopicParser for ConventionParser {
    fn category(&self, topic: &str) -> Option<MessageCategory> {
        let mut segments = topic.split('.');
        let (Some(env), Some(domain), Some(category), Some(version), None) = (
            segments.next(),
            segments.next(),
            segments.next(),
            segments.next(),
            segments.next(),
        ) else {
            return None;
        };
        let versioned = version
            .strip_prefix('v')
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        if env.is_empty() || domain.is_empty() || !versioned {
            return None;
        }
        MessageCategory::from_segment(category)
    }
}

impl<F> TopicParser for F
where
    F: Fn(&str) -> Option<MessageCategory> + Send + Sync,
{
    fn category(&self, topic: &str) -> Option<MessageCategory> {
        self(topic)
    }
}
