//! What a reply carries: the attributes that the gateway stamps on every reply (channel,
//! session, duration) and the messages it builds itself (error and empty replies).

use std::time::Duration;

use serde::Serialize;
use switchyard_core::{Acker, Attributes, Bytes, JSON_CONTENT_TYPE, Message, attributes::names};

use super::UserError;

/// The attributes that the gateway stamps on every message it hands to the handler and on
/// every reply it sends back.
pub mod attr {
    /// The name of the channel the request came through. On requests, the gateway
    /// overwrites whatever the sender put there, so that a handler can trust it.
    pub const CHANNEL: &str = "channel";
    /// The session within the channel (a connection, a chat). Overwritten on requests like
    /// [`CHANNEL`].
    pub const SESSION: &str = "session";
    /// On replies: the request's duration in whole milliseconds, from the moment the
    /// channel received it, including the wait for the inbox and for a permit, to the
    /// moment the handler returned.
    pub const DURATION_MS: &str = "durationms";
    /// On error replies: the [`ErrorCategory`](crate::gateway::ErrorCategory) name.
    pub const ERROR: &str = "error";
}

/// The `type` of an error reply. Its JSON payload is
/// `{"category": "<category>", "message": "<text safe to show>"}`, and its
/// [`attr::ERROR`] attribute holds the category.
pub const ERROR_TYPE: &str = "switchyard.gateway.error";

/// The `type` of the reply sent when the handler succeeded without output, so that every
/// request gets at least one answer. Its payload is empty.
pub const DONE_TYPE: &str = "switchyard.gateway.done";

/// The body of an error reply.
#[derive(Serialize)]
struct ErrorBody<'a> {
    category: &'a str,
    message: &'a str,
}

impl UserError {
    /// This error as a reply message: type [`ERROR_TYPE`], a JSON payload with the
    /// category and the message, and the category in the [`attr::ERROR`] attribute.
    ///
    /// ```
    /// use switchyard_engine::gateway::{ErrorCategory, UserError, reply};
    ///
    /// let message = UserError::generic(ErrorCategory::Timeout).to_message();
    /// assert_eq!(message.attributes().message_type(), Some(reply::ERROR_TYPE));
    /// assert_eq!(message.attributes().get(reply::attr::ERROR), Some("timeout"));
    /// ```
    pub fn to_message(&self) -> Message {
        let body = ErrorBody {
            category: self.category().as_str(),
            message: self.message(),
        };
        // Two strings always serialize; an empty body is the harmless fallback.
        let payload = serde_json::to_vec(&body).unwrap_or_default();
        let mut attributes = Attributes::new();
        put(&mut attributes, names::TYPE, ERROR_TYPE);
        put(&mut attributes, names::DATACONTENTTYPE, JSON_CONTENT_TYPE);
        put(&mut attributes, attr::ERROR, self.category().as_str());
        Message::from_parts(payload.into(), attributes, Acker::noop())
    }
}

/// The reply sent when the handler returned no message.
pub(super) fn done() -> Message {
    let mut attributes = Attributes::new();
    put(&mut attributes, names::TYPE, DONE_TYPE);
    Message::from_parts(Bytes::new(), attributes, Acker::noop())
}

/// Where a reply goes and what it answers: the parts of the request that every reply
/// carries back.
pub(super) struct ReplyTo<'a> {
    pub(super) channel: &'a str,
    pub(super) session: &'a str,
    /// The request's `id`.
    pub(super) request_id: Option<&'a str>,
    /// The request's `correlationid`.
    pub(super) correlation_id: Option<&'a str>,
}

impl ReplyTo<'_> {
    /// Stamps `reply` with the channel, the session and the duration, and ties it to the
    /// request: `causationid` is the request's id and `correlationid` the request's
    /// correlation id (or its id), where the handler did not set them.
    pub(super) fn stamp(&self, mut reply: Message, duration: Duration) -> Message {
        let millis = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
        let attributes = reply.attributes_mut();
        put(attributes, attr::CHANNEL, self.channel);
        put(attributes, attr::SESSION, self.session);
        put(attributes, attr::DURATION_MS, millis.to_string());
        if attributes.causation_id().is_none()
            && let Some(id) = self.request_id
        {
            put(attributes, names::CAUSATIONID, id);
        }
        if attributes.correlation_id().is_none()
            && let Some(correlation) = self.correlation_id.or(self.request_id)
        {
            put(attributes, names::CORRELATIONID, correlation);
        }
        reply
    }
}

/// Stamps the session metadata on a request before the handler sees it, replacing whatever
/// the sender claimed.
pub(super) fn stamp_request(message: &mut Message, channel: &str, session: &str) {
    let attributes = message.attributes_mut();
    put(attributes, attr::CHANNEL, channel);
    put(attributes, attr::SESSION, session);
}

/// Sets an attribute whose name is one of ours. Our names are valid and only `id`,
/// `source`, `type`, `time` and `specversion` have checked values, so this cannot fail;
/// if it ever did, the reply goes out without the attribute rather than not at all.
fn put(attributes: &mut Attributes, name: &'static str, value: impl Into<String>) {
    if let Err(err) = attributes.insert(name, value) {
        tracing::error!(attribute = name, error = %err, "cannot set gateway attribute");
    }
}

#[cfg(test)]
mod tests;
