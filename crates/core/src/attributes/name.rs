//! Attribute names as stored: a one-byte tag for each well-known name, shared text for any
//! other, so that the typed accessors find their attribute without comparing strings.

use std::{cmp::Ordering, sync::Arc};

use super::names;

/// The names in [`names`], as one-byte tags.
///
/// The variants are declared in the order of their text, so comparing two tags orders them as
/// comparing their names would: the entries stay sorted by name without reading the text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub(super) enum WellKnown {
    CausationId,
    CorrelationId,
    DataContentType,
    DataSchema,
    Destination,
    Id,
    Kind,
    PartitionKey,
    ReplyTo,
    Source,
    SpecVersion,
    Subject,
    Time,
    Type,
}

/// Extension names that sort before, between and after the well-known ones: the names that
/// the tests mix with those.
#[cfg(test)]
pub(super) const EXTENSIONS_AROUND: [&str; 18] = [
    "0",
    "a",
    "c",
    "correlationidx",
    "d",
    "datab",
    "datad",
    "e",
    "idx",
    "j",
    "kinda",
    "q",
    "replytoa",
    "rz",
    "sp",
    "sub",
    "tj",
    "zz",
];

impl WellKnown {
    /// How many well-known names there are.
    pub(super) const COUNT: usize = Self::Type as usize + 1;

    /// Every well-known name, in tag order.
    #[cfg(test)]
    pub(super) const ALL: [Self; 14] = [
        Self::CausationId,
        Self::CorrelationId,
        Self::DataContentType,
        Self::DataSchema,
        Self::Destination,
        Self::Id,
        Self::Kind,
        Self::PartitionKey,
        Self::ReplyTo,
        Self::Source,
        Self::SpecVersion,
        Self::Subject,
        Self::Time,
        Self::Type,
    ];

    /// The name's text.
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::CausationId => names::CAUSATIONID,
            Self::CorrelationId => names::CORRELATIONID,
            Self::DataContentType => names::DATACONTENTTYPE,
            Self::DataSchema => names::DATASCHEMA,
            Self::Destination => names::DESTINATION,
            Self::Id => names::ID,
            Self::Kind => names::KIND,
            Self::PartitionKey => names::PARTITIONKEY,
            Self::ReplyTo => names::REPLYTO,
            Self::Source => names::SOURCE,
            Self::SpecVersion => names::SPECVERSION,
            Self::Subject => names::SUBJECT,
            Self::Time => names::TIME,
            Self::Type => names::TYPE,
        }
    }

    /// The tag of `name`, if it is well-known.
    #[inline]
    pub(super) fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            names::CAUSATIONID => Self::CausationId,
            names::CORRELATIONID => Self::CorrelationId,
            names::DATACONTENTTYPE => Self::DataContentType,
            names::DATASCHEMA => Self::DataSchema,
            names::DESTINATION => Self::Destination,
            names::ID => Self::Id,
            names::KIND => Self::Kind,
            names::PARTITIONKEY => Self::PartitionKey,
            names::REPLYTO => Self::ReplyTo,
            names::SOURCE => Self::Source,
            names::SPECVERSION => Self::SpecVersion,
            names::SUBJECT => Self::Subject,
            names::TIME => Self::Time,
            names::TYPE => Self::Type,
            _ => return None,
        })
    }
}

/// A stored attribute name.
///
/// A well-known name is always stored as [`Name::Known`], never as [`Name::Other`]: each name
/// has one representation, so the derived equality is equality of the text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Name {
    /// One of [`names`].
    Known(WellKnown),
    /// An extension name, validated, shared by every copy of the attributes.
    Other(Arc<str>),
}

impl Name {
    /// The key that finds this name.
    pub(super) fn key(&self) -> Key<'_> {
        match self {
            Self::Known(known) => Key::Known(*known),
            Self::Other(name) => Key::Other(name),
        }
    }

    /// The name's text.
    pub(super) fn as_str(&self) -> &str {
        match self {
            Self::Known(known) => known.as_str(),
            Self::Other(name) => name,
        }
    }
}

/// A name being looked up: [`Name`] without the ownership, with the same one-representation
/// rule (build it with [`Key::of`] from text).
#[derive(Clone, Copy, Debug)]
pub(super) enum Key<'a> {
    /// One of [`names`].
    Known(WellKnown),
    /// Any other name.
    Other(&'a str),
}

impl<'a> Key<'a> {
    /// The key of `name`: its tag if it is well-known.
    #[inline]
    pub(super) fn of(name: &'a str) -> Self {
        WellKnown::from_name(name).map_or(Self::Other(name), Self::Known)
    }

    /// The name's text.
    pub(super) fn as_str(self) -> &'a str {
        match self {
            Self::Known(known) => known.as_str(),
            Self::Other(name) => name,
        }
    }

    /// Whether `name` is this key. A well-known key compares one byte, and never the text of
    /// an extension name.
    pub(super) fn matches(self, name: &Name) -> bool {
        match (self, name) {
            (Self::Known(key), Name::Known(name)) => key == *name,
            (Self::Other(key), Name::Other(name)) => key == &**name,
            // One representation per name: a tag never equals a text.
            _ => false,
        }
    }

    /// How this key orders against `name`: as their texts do.
    #[inline]
    pub(super) fn cmp_name(self, name: &Name) -> Ordering {
        match (self, name) {
            (Self::Known(key), Name::Known(name)) => key.cmp(name),
            _ => self.as_str().cmp(name.as_str()),
        }
    }

    /// The name to store for this key. Allocates only for an extension name.
    pub(super) fn to_name(self) -> Name {
        match self {
            Self::Known(known) => Name::Known(known),
            Self::Other(name) => Name::Other(name.into()),
        }
    }
}

#[cfg(test)]
mod tests;
