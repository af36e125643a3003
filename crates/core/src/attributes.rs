//! Message attributes: the CloudEvents 1.0 context attributes, Switchyard's extensions, and
//! any other extension, with names validated as CloudEvents requires.

use std::{collections::BTreeMap, fmt, sync::Arc, time::SystemTime};

use serde::{Deserialize, Serialize};

use crate::{Error, Result, id};

mod attribute;
mod list;
mod name;

pub use attribute::Attribute;
use list::{Entries, Entry, List};
use name::{Key, WellKnown};

/// Longest attribute name accepted. CloudEvents 1.0 says names SHOULD NOT exceed 20
/// characters; we make that a rule so that names stay usable as Kafka headers, Redis fields
/// and metric labels.
pub const MAX_NAME_LEN: usize = 20;

/// The attribute names that Switchyard knows. Each is found through an index rather than a
/// search (on attributes of up to 255 entries; a binary search beyond), and most have typed
/// accessors on [`Attributes`]; `kind` and `replyto` are read with [`Attributes::get`] and
/// the bus's own helpers.
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
    /// Switchyard extension: what a message is for in request/reply (`request`,
    /// `response`, `notification` or `event`); see the bus's `MessageKind`.
    pub const KIND: &str = "kind";
    /// Switchyard extension: where a request's response goes.
    pub const REPLYTO: &str = "replyto";
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
/// Cloning is cheap: the attributes are shared and copied only when a clone is changed, and
/// that copy shares every name and value (the list is copied in one piece, with no
/// allocation per attribute). The well-known attributes are found without comparing names,
/// up to 255 attributes; past that, by binary search.
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
    /// Shared by clones until one of them changes.
    map: Arc<List>,
}

impl Attributes {
    /// No attributes at all.
    pub fn new() -> Self {
        Self::default()
    }

    /// The value of any attribute, well-known or extension.
    ///
    /// Inline, so that a constant name, such as one of [`names`], is matched against the
    /// well-known names at compile time, leaving a read of the index.
    #[inline]
    pub fn get(&self, name: &str) -> Option<&str> {
        self.map.find(Key::of(name)).map(|entry| &*entry.value)
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

    /// [`insert`](Self::insert) with a value that is already shared: it is stored as it is,
    /// with no copy, and the value it replaces is returned as it was stored. For values set
    /// on every message, such as a constant kept in a `static`, this allocates nothing.
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// use switchyard_core::Attributes;
    ///
    /// let kind: Arc<str> = Arc::from("request");
    /// let mut attrs = Attributes::new();
    /// attrs.insert_shared("kind", kind.clone())?;
    /// assert_eq!(attrs.get("kind"), Some("request"));
    /// assert!(attrs.insert_shared("Kind", kind).is_err(), "names are validated");
    /// # Ok::<(), switchyard_core::Error>(())
    /// ```
    pub fn insert_shared(&mut self, name: &str, value: Arc<str>) -> Result<Option<Arc<str>>> {
        let key = Key::of(name);
        if let Key::Other(name) = key {
            // A well-known name is valid; only an extension name needs the check.
            validate_name(name)?;
        }
        self.put_key(key, value)
    }

    /// Sets every one of `attributes`, as [`insert_shared`](Self::insert_shared) would one
    /// after the other (of two values for one name, the later wins), without validating
    /// them again: an [`Attribute`] was validated when it was made.
    ///
    /// Shared attributes are copied once for all of them, merged with them in one pass, and
    /// re-indexed once, where inserting one by one shifts entries and re-indexes once for
    /// each: stamping a few attributes kept in `static`s on a clone of a message costs
    /// little more than stamping one, and allocates nothing but the copy.
    ///
    /// ```
    /// use switchyard_core::{Attribute, Attributes};
    ///
    /// let kind = Attribute::new("kind", "request")?;
    /// let tenant = Attribute::new("tenant", "acme")?;
    /// let mut attrs = Attributes::new();
    /// attrs.insert_all([kind.clone(), tenant]);
    /// assert_eq!(attrs.get("kind"), Some("request"));
    /// assert_eq!(attrs.get("tenant"), Some("acme"));
    /// # Ok::<(), switchyard_core::Error>(())
    /// ```
    pub fn insert_all<const N: usize>(&mut self, attributes: [Attribute; N]) {
        list::set_all(&mut self.map, attributes);
    }

    /// [`insert`](Self::insert), returning the replaced value as it was stored.
    fn put(&mut self, name: &str, value: String) -> Result<Option<Arc<str>>> {
        self.insert_shared(name, value.into())
    }

    /// [`insert_shared`](Self::insert_shared) under a valid name.
    fn put_key(&mut self, key: Key<'_>, value: Arc<str>) -> Result<Option<Arc<str>>> {
        validate_value(key, &value)?;
        Ok(list::set(&mut self.map, key, value))
    }

    /// Removes an attribute, returning its value.
    pub fn remove(&mut self, name: &str) -> Option<String> {
        // An absent name leaves the list shared: nothing is copied to find nothing.
        list::remove(&mut self.map, Key::of(name)).map(|value| String::from(&*value))
    }

    /// Every attribute, sorted by name.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + '_ {
        self.map
            .entries()
            .iter()
            .map(|entry| (entry.name.as_str(), &*entry.value))
    }

