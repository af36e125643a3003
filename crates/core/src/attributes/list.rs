//! The list behind [`Attributes`](super::Attributes): entries sorted by name in one vector,
//! an index of where each well-known name sits, and the copy made before a shared list is
//! changed.
//!
//! Messages carry few attributes (3 to 10 is typical), so a vector beats a tree: no node
//! allocations, a few cache lines, and a copy that is one vector plus a refcount bump per
//! value and per extension name. Up to [`INLINE`] entries live inside the list itself, so
//! that a list, and each copy of it, is one allocation (the shared `Arc`) rather than two. A well-known name is found through the index, without a
//! scan or a string comparison (up to [`INDEX_MAX`] entries; a binary search beyond); an
//! extension name by a scan, or by binary search past [`SCAN_MAX`] entries so that a message
//! with many attributes stays logarithmic.
//!
//! Inserting one name at a time keeps the vector sorted by shifting its tail, so building a
//! list by many inserts in reverse order is quadratic in its length. Attributes come from
//! messages of a few entries, or from sorted maps (serde, the gateway), which take the
//! linear path of [`List::from_sorted`].

use std::sync::Arc;

use smallvec::SmallVec;

use super::{
    Attribute,
    name::{Key, Name, WellKnown},
};

/// One attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Entry {
    pub(super) name: Name,
    pub(super) value: Arc<str>,
}

/// The longest list that a lookup by extension name scans; longer ones are binary-searched.
/// A scan skips well-known entries on their tag and compares lengths before text, so up to 16
/// entries it costs about what the four string comparisons of a binary search do, without
/// their unpredictable branches.
const SCAN_MAX: usize = 16;

/// How many entries a list holds without a vector of its own: room for the attributes of
/// a typical message (an id, a time, a type, a destination, and a request's kind,
/// correlation id and reply-to), so that building one, copying it and adding a few to the
/// copy allocate nothing but the shared `Arc`. An entry is 32 bytes.
const INLINE: usize = 8;

/// The room that a copy of a shared list past [`INLINE`] entries keeps for entries added
/// to it next: enough for the few that a changed copy usually gains, so that they do not
/// grow the vector again.
const COPY_SLACK: usize = 4;

/// The entries: inline up to [`INLINE`], on the heap beyond.
pub(super) type Entries = SmallVec<[Entry; INLINE]>;

/// The longest list that [`List::index`] covers: its positions are bytes.
const INDEX_MAX: usize = u8::MAX as usize;

/// The attributes, sorted by name, each name once.
#[derive(Clone, Debug, Default)]
pub(super) struct List {
    entries: Entries,
    /// For each [`WellKnown`] tag, 1 + the position of its entry, or 0 if absent. Kept in step
    /// with `entries` by every change, and all zeros past [`INDEX_MAX`] entries, where lookups
    /// search instead.
    index: [u8; WellKnown::COUNT],
}

impl List {
    /// A list of `entries`, which must be sorted by name with each name once.
    pub(super) fn from_sorted(entries: Entries) -> Self {
        let mut list = Self {
            entries,
            index: [0; WellKnown::COUNT],
        };
        list.reindex();
        list
    }

    /// The entries, sorted by name.
    pub(super) fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The entry named `key`.
    #[inline]
    pub(super) fn find(&self, key: Key<'_>) -> Option<&Entry> {
        match key {
            Key::Known(known) => self.find_known(known),
            Key::Other(_) if self.entries.len() <= SCAN_MAX => {
                self.entries.iter().find(|entry| key.matches(&entry.name))
            }
            Key::Other(_) => self.search(key).ok().and_then(|at| self.entries.get(at)),
        }
    }

    /// The entry of a well-known name: through the index, without a scan or a string
    /// comparison.
    #[inline]
    pub(super) fn find_known(&self, known: WellKnown) -> Option<&Entry> {
        if self.entries.len() > INDEX_MAX {
            let at = self.search(Key::Known(known)).ok()?;
            return self.entries.get(at);
        }
        let slot = usize::from(self.index[known as usize]);
        slot.checked_sub(1).and_then(|at| self.entries.get(at))
    }

