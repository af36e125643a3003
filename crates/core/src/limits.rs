//! Size limits on messages, checked wherever a message enters or leaves a transport.

use crate::{Attributes, Error, LimitedField, Message, Result};

/// The largest payload and attribute set a component accepts.
///
/// Limits are checked where messages cross a boundary: on build, on publish, and on receive
/// from a broker. A violation is an [`Error::TooLarge`] that names the part and the limit.
///
/// ```
/// use switchyard_core::{Error, Limits, Message};
///
/// let limits = Limits::new().with_max_payload_bytes(4);
/// let err = Message::builder().payload("hello").limits(limits).build().unwrap_err();
/// assert_eq!(err.to_string(), "payload is 5 bytes, over the limit of 4 bytes");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    max_payload_bytes: usize,
    max_attributes_bytes: usize,
}

impl Limits {
    /// The default payload limit, 1 MiB: what Kafka brokers accept by default.
    pub const DEFAULT_MAX_PAYLOAD_BYTES: usize = 1024 * 1024;
    /// The default attributes limit, 16 KiB of names and values together.
    pub const DEFAULT_MAX_ATTRIBUTES_BYTES: usize = 16 * 1024;

    /// The default limits.
    pub const fn new() -> Self {
        Self {
            max_payload_bytes: Self::DEFAULT_MAX_PAYLOAD_BYTES,
            max_attributes_bytes: Self::DEFAULT_MAX_ATTRIBUTES_BYTES,
        }
    }

    /// Sets the largest accepted payload, in bytes.
    pub const fn with_max_payload_bytes(mut self, bytes: usize) -> Self {
        self.max_payload_bytes = bytes;
        self
    }

    /// Sets the largest accepted attribute set, in bytes of names and values.
    pub const fn with_max_attributes_bytes(mut self, bytes: usize) -> Self {
        self.max_attributes_bytes = bytes;
        self
    }

    /// The largest accepted payload, in bytes.
    pub const fn max_payload_bytes(&self) -> usize {
        self.max_payload_bytes
    }

    /// The largest accepted attribute set, in bytes.
    pub const fn max_attributes_bytes(&self) -> usize {
        self.max_attributes_bytes
    }

    /// Checks a whole message.
    pub fn check(&self, message: &Message) -> Result<()> {
        self.check_payload(message.payload().len())?;
        self.check_attributes(message.attributes())
    }

    /// Checks a payload length, before the payload is read or copied.
    pub fn check_payload(&self, len: usize) -> Result<()> {
        check(LimitedField::Payload, len, self.max_payload_bytes)
    }

    /// Checks an attribute set.
    pub fn check_attributes(&self, attributes: &Attributes) -> Result<()> {
        check(
            LimitedField::Attributes,
            attributes.encoded_len(),
            self.max_attributes_bytes,
        )
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self::new()
    }
}

fn check(field: LimitedField, size: usize, limit: usize) -> Result<()> {
    if size > limit {
        Err(Error::TooLarge { field, size, limit })
    } else {
        Ok(())
    }
}