    /// How many attributes are set.
    pub fn len(&self) -> usize {
        self.map.entries().len()
    }

    /// Whether no attribute is set.
    pub fn is_empty(&self) -> bool {
        self.map.entries().is_empty()
    }

    /// The size that [`Limits`](crate::Limits) checks: the bytes of every name and value.
    pub fn encoded_len(&self) -> usize {
        self.iter()
            .map(|(name, value)| name.len() + value.len())
            .sum()
    }

    /// Sets `id` to a new time-ordered id (UUIDv7) and `time` to now, where absent.
    #[inline]
    pub fn fill_defaults(&mut self) {
        // Two reads of the well-known index: no string comparison, and no allocation when
        // both are present, the common case for a message that came over the wire or was
        // handed on by a transport that delivers it again.
        if !(self.map.has_known(WellKnown::Id) && self.map.has_known(WellKnown::Time)) {
            self.fill_missing_defaults();
        }
    }

    /// The rest of [`fill_defaults`](Self::fill_defaults), out of line: one of the two is
    /// missing.
    #[cold]
    fn fill_missing_defaults(&mut self) {
        let has_id = self.map.has_known(WellKnown::Id);
        let has_time = self.map.has_known(WellKnown::Time);
        // Copy a shared list once, with room for both.
        list::make_mut(&mut self.map, usize::from(!has_id) + usize::from(!has_time));
        if !has_id {
            list::set(
                &mut self.map,
                Key::Known(WellKnown::Id),
                id::new_id().into(),
            );
        }
        if !has_time {
            let now = id::format_time(SystemTime::now()).into();
            list::set(&mut self.map, Key::Known(WellKnown::Time), now);
        }
    }

    /// The `time` attribute, parsed. `None` if absent; the value is validated on insert, so
    /// it always parses when present.
    pub fn time(&self) -> Option<SystemTime> {
        self.map
            .find_known(WellKnown::Time)
            .and_then(|entry| id::parse_time(&entry.value))
    }

    /// Sets the `time` attribute.
    pub fn set_time(&mut self, time: SystemTime) {
        let time = id::format_time(time).into();
        list::set(&mut self.map, Key::Known(WellKnown::Time), time);
    }

    /// The `specversion` attribute: always [`SPEC_VERSION`], whether stored or not.
    pub fn specversion(&self) -> &str {
        SPEC_VERSION
    }
}

