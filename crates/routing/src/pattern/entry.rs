//! Entries of a pattern index: their stable [`EntryId`], the [`Match`] view that lookups
//! return, and the rank that orders them.

use std::fmt;

use super::syntax::Pattern;

/// The identity of one entry of a [`PatternIndex`](super::PatternIndex), returned by
/// [`PatternIndexBuilder::insert`](super::PatternIndexBuilder::insert).
///
/// It stays the same across copy-on-write rebuilds
/// ([`PatternIndex::to_builder`](super::PatternIndex::to_builder)), so it can name the entry
/// to remove later. Ids grow with registration order and are never reused by one lineage of
/// builders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntryId(u64);

impl EntryId {
    pub(crate) const fn new(id: u64) -> Self {
        Self(id)
    }

    /// The id as a number, for logs and metrics labels of low cardinality.
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for EntryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// An entry of an index or builder, in registration order.
#[derive(Debug, Clone)]
pub(crate) struct Entry<T> {
    pub(crate) id: EntryId,
    pub(crate) priority: u32,
    pub(crate) pattern: Pattern,
    pub(crate) value: T,
}

impl<T> Entry<T> {
    pub(crate) fn view(&self) -> Match<'_, T> {
        Match {
            id: self.id,
            priority: self.priority,
            pattern: &self.pattern,
            value: &self.value,
        }
    }
}

/// An entry of a [`PatternIndex`](super::PatternIndex), as a lookup found it (or as
/// [`PatternIndex::iter`](super::PatternIndex::iter) lists it).
#[derive(Debug)]
#[non_exhaustive]
pub struct Match<'a, T> {
    /// The entry's id.
    pub id: EntryId,
    /// The entry's priority: higher wins.
    pub priority: u32,
    /// The pattern that matched.
    pub pattern: &'a Pattern,
    /// The value registered with the pattern.
    pub value: &'a T,
}

impl<T> Clone for Match<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Match<'_, T> {}

/// The order of entries as one number: higher priority first, then earlier registration.
///
/// The priority fills the high 32 bits and `u32::MAX - position` the low 32, so a greater
/// rank is a better entry and two entries never share a rank. Positions stay below
/// `u32::MAX` (see `PatternLimits::max_entries`), so every rank is above [`NO_RANK`].
pub(crate) type Rank = u64;

/// Less than every rank: "nothing found yet".
pub(crate) const NO_RANK: Rank = 0;

pub(crate) fn rank(priority: u32, position: usize) -> Rank {
    (u64::from(priority) << 32) | u64::from(u32::MAX - position as u32)
}

/// The registration position that `rank` encodes.
pub(crate) fn position(rank: Rank) -> usize {
    (u32::MAX - rank as u32) as usize
}
