//! The destination-prefix table of a [`FanOut`](super::FanOut): longest prefix wins,
//! deterministically.

use super::{BuildError, error::shown};

/// Destination prefixes and the output each one routes to, ordered so that the first match
/// is the longest.
///
/// The entries are sorted by length, longest first, then byte-wise, and lookup returns the
/// first prefix that the destination starts with. Two different prefixes of the same
/// length cannot both be prefixes of one destination, and the same prefix cannot be
/// registered twice (a [`BuildError::DuplicatePrefix`]), so the longest match is unique and
/// the answer never depends on registration order or on a map's iteration order.
///
/// Lookup is a linear scan: an engine has a handful of publishers, and a scan over a short
/// sorted `Vec` beats a trie at that size. Matching is byte-wise and case-sensitive, as the
/// destinations are written by our own handlers and configuration.
#[derive(Debug, Clone, Default)]
pub(crate) struct PrefixTable {
    /// `(prefix, output index)`, longest prefix first.
    entries: Vec<(Box<str>, usize)>,
}

impl PrefixTable {
    /// Builds the table from `(prefix, output name, output index)` in registration order.
    pub(crate) fn new<'a>(
        routes: impl IntoIterator<Item = (&'a str, &'a str, usize)>,
    ) -> Result<Self, BuildError> {
        let mut named: Vec<(&str, &str, usize)> = routes.into_iter().collect();
        // Sorting is stable, so among equal prefixes the first registered comes first: the
        // duplicate error then names both outputs in registration order.
        named.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(b.0)));
        for pair in named.windows(2) {
            if let [(prefix, first, _), (next, second, _)] = pair
                && prefix == next
            {
                return Err(BuildError::DuplicatePrefix {
                    prefix: shown(prefix),
                    first: shown(first),
                    second: shown(second),
                });
            }
        }
        Ok(Self {
            entries: named
                .into_iter()
                .map(|(prefix, _, index)| (prefix.into(), index))
                .collect(),
        })
    }

    /// The output index of the longest prefix of `destination`, if any.
    pub(crate) fn lookup(&self, destination: &str) -> Option<usize> {
        self.entries
            .iter()
            .find(|(prefix, _)| destination.starts_with(&**prefix))
            .map(|&(_, index)| index)
    }
}

#[cfg(test)]
mod tests;
