//! The message: a payload, its attributes, and the handle that acknowledges its delivery.

use std::{any::type_name, fmt};

use bytes::Bytes;
use serde::{Serialize, de::DeserializeOwned};

use crate::{Acker, Attributes, Error, Limits, Result, attributes::names};

/// The media type set on payloads built from a `Serialize` value.
pub const JSON_CONTENT_TYPE: &str = "application/json";

/// A message: a payload of bytes, its [`Attributes`], and the [`Acker`] of its delivery.
///
/// Cloning never copies the payload or the attributes: the payload is a reference-counted
/// [`Bytes`], the attributes are shared until a clone changes them, and every clone settles
/// the same delivery (see [`Acker`]).
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use switchyard_core::Message;
///
/// #[derive(Serialize, Deserialize, PartialEq, Debug)]
/// struct OrderCreated {
///     order: u64,
/// }
///
/// let message = Message::builder()
///     .message_type("orders.created")
///     .json(&OrderCreated { order: 7 })
///     .build()?;
/// assert_eq!(message.attributes().datacontenttype(), Some("application/json"));
/// assert!(message.attributes().id().is_some(), "an id is generated");
/// assert_eq!(message.decode::<OrderCreated>()?, OrderCreated { order: 7 });
/// # Ok::<(), switchyard_core::Error>(())
/// ```
#[derive(Clone)]
pub struct Message {
    payload: Bytes,
    attributes: Attributes,
    acker: Acker,
}

impl Message {
    /// A message with `payload`, a generated `id` and `time`, and an acker that nothing
    /// upstream waits for. Use [`Message::builder`] to set attributes and check limits.
    pub fn new(payload: impl Into<Bytes>) -> Self {
        let mut attributes = Attributes::new();
        attributes.fill_defaults();
        Self {
            payload: payload.into(),
            attributes,
            acker: Acker::noop(),
        }
    }

    /// A builder for a message with attributes, checked against [`Limits`] on `build`.
    pub fn builder() -> MessageBuilder {
        MessageBuilder::default()
    }

    /// Assembles a delivered message from its parts, as a transport does on receive. `id` and
    /// `time` are filled in if the wire did not carry them.
    pub fn from_parts(payload: Bytes, mut attributes: Attributes, acker: Acker) -> Self {
        attributes.fill_defaults();
        Self {
            payload,
            attributes,
            acker,
        }
    }

    /// Takes the message apart.
    pub fn into_parts(self) -> (Bytes, Attributes, Acker) {
        (self.payload, self.attributes, self.acker)
    }

    /// The payload.
    pub fn payload(&self) -> &Bytes {
        &self.payload
    }

    /// The attributes.
    pub fn attributes(&self) -> &Attributes {
        &self.attributes
    }

    /// The attributes, to change. Only this message sees the change, not its clones.
    pub fn attributes_mut(&mut self) -> &mut Attributes {
        &mut self.attributes
    }

    /// The acker of this delivery.
    pub fn acker(&self) -> &Acker {
        &self.acker
    }

    /// Replaces the acker, as a transport does when it delivers the message. The old acker,
    /// if this was its last holder and it was not settled, counts as nacked.
    pub fn with_acker(mut self, acker: Acker) -> Self {
        self.acker = acker;
        self
    }

    /// A copy that shares the payload and attributes but settles nothing upstream: what to
    /// publish onward when the original's delivery must be settled separately.
    pub fn detached(&self) -> Self {
        Self {
            payload: self.payload.clone(),
            attributes: self.attributes.clone(),
            acker: Acker::noop(),
        }
    }

    /// Acks the delivery; see [`Acker::ack`].
    pub fn ack(&self) -> bool {
        self.acker.ack()
    }

    /// Nacks the delivery; see [`Acker::nack`].
    pub fn nack(&self) -> bool {
        self.acker.nack()
    }

