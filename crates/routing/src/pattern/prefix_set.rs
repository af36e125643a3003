//! [`PrefixSet`]: a frozen set of strings that finds, for a given text, every member that
//! is a prefix of it, with one binary search and a walk up a short chain.

use std::collections::BTreeMap;

/// No parent: the member has no other member as a prefix.
const NONE: u32 = u32::MAX;

/// Sets of at most this many members are scanned rather than searched.
const SCAN_LIMIT: usize = 8;

/// `text.starts_with(prefix)`, as a loop that the compiler inlines: prefixes here are a
/// few bytes long, where a call to `memcmp` costs more than the comparison.
pub(crate) fn starts_with(text: &[u8], prefix: &[u8]) -> bool {
    text.len() >= prefix.len() && text.iter().zip(prefix).all(|(a, b)| a == b)
}

/// Strings with a value each, searched by "which of them does this text start with?".
///
/// The members are sorted, and each knows its parent: the longest other member that is a
/// prefix of it. For a text `t`, let `p` be the greatest member `<= t`. Every member `q`
/// that is a prefix of `t` satisfies `q <= p <= t`, which forces `q` to be a prefix of `p`
/// as well: so all the answers lie on the parent chain of `p`, and the lookup costs one
/// binary search plus the length of that chain (at most the number of nested members).
#[derive(Debug)]
pub(crate) struct PrefixSet<V> {
    keys: Box<[Box<str>]>,
    values: Box<[V]>,
    parents: Box<[u32]>,
}

impl<V> PrefixSet<V> {
    /// Freezes `members`; a `BTreeMap` already holds them sorted by bytes and unique.
    pub(crate) fn new(members: BTreeMap<Box<str>, V>) -> Self {
        let mut keys: Vec<Box<str>> = Vec::with_capacity(members.len());
        let mut values = Vec::with_capacity(members.len());
        let mut parents = Vec::with_capacity(members.len());
        // The chain of members that are prefixes of the current one, shortest first.
        // Sorted order visits a member right after all its prefixes.
        let mut chain: Vec<usize> = Vec::new();
        for (key, value) in members {
            while let Some(&top) = chain.last() {
                let top_key: &str = &keys[top];
                if key.starts_with(top_key) {
                    break;
                }
                chain.pop();
            }
            parents.push(chain.last().map_or(NONE, |&parent| parent as u32));
            chain.push(keys.len());
            keys.push(key);
            values.push(value);
        }
        Self {
            keys: keys.into_boxed_slice(),
            values: values.into_boxed_slice(),
            parents: parents.into_boxed_slice(),
        }
    }

    /// Whether the set has no member.
    pub(crate) fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Calls `visit(member, value)` for every member that `text` starts with, in no
    /// particular order.
    pub(crate) fn for_each_prefix_of(&self, text: &str, mut visit: impl FnMut(&str, &V)) {
        // A handful of members (the usual case under one trie node) are cheaper to scan
        // than to search.
        if self.keys.len() <= SCAN_LIMIT {
            for (key, value) in self.keys.iter().zip(&self.values) {
                if starts_with(text.as_bytes(), key.as_bytes()) {
                    visit(key, value);
                }
            }
            return;
        }
        let greater = self.keys.partition_point(|key| **key <= *text);
        let Some(mut at) = greater.checked_sub(1) else {
            return;
        };
        loop {
            let key = &self.keys[at];
            if text.starts_with(&**key) {
                visit(key, &self.values[at]);
            }
            match self.parents[at] {
                NONE => return,
                parent => at = parent as usize,
            }
        }
    }
}

#[cfg(test)]
mod tests;
