//! [`Attribute`]: one name and value, validated together once, to set on many messages.

use std::sync::Arc;

use uuid::{Uuid, fmt::Hyphenated};

use super::{Entry, Key, validate_known_value, validate_name, validate_value};
use crate::Result;

/// One attribute, its name and value validated together when it is made, so that setting it
/// checks nothing again: keep the attributes that every message of a kind gets (in a
/// `static`, or in the component that stamps them) and set them with
/// [`Attributes::insert_all`](super::Attributes::insert_all).
///
/// Cloning shares the name and value.
///
/// ```
/// use switchyard_core::{Attribute, Attributes};
///
/// let kind = Attribute::new("kind", "request")?;
/// assert_eq!((kind.name(), kind.value()), ("kind", "request"));
/// assert!(Attribute::new("Kind", "request").is_err(), "names are validated");
/// assert!(Attribute::new("type", "").is_err(), "and values, for their name");
///
/// let mut attrs = Attributes::new();
/// attrs.insert_all([kind]);
/// assert_eq!(attrs.get("kind"), Some("request"));
/// # Ok::<(), switchyard_core::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Attribute {
    entry: Entry,
}

impl Attribute {
    /// The attribute `name` = `value`, validated as
    /// [`Attributes::insert`](super::Attributes::insert) validates it: a valid CloudEvents
    /// name, no control characters or noncharacters in the value, and a value valid for a
    /// well-known name.
    pub fn new(name: &str, value: impl Into<Arc<str>>) -> Result<Self> {
        let key = Key::of(name);
        if let Key::Other(name) = key {
            validate_name(name)?;
        }
        let value = value.into();
        validate_value(key, &value)?;
        Ok(Self {
            entry: Entry {
                name: key.to_name(),
                value,
            },
        })
    }

    /// The attribute `name` = the text of `id`, hyphenated and lowercase, as a correlation
    /// or causation id often is. The text of a UUID has no control characters: only the name
    /// is validated, and the value against the rules of a well-known name (a UUID is neither
    /// a `specversion` nor a `time`).
    ///
    /// ```
    /// use switchyard_core::Attribute;
    /// use uuid::Uuid;
    ///
    /// let id = Uuid::from_u128(0x936da01f_9abd_4d9d_80c7_02af85c822a8);
    /// let attribute = Attribute::from_uuid("correlationid", id)?;
    /// assert_eq!(attribute.value(), "936da01f-9abd-4d9d-80c7-02af85c822a8");
    /// assert!(Attribute::from_uuid("time", id).is_err());
    /// # Ok::<(), switchyard_core::Error>(())
    /// ```
    pub fn from_uuid(name: &str, id: Uuid) -> Result<Self> {
        let key = Key::of(name);
        if let Key::Other(name) = key {
            validate_name(name)?;
        }
        let mut text = [0; Hyphenated::LENGTH];
        let value: Arc<str> = Arc::from(&*id.hyphenated().encode_lower(&mut text));
        validate_known_value(key, &value)?;
        Ok(Self {
            entry: Entry {
                name: key.to_name(),
                value,
            },
        })
    }

    /// The name.
    pub fn name(&self) -> &str {
        self.entry.name.as_str()
    }

    /// The value.
    pub fn value(&self) -> &str {
        &self.entry.value
    }

    /// The entry to store.
    pub(super) fn entry(&self) -> &Entry {
        &self.entry
    }

    /// The entry to store, taken.
    pub(super) fn into_entry(self) -> Entry {
        self.entry
    }
}

impl std::fmt::Debug for Attribute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Attribute")
            .field(&self.name())
            .field(&self.value())
            .finish()
    }
}

#[cfg(test)]
mod tests;