    /// Whether the list has an entry for `known`: a read of the index, without touching the
    /// entries.
    #[inline]
    pub(super) fn has_known(&self, known: WellKnown) -> bool {
        if self.entries.len() > INDEX_MAX {
            return self.search(Key::Known(known)).is_ok();
        }
        self.index[known as usize] != 0
    }

    /// Whether the list has an entry named `key`: for a well-known name, a read of the index.
    fn contains(&self, key: Key<'_>) -> bool {
        match key {
            Key::Known(known) => self.has_known(known),
            Key::Other(_) => self.find(key).is_some(),
        }
    }

    /// The position of the entry named `key`, or where it would be inserted.
    fn position(&self, key: Key<'_>) -> Result<usize, usize> {
        if let Key::Known(known) = key {
            let slot = usize::from(self.index[known as usize]);
            if let Some(at) = slot.checked_sub(1) {
                return Ok(at);
            }
        }
        self.search(key)
    }

    /// [`position`](Self::position) by binary search.
    fn search(&self, key: Key<'_>) -> Result<usize, usize> {
        self.entries
            .binary_search_by(|entry| key.cmp_name(&entry.name).reverse())
    }

    /// Panics unless the entries are strictly sorted by name, each name has its one
    /// representation, and the index points at every well-known entry.
    #[cfg(test)]
    pub(super) fn assert_consistent(&self) {
        for pair in self.entries.windows(2) {
            let [a, b] = pair else { continue };
            assert!(a.name.as_str() < b.name.as_str(), "{pair:?} out of order");
        }
        for entry in &self.entries {
            if let Name::Other(name) = &entry.name {
                assert!(
                    WellKnown::from_name(name).is_none(),
                    "{name} stored as text"
                );
            }
        }
        for known in WellKnown::ALL {
            let scanned = self
                .entries
                .iter()
                .position(|entry| entry.name == Name::Known(known));
            let slot = usize::from(self.index[known as usize]);
            if self.entries.len() <= INDEX_MAX {
                assert_eq!(slot.checked_sub(1), scanned, "index of {known:?}");
            } else {
                assert_eq!(slot, 0, "index of {known:?} past INDEX_MAX");
            }
            let found = self.find_known(known).map(|entry| entry.name.clone());
            assert_eq!(found, scanned.map(|_| Name::Known(known)), "{known:?}");
        }
    }

    /// Rebuilds [`index`](Self::index) after entries moved.
    fn reindex(&mut self) {
        self.index = [0; WellKnown::COUNT];
        if self.entries.len() > INDEX_MAX {
            return;
        }
        // Slots count from 1. A plain count rather than a zip with `1..=u8::MAX`: the
        // inclusive range costs several times the loop's body at each step.
        let mut slot: u8 = 0;
        for entry in &self.entries {
            // At most INDEX_MAX entries, checked above: no slot wraps.
            slot = slot.wrapping_add(1);
            if let Name::Known(known) = entry.name {
                self.index[known as usize] = slot;
            }
        }
    }
}

impl PartialEq for List {
    fn eq(&self, other: &Self) -> bool {
        // The index follows from the entries.
        self.entries == other.entries
    }
}

impl Eq for List {}

/// The list, to change, with room for `extra` more entries.
///
/// A shared list is copied first: the copy shares every name and value with the original
/// (refcount bumps, no allocation per attribute), and up to [`INLINE`] entries it is one
/// allocation, the `Arc`'s. A copy past [`INLINE`] entries has room for [`COPY_SLACK`] more:
/// a copy made to add one usually gains a few (a kind, a correlation id, a reply-to) one
/// after the other, and a copy made to change a value (a handler setting its output's type)
/// is often given a new entry next (the engine's hop count), which would otherwise grow the
/// vector at once.
pub(super) fn make_mut(map: &mut Arc<List>, extra: usize) -> &mut List {
    if map.entries.len() + extra > INLINE && Arc::get_mut(map).is_none() {
        let mut entries = Entries::with_capacity(map.entries.len() + extra.max(COPY_SLACK));
        entries.extend(map.entries.iter().cloned());
        *map = Arc::new(List {
            entries,
            index: map.index,
        });
    }
    // A shared list that fits inline is cloned straight into its new `Arc`; one that does
    // not was copied above, and this copies nothing.
    let list = Arc::make_mut(map);
    list.entries.reserve(extra);
    list
}