/// Typed accessors for the well-known string attributes.
macro_rules! string_attributes {
    ($($(#[$doc:meta])* $get:ident, $set:ident => $name:ident;)*) => {
        impl Attributes {
            $(
                $(#[$doc])*
                #[inline]
                pub fn $get(&self) -> Option<&str> {
                    self.map.find_known(WellKnown::$name).map(|entry| &*entry.value)
                }

                #[doc = concat!("Sets the `", stringify!($get), "` attribute; see [`insert`](Self::insert) for what is validated.")]
                pub fn $set(&mut self, value: impl Into<String>) -> Result<()> {
                    let value: String = value.into();
                    self.put_key(Key::Known(WellKnown::$name), value.into()).map(drop)
                }
            )*
        }
    };
}

string_attributes! {
    /// CloudEvents `id`.
    id, set_id => Id;
    /// CloudEvents `source`.
    source, set_source => Source;
    /// CloudEvents `type`: what the message is, and what routers dispatch on.
    message_type, set_type => Type;
    /// CloudEvents `subject`.
    subject, set_subject => Subject;
    /// CloudEvents `datacontenttype`: the payload's media type.
    datacontenttype, set_datacontenttype => DataContentType;
    /// CloudEvents `dataschema`.
    dataschema, set_dataschema => DataSchema;
    /// Extension `destination`: where the message goes next.
    destination, set_destination => Destination;
    /// Extension `correlationid`: ties a reply to its request.
    correlation_id, set_correlation_id => CorrelationId;
    /// Extension `causationid`: the id of the message that caused this one.
    causation_id, set_causation_id => CausationId;
    /// Extension `partitionkey`: messages with the same key keep their order.
    partition_key, set_partition_key => PartitionKey;
}

impl fmt::Debug for Attributes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl TryFrom<BTreeMap<String, String>> for Attributes {
    type Error = Error;

    fn try_from(map: BTreeMap<String, String>) -> Result<Self> {
        // The map is sorted by name as the list is, and holds each name once: append to one
        // list. Errors come in the order that inserting one by one would give them.
        let entries = map
            .into_iter()
            .map(|(name, value)| {
                let key = Key::of(&name);
                if let Key::Other(name) = key {
                    validate_name(name)?;
                }
                validate_value(key, &value)?;
                Ok(Entry {
                    name: key.to_name(),
                    value: value.into(),
                })
            })
            .collect::<Result<Entries>>()?;
        Ok(Self {
            map: Arc::new(List::from_sorted(entries)),
        })
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
    // The rejected name is outside text of any length: redacted, as all outside text in an
    // error is, and then cut to keep the error bounded. Cut first, a secret could lose what
    // makes it recognisable (the `@` after a URL's userinfo) and survive in part.
    let shown: String = crate::redact(name).chars().take(2 * MAX_NAME_LEN).collect();
    Err(Error::InvalidAttributeName {
        name: shown,
        reason,
    })
}

/// Checks the value of a well-known attribute; any value of an extension is valid.
fn validate_value(key: Key<'_>, value: &str) -> Result<()> {
    if has_forbidden(value) {
        // CloudEvents 1.0 forbids them in every string attribute, and a CR/LF would reach
        // whatever header a transport writes the value into.
        return Err(Error::InvalidAttributeValue {
            name: key.as_str().to_owned(),
            reason: "must not contain control characters (U+0000-U+001F, U+007F-U+009F) \
                     or Unicode noncharacters",
        });
    }
    validate_known_value(key, value)
}

/// The rules of a well-known attribute for its value, beyond the characters that
/// [`validate_value`] rules out in every value.
fn validate_known_value(key: Key<'_>, value: &str) -> Result<()> {
    let Key::Known(known) = key else {
        return Ok(());
    };
    let reason = match known {
        WellKnown::Id | WellKnown::Source | WellKnown::Type if value.is_empty() => {
            "must not be empty"
        }
        WellKnown::SpecVersion if value != SPEC_VERSION => "must be 1.0",
        WellKnown::Time if id::parse_time(value).is_none() => "must be an RFC 3339 timestamp",
        _ => return Ok(()),
    };
    Err(Error::InvalidAttributeValue {
        name: known.as_str().to_owned(),
        reason,
    })
}

/// Whether `value` holds a character that CloudEvents 1.0 forbids in a string: a control
/// character (Unicode `Cc`: U+0000-U+001F, U+007F-U+009F) or a noncharacter (U+FDD0-U+FDEF,
/// and U+FFFE and U+FFFF of every plane). Surrogates, also forbidden, cannot be in a `str`.
///
/// Every attribute set on every message passes here, so the common case is one pass
/// without branches over the bytes; only a value with a byte that may start one of them is
/// decoded: 0xC2 (U+0080-U+009F, and some Latin-1 letters), 0xEF (U+F000-U+FFFF, which
/// holds U+FDD0-U+FDEF and U+FFFE-U+FFFF) or 0xF0-0xF4 (past U+FFFF, emoji among them).
#[inline]
fn has_forbidden(value: &str) -> bool {
    let suspect = value.bytes().fold(false, |seen, byte| {
        seen | (byte < 0x20) | (byte == 0x7f) | (byte == 0xc2) | (byte >= 0xef)
    });
    suspect && value.chars().any(|c| c.is_control() || is_noncharacter(c))
}

/// Whether `c` is a Unicode noncharacter: U+FDD0-U+FDEF, or the last two code points of a
/// plane.
fn is_noncharacter(c: char) -> bool {
    let c = u32::from(c);
    (0xfdd0..=0xfdef).contains(&c) || c & 0xfffe == 0xfffe
}

#[cfg(test)]
mod tests;
