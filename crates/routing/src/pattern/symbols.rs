//! [`Symbols`]: the literal segment texts of the globs, numbered, so that a topic segment
//! is hashed once per lookup step whatever the number of trie nodes it is tried against.

use foldhash::{HashMap, HashMapExt as _};

/// The longest text kept inline in a `u128` key: one byte of length, fifteen of text.
pub(crate) const INLINE: usize = 15;

/// Segment texts and their numbers.
///
/// Texts of up to 15 bytes (nearly all topic segments) are keyed by a `u128` that
/// determines them: the lookup then reads no text through a pointer, which in a table of
/// a million tenant names is one cache miss less per lookup. Longer texts are keyed by
/// themselves.
#[derive(Debug)]
pub(crate) struct Symbols {
    short: HashMap<u128, u32>,
    long: HashMap<Box<str>, u32>,
}

/// The inline key of `text`, if it is short enough: its length in the top byte, and its
/// bytes read as at most two overlapping little-endian words. Overlapping reads are plain
/// loads (a byte loop or a copy through a buffer costs several times more), and with the
/// length they still determine the text: for 8 to 15 bytes the first word holds bytes
/// `0..8` and the second bytes `len - 7..len` (the byte `len - 8` is in both, so it is
/// shifted out); for 4 to 7 bytes two 4-byte words overlap the same way.
pub(crate) fn inline_key(text: &str) -> Option<u128> {
    let bytes = text.as_bytes();
    let len = bytes.len();
    let word = |at: usize| {
        bytes
            .get(at..at + 8)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_le_bytes)
    };
    let half = |at: usize| {
        bytes
            .get(at..at + 4)
            .and_then(|b| b.try_into().ok())
            .map(|b| u64::from(u32::from_le_bytes(b)))
    };
    let (low, high) = match len {
        0..4 => {
            let folded = bytes
                .iter()
                .rev()
                .fold(0u64, |word, &byte| word << 8 | u64::from(byte));
            (folded, 0)
        }
        4..8 => (half(0)? | half(len - 4)? << 32, 0),
        8..=INLINE => (word(0)?, word(len - 8)? >> 8),
        _ => return None,
    };
    let high = high | (len as u64) << 56;
    Some(u128::from(high) << 64 | u128::from(low))
}

impl Symbols {
    pub(crate) fn new() -> Self {
        Self {
            short: HashMap::new(),
            long: HashMap::new(),
        }
    }

    /// The number of `text`, if it has one.
    pub(crate) fn get(&self, text: &str) -> Option<u32> {
        match inline_key(text) {
            Some(key) => self.short.get(&key).copied(),
            None => self.long.get(text).copied(),
        }
    }

    /// The number of `text`, given the next free one if it has none yet.
    pub(crate) fn intern(&mut self, text: &str) -> u32 {
        if let Some(symbol) = self.get(text) {
            return symbol;
        }
        // Symbols are bounded by the number of segments, far below `u32::MAX`.
        let symbol = (self.short.len() + self.long.len()) as u32;
        match inline_key(text) {
            Some(key) => self.short.insert(key, symbol),
            None => self.long.insert(text.into(), symbol),
        };
        symbol
    }
}

#[cfg(test)]
mod tests;