/// Sets the value of `key`, returning the value it replaces.
pub(super) fn set(map: &mut Arc<List>, key: Key<'_>, value: Arc<str>) -> Option<Arc<str>> {
    match map.position(key) {
        Ok(at) => {
            // The entries stay where they are: the index holds.
            let entry = &mut make_mut(map, 0).entries[at];
            Some(std::mem::replace(&mut entry.value, value))
        }
        Err(at) => {
            let name = key.to_name();
            let list = make_mut(map, 1);
            list.entries.insert(at, Entry { name, value });
            list.reindex();
            None
        }
    }
}

/// Sets every entry of `batch`, as [`set`] would one after the other (of two values for one
/// name, the later wins), with one re-index. An entry that is added keeps its name: an
/// extension name stays shared with whoever made the batch.
///
/// A shared list is copied by merging its entries with the batch's, both sorted, in one
/// pass: no entry is shifted to make room and none is searched for. The copy has room for
/// what it holds, inline up to [`INLINE`] entries, and [`COPY_SLACK`] more past that, as
/// [`make_mut`] gives.
pub(super) fn set_all<const N: usize>(map: &mut Arc<List>, mut batch: [Attribute; N]) {
    let absent = |map: &List, batch: &[Attribute]| {
        batch
            .iter()
            .enumerate()
            .filter(|&(at, attribute)| {
                let name = &attribute.entry().name;
                let repeated = batch[..at]
                    .iter()
                    .any(|before| before.entry().name == *name);
                !repeated && !map.contains(name.key())
            })
            .count()
    };
    if N == 1 || Arc::get_mut(map).is_some() {
        // Not shared, or one entry: changed in place, after a copy (`make_mut`) if shared,
        // which for one entry costs less than merging. The index goes stale at the first
        // insert: from there on positions are searched for, and it is rebuilt once at the
        // end.
        let absent = absent(map, &batch);
        let list = make_mut(map, absent);
        let mut stale = false;
        for entry in batch.map(Attribute::into_entry) {
            let key = entry.name.key();
            let found = if stale {
                list.search(key)
            } else {
                list.position(key)
            };
            match found {
                Ok(at) => list.entries[at].value = entry.value,
                Err(at) => {
                    list.entries.insert(at, entry);
                    stale = true;
                }
            }
        }
        if stale {
            list.reindex();
        }
        return;
    }
    // Stable: of two entries with one name, the later stays after the earlier, and wins.
    let order = |a: &Entry, b: &Entry| a.name.key().cmp_name(&b.name);
    if !batch.is_sorted_by(|a, b| order(a.entry(), b.entry()).is_le()) {
        batch.sort_by(|a, b| order(a.entry(), b.entry()));
    }
    // Room for everything, counted only when it may not fit inline.
    let most = map.entries.len() + N;
    let room = if most <= INLINE {
        most
    } else {
        let len = map.entries.len() + absent(map, &batch);
        if len > INLINE { len + COPY_SLACK } else { len }
    };
    // Built where it is to stay until it moves into its `Arc`: a list is a few hundred
    // bytes, and each move copies them.
    let mut copy = List {
        entries: Entries::with_capacity(room),
        index: [0; WellKnown::COUNT],
    };
    let mut old = map.entries.iter().peekable();
    for attribute in batch {
        let entry = attribute.into_entry();
        while let Some(kept) = old.next_if(|kept| order(kept, &entry).is_lt()) {
            copy.entries.push(kept.clone());
        }
        // An old entry of the same name is replaced.
        old.next_if(|kept| kept.name == entry.name);
        match copy.entries.last_mut() {
            // The batch's earlier entry of the same name: old entries of that name were
            // skipped, so the last entry can only be that.
            Some(last) if last.name == entry.name => last.value = entry.value,
            _ => copy.entries.push(entry),
        }
    }
    copy.entries.extend(old.cloned());
    copy.reindex();
    *map = Arc::new(copy);
}

/// Removes `key`, returning its value. A list without `key` is left as it is, shared or not.
pub(super) fn remove(map: &mut Arc<List>, key: Key<'_>) -> Option<Arc<str>> {
    let at = map.position(key).ok()?;
    let list = make_mut(map, 0);
    let removed = list.entries.remove(at);
    list.reindex();
    Some(removed.value)
}

#[cfg(test)]
mod tests;