    /// Decodes the JSON payload into `T`.
    ///
    /// The payload must be JSON: `datacontenttype` absent (CloudEvents' default), or
    /// `application/json`, `text/json` or any `+json` type, parameters allowed. Any other
    /// content type is an [`Error::UnsupportedContentType`]; a payload that does not parse
    /// as `T` is an [`Error::Decode`].
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T> {
        if let Some(content_type) = self.attributes.datacontenttype()
            && !is_json(content_type)
        {
            return Err(Error::UnsupportedContentType {
                content_type: content_type.to_owned(),
            });
        }
        serde_json::from_slice(&self.payload).map_err(|source| Error::Decode {
            target: type_name::<T>(),
            source,
        })
    }
}

fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case(JSON_CONTENT_TYPE)
        || essence.eq_ignore_ascii_case("text/json")
        // By bytes: a content type from the wire may end in a multi-byte character, where a
        // `str` slice would panic.
        || essence.len() > 5
            && essence.as_bytes()[essence.len() - 5..].eq_ignore_ascii_case(b"+json")
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The payload may be large or sensitive: show its size, not its bytes.
        f.debug_struct("Message")
            .field("attributes", &self.attributes)
            .field("payload_len", &self.payload.len())
            .field("acker", &self.acker)
            .finish()
    }
}

/// Builds a [`Message`]; created by [`Message::builder`].
///
/// Setters never fail; the first invalid attribute, unencodable payload or exceeded limit is
/// returned by [`build`](Self::build).
#[derive(Debug, Default)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct MessageBuilder {
    payload: Bytes,
    attributes: Attributes,
    acker: Option<Acker>,
    limits: Limits,
    error: Option<Error>,
}

impl MessageBuilder {
    /// Sets the payload.
    pub fn payload(mut self, payload: impl Into<Bytes>) -> Self {
        self.payload = payload.into();
        self
    }

    /// Sets the payload to `value` as JSON, and `datacontenttype` to `application/json`.
    pub fn json<T: Serialize + ?Sized>(mut self, value: &T) -> Self {
        match serde_json::to_vec(value) {
            Ok(json) => {
                self.payload = json.into();
                self.attribute(names::DATACONTENTTYPE, JSON_CONTENT_TYPE)
            }
            Err(err) => self.fail(Error::Encode(err)),
        }
    }

    /// Sets any attribute; the name and value are validated as by [`Attributes::insert`].
    pub fn attribute(mut self, name: &str, value: impl Into<String>) -> Self {
        if self.error.is_none()
            && let Err(err) = self.attributes.insert(name, value)
        {
            self.error = Some(err);
        }
        self
    }

    /// Replaces every attribute set so far.
    pub fn attributes(mut self, attributes: Attributes) -> Self {
        self.attributes = attributes;
        self
    }

    /// Sets the acker; by default the message gets one that nothing upstream waits for.
    pub fn acker(mut self, acker: Acker) -> Self {
        self.acker = Some(acker);
        self
    }

    /// Sets the limits that [`build`](Self::build) checks; [`Limits::default`] otherwise.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    fn fail(mut self, error: Error) -> Self {
        self.error.get_or_insert(error);
        self
    }

    /// Builds the message: fills in `id` and `time` where absent and checks the limits.
    pub fn build(self) -> Result<Message> {
        if let Some(err) = self.error {
            return Err(err);
        }
        self.limits.check_payload(self.payload.len())?;
        let message = Message::from_parts(
            self.payload,
            self.attributes,
            self.acker.unwrap_or_else(Acker::noop),
        );
        self.limits.check_attributes(message.attributes())?;
        Ok(message)
    }
}

/// Builder setters for the well-known attributes.
macro_rules! builder_setters {
    ($($setter:ident => $name:expr;)*) => {
        impl MessageBuilder {
            $(
                #[doc = concat!("Sets the `", stringify!($setter), "` attribute.")]
                pub fn $setter(self, value: impl Into<String>) -> Self {
                    self.attribute($name, value)
                }
            )*
        }
    };
}

builder_setters! {
    id => names::ID;
    source => names::SOURCE;
    message_type => names::TYPE;
    subject => names::SUBJECT;
    dataschema => names::DATASCHEMA;
    destination => names::DESTINATION;
    correlation_id => names::CORRELATIONID;
    causation_id => names::CAUSATIONID;
    partition_key => names::PARTITIONKEY;
}

#[cfg(test)]
mod tests;
