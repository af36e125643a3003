//! The line-delimited JSON wire format of [`TcpJsonChannel`](super::TcpJsonChannel):
//! decoding a request line into a [`Message`] and encoding a reply as one line.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use switchyard_core::{JSON_CONTENT_TYPE, Limits, Message, attributes::names};

use crate::gateway::{ErrorCategory, UserError};

/// A request line.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Request {
    #[serde(rename = "type")]
    message_type: Option<String>,
    #[serde(default)]
    data: Option<Value>,
    #[serde(default)]
    attributes: BTreeMap<String, String>,
}

/// A reply line.
#[derive(Serialize)]
struct Reply<'a> {
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    message_type: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<Value>,
    attributes: BTreeMap<&'a str, &'a str>,
}

/// Decodes one request line. `Ok(None)` for a blank line, which is ignored (a keep-alive).
///
/// Every failure is a bad request that explains what is wrong with the line.
pub(super) fn decode(line: &str, limits: Limits) -> Result<Option<Message>, UserError> {
    if line.trim().is_empty() {
        return Ok(None);
    }
    let malformed =
        |err: serde_json::Error| UserError::bad_request(&format!("malformed request: {err}"));
    // An object first: serde would also read a struct from an array, which the wire format
    // does not allow.
    let object: Map<String, Value> = serde_json::from_str(line).map_err(malformed)?;
    let request = Request::deserialize(Value::Object(object)).map_err(malformed)?;
    let mut builder = Message::builder().limits(limits);
    for (name, value) in request.attributes {
        builder = builder.attribute(&name, value);
    }
    if let Some(message_type) = request.message_type {
        builder = builder.message_type(message_type);
    }
    if let Some(data) = request.data {
        // `Value` always serializes; the payload is the JSON text of `data`.
        let payload = serde_json::to_vec(&data).unwrap_or_default();
        builder = builder
            .payload(payload)
            .attribute(names::DATACONTENTTYPE, JSON_CONTENT_TYPE);
    }
    builder
        .build()
        .map(Some)
        .map_err(|err| UserError::from_error(&err))
}

/// Encodes a reply as one JSON line, newline included.
///
/// A payload that is JSON (by its content type, or without one) goes out as `data` as it
/// is; any other UTF-8 payload as a JSON string; an empty payload as no `data` at all. A
/// payload that is none of these cannot travel on this wire: the line is then an
/// `internal` error reply with the original's attributes, and the failure is logged.
pub(super) fn encode(message: &Message) -> String {
    let attributes = message.attributes();
    let data = match data_of(message) {
        Ok(data) => data,
        Err(reason) => {
            tracing::error!(reason, "reply payload cannot be sent as JSON");
            let mut replacement = UserError::generic(ErrorCategory::Internal).to_message();
            for (name, value) in attributes.iter() {
                if replacement.attributes().get(name).is_none() {
                    // Names and values come from a valid message: they are valid again.
                    let _ = replacement.attributes_mut().insert(name, value);
                }
            }
            return encode(&replacement);
        }
    };
    let reply = Reply {
        message_type: attributes.message_type(),
        data,
        attributes: attributes
            .iter()
            .filter(|(name, _)| *name != names::TYPE)
            .collect(),
    };
    // A struct of strings and JSON values always serializes.
    let mut line = serde_json::to_string(&reply).unwrap_or_default();
    line.push('\n');
    line
}

fn data_of(message: &Message) -> Result<Option<Value>, &'static str> {
    let payload = message.payload();
    if payload.is_empty() {
        return Ok(None);
    }
    let json_like = message
        .attributes()
        .datacontenttype()
        .is_none_or(|content_type| content_type.contains("json"));
    if json_like && let Ok(value) = serde_json::from_slice::<Value>(payload) {
        return Ok(Some(value));
    }
    match std::str::from_utf8(payload) {
        Ok(text) => Ok(Some(Value::String(text.to_owned()))),
        Err(_) => Err("the payload is not UTF-8"),
    }
}

#[cfg(test)]
mod tests;
