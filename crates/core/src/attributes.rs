//! Message attributes: the CloudEvents 1.0 context attributes, Switchyard's extensions, and
//! any other extension, with names validated as CloudEvents requires.

use std::{collections::BTreeMap, fmt, sync::Arc, time::SystemTime};

use serde::{Deserialize, Serialize};

use crate::{Error, Result, id};

/// Longest attribute name accepted. CloudEvents 1.0 says names SHOULD NOT exceed 20
/// characters; we make that a rule so that names stay usable as Kafka headers, Redis fields
/// and metric labels.
pub const MAX_NAME_LEN: usize = 20;

/// The attribute names that Switchyard knows, with their typed accessors on [`Attributes`].
pub mod names {
    /// CloudEvents `id`: identifies the event; with `source`, unique.
    pub const ID: &str = "id";
    /// CloudEvents `source`: the context in which the event happened (a URI-reference).
    pub const SOURCE: &str = "source";
    /// CloudEvents `specversion`: always `1.0`.
    pub const SPECVERSION: &str = "specversion";
    /// CloudEvents `type`: what happened, such as `com.example.order.created`. Routers pick
    /// handlers by it.
    pub const TYPE: &str = "type";
    /// CloudEvents `subject`: the subject of the event within its source.
    pub const SUBJECT: &str = "subject";
    /// CloudEvents `time`: when it happened, RFC 3339.
    pub const TIME: &str = "time";
    /// CloudEvents `datacontenttype`: the payload's media type.
    pub const DATACONTENTTYPE: &str = "datacontenttype";
    /// CloudEvents `dataschema`: the schema the payload adheres to (a URI).
    pub const DATASCHEMA: &str = "dataschema";
    /// Switchyard extension: where the message goes next, such as `kafka://orders` or
    /// `loop://billing`.
    pub const DESTINATION: &str = "destination";
    /// Switchyard extension: ties a reply to its request.
    pub const CORRELATIONID: &str = "correlationid";
    /// Switchyard extension: the id of the message that caused this one.
    pub const CAUSATIONID: &str = "causationid";
    /// Switchyard extension: messages with the same key keep their order.
    pub const PARTITIONKEY: &str = "partitionkey";
}

/// The version of CloudEvents that these attributes follow.
pub const SPEC_VERSION: &str = "1.0";

/// A message's attributes: string values under validated names.
///
/// The well-known ones have typed accessors ([`id`](Self::id), [`time`](Self::time), ...);
/// any other is an extension, read with [`get`](Self::get) and written with
/// [`insert`](Self::insert). Names are lowercase ASCII letters and digits, at most
/// [`MAX_NAME_LEN`] long, as CloudEvents requires.
///
/// Cloning is cheap: the map is shared and copied only when a clone is changed, and that
/// copy shares every name and value (one allocation for the map, none per attribute).
///
/// ```
/// use switchyard_core::Attributes;
///
/// let mut attrs = Attributes::new();
/// attrs.set_type("orders.created")?;
/// attrs.insert("tenant", "acme")?;
/// assert_eq!(attrs.message_type(), Some("orders.created"));
/// assert_eq!(attrs.get("tenant"), Some("acme"));
/// assert!(attrs.insert("Tenant", "acme").is_err());
/// # Ok::<(), switchyard_core::Error>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    try_from = "BTreeMap<String, String>",
    into = "BTreeMap<String, String>"
)]
pub struct Attributes {
    map: Arc<BTreeMap<Arc<str>, Arc<str>>>,
}

impl Attributes {
    /// No attributes at all.
    pub fn new() -> Self {
        Self::default()
    }

    /// The value of any attribute, well-known or extension.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.map.get(name).map(|value| &**value)
    }

    /// Sets an attribute, returning the value it replaces.
    ///
    /// Fails if `name` is not a valid CloudEvents attribute name, or if the value is not
    /// valid for a well-known attribute: `id`, `source` and `type` must not be empty,
    /// `specversion` must be `1.0`, and `time` must be an RFC 3339 timestamp.
    pub fn insert(&mut self, name: &str, value: impl Into<String>) -> Result<Option<String>> {
        let replaced = self.put(name, value.into())?;
        Ok(replaced.map(|value| String::from(&*value)))
    }

    /// [`insert`](Self::insert), returning the replaced value as it was stored.
    fn put(&mut self, name: &str, value: String) -> Result<Option<Arc<str>>> {
        validate_name(name)?;
        validate_value(name, &value)?;
        let map = Arc::make_mut(&mut self.map);
        let value = Arc::from(value);
        // An attribute that is already set keeps its stored name.
        Ok(match map.get_mut(name) {
            Some(slot) => Some(std::mem::replace(slot, value)),
            None => map.insert(name.into(), value),
        })
    }

    /// Removes an attribute, returning its value.
    pub fn remove(&mut self, name: &str) -> Option<String> {
        if !self.map.contains_key(name) {
            // Do not unshare the map just to find nothing.
            return None;
        }
        Arc::make_mut(&mut self.map)
            .remove(name)
            .map(|value| String::from(&*value))
    }

    /// Every attribute, sorted by name.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + '_ {
        self.map.iter().map(|(name, value)| (&**name, &**value))
    }

    /// How many attributes are set.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether no attribute is set.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The size that [`Limits`](crate::Limits) checks: the bytes of every name and value.
    pub fn encoded_len(&self) -> usize {
        self.map
            .iter()
            .map(|(name, value)| name.len() + value.len())
            .sum()
    }

    /// Sets `id` to a new time-ordered id (UUIDv7) and `time` to now, where absent.
    pub fn fill_defaults(&mut self) {
        let has_id = self.map.contains_key(names::ID);
        let has_time = self.map.contains_key(names::TIME);
        if has_id && has_time {
            return;
        }
        let map = Arc::make_mut(&mut self.map);
        if !has_id {
            map.insert(names::ID.into(), id::new_id().into());
        }
        if !has_time {
            map.insert(
                names::TIME.into(),
                id::format_time(SystemTime::now()).into(),
            );
        }
    }

    /// The `time` attribute, parsed. `None` if absent; the value is validated on insert, so
    /// it always parses when present.
    pub fn time(&self) -> Option<SystemTime> {
        self.get(names::TIME).and_then(id::parse_time)
    }

    /// Sets the `time` attribute.
    pub fn set_time(&mut self, time: SystemTime) {
        Arc::make_mut(&mut self.map).insert(names::TIME.into(), id::format_time(time).into());
    }

    /// The `specversion` attribute: always [`SPEC_VERSION`], whether stored or not.
    pub fn specversion(&self) -> &str {
        SPEC_VERSION
    }
}

/// Typed accessors for the well-known string attributes.
macro_rules! string_attributes {
    ($($(#[$doc:meta])* $get:ident, $set:ident => $name:expr;)*) => {
        impl Attributes {
            $(
                $(#[$doc])*
                pub fn $get(&self) -> Option<&str> {
                    self.get($name)
                }

                #[doc = concat!("Sets the `", stringify!($get), "` attribute; see [`insert`](Self::insert) for what is validated.")]
                pub fn $set(&mut self, value: impl Into<String>) -> Result<()> {
                    self.put($name, value.into()).map(drop)
                }
            )*
        }
    };
}

string_attributes! {
    /// CloudEvents `id`.
    id, set_id => names::ID;
    /// CloudEvents `source`.
    source, set_source => names::SOURCE;
    /// CloudEvents `type`: what the message is, and what routers dispatch on.
    message_type, set_type => names::TYPE;
    /// CloudEvents `subject`.
    subject, set_subject => names::SUBJECT;
    /// CloudEvents `datacontenttype`: the payload's media type.
    datacontenttype, set_datacontenttype => names::DATACONTENTTYPE;
    /// CloudEvents `dataschema`.
    dataschema, set_dataschema => names::DATASCHEMA;
    /// Extension `destination`: where the message goes next.
    destination, set_destination => names::DESTINATION;
    /// Extension `correlationid`: ties a reply to its request.
    correlation_id, set_correlation_id => names::CORRELATIONID;
    /// Extension `causationid`: the id of the message that caused this one.
    causation_id, set_causation_id => names::CAUSATIONID;
    /// Extension `partitionkey`: messages with the same key keep their order.
    partition_key, set_partition_key => names::PARTITIONKEY;
}

impl fmt::Debug for Attributes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl TryFrom<BTreeMap<String, String>> for Attributes {
    type Error = Error;

    fn try_from(map: BTreeMap<String, String>) -> Result<Self> {
        let mut attrs = Attributes::new();
        for (name, value) in map {
            attrs.insert(&name, value)?;
        }
        Ok(attrs)
    }
}

impl From<Attributes> for BTreeMap<String, String> {
    fn from(attrs: Attributes) -> Self {
        attrs
            .iter()
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect()
    }
}

/// Checks `name` against the CloudEvents naming rules: lowercase `a-z` and `0-9` only, not
/// empty, at most [`MAX_NAME_LEN`] characters.
pub fn validate_name(name: &str) -> Result<()> {
    let reason = if name.is_empty() {
        "must not be empty"
    } else if name.len() > MAX_NAME_LEN {
        "is longer than 20 characters"
    } else if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    {
        "may contain only lowercase ASCII letters and digits"
    } else {
        return Ok(());
    };
    // The rejected name is user input of any length: keep the error bounded.
    let shown: String = name.chars().take(2 * MAX_NAME_LEN).collect();
    Err(Error::InvalidAttributeName {
        name: shown,
        reason,
    })
}

fn validate_value(name: &str, value: &str) -> Result<()> {
    let reason = match name {
        names::ID | names::SOURCE | names::TYPE if value.is_empty() => "must not be empty",
        names::SPECVERSION if value != SPEC_VERSION => "must be 1.0",
        names::TIME if id::parse_time(value).is_none() => "must be an RFC 3339 timestamp",
        _ => return Ok(()),
    };
    Err(Error::InvalidAttributeValue {
        name: name.to_owned(),
        reason,
    })
}

#[cfg(test)]
mod tests;
