//! [`PatternIndexBuilder`]: collects entries (pattern, priority, value) in registration
//! order, validates each pattern as it comes, and builds a frozen [`PatternIndex`].

use super::{
    entry::{Entry, EntryId, rank},
    error::PatternError,
    exact::ExactIndexBuilder,
    glob_engine::GlobEngine,
    index::PatternIndex,
    limits::PatternLimits,
    regexes::RegexIndexBuilder,
    syntax::{Pattern, Repr},
    trie::GlobTrieBuilder,
};

/// Builds a [`PatternIndex`]: insert entries, remove some, then [`build`](Self::build).
///
/// Every pattern is parsed and checked against the builder's [`PatternLimits`] when it is
/// inserted, so a bad pattern is an error at registration that names the problem and its
/// position, and `build` itself cannot fail.
///
/// ```
/// use switchyard_routing::pattern::{PatternError, PatternIndex};
///
/// let mut builder = PatternIndex::builder();
/// let audit = builder.insert("**.audit", 1, "audit log")?;
/// builder.insert("orders.*", 0, "orders")?;
/// assert!(matches!(
///     builder.insert("orders.[a-", 0, "broken"),
///     Err(PatternError::UnclosedClass { segment: 1, offset: 7 })
/// ));
///
/// let index = builder.build();
/// assert_eq!(index.len(), 2);
///
/// // Copy-on-write: the old index is untouched.
/// let mut changed = index.to_builder();
/// assert_eq!(changed.remove(audit), Some("audit log"));
/// let changed = changed.build();
/// assert!(changed.find_first("orders.audit").is_some_and(|m| *m.value == "orders"));
/// assert!(index.find_first("orders.audit").is_some_and(|m| *m.value == "audit log"));
/// # Ok::<(), PatternError>(())
/// ```
#[derive(Debug, Clone)]
pub struct PatternIndexBuilder<T> {
    /// In registration order; ids grow along it.
    entries: Vec<Entry<T>>,
    next_id: u64,
    limits: PatternLimits,
    glob_engine: GlobEngine,
}

impl<T> PatternIndexBuilder<T> {
    /// An empty builder with the default [`PatternLimits`].
    pub fn new() -> Self {
        Self::from_entries(Vec::new(), 0, PatternLimits::new(), GlobEngine::default())
    }

    pub(crate) fn from_entries(
        entries: Vec<Entry<T>>,
        next_id: u64,
        limits: PatternLimits,
        glob_engine: GlobEngine,
    ) -> Self {
        Self {
            entries,
            next_id,
            limits,
            glob_engine,
        }
    }

    /// Matches topics against the globs with `engine`: the default,
    /// [`GlobEngine::LazyDfa`], caches per thread; [`GlobEngine::Walk`] keeps nothing.
    pub fn glob_engine(mut self, engine: GlobEngine) -> Self {
        self.glob_engine = engine;
        self
    }

    /// Uses `limits` for the patterns inserted from now on, and for the number of entries.
    pub fn with_limits(mut self, limits: PatternLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Parses `pattern` and adds it with `priority` (higher wins) and `value`, after every
    /// entry already registered. The same pattern may be inserted more than once; each
    /// insert is its own entry.
    ///
    /// # Errors
    ///
    /// A [`PatternError`] if the pattern is invalid or over the limits, or
    /// [`PatternError::TooManyEntries`] if the builder is full. The builder is unchanged.
    pub fn insert(
        &mut self,
        pattern: &str,
        priority: u32,
        value: T,
    ) -> Result<EntryId, PatternError> {
        self.check_room()?;
        let pattern = Pattern::parse_with_limits(pattern, &self.limits)?;
        self.insert_pattern(pattern, priority, value)
    }

    /// Adds an already parsed `pattern` with `priority` and `value`, after every entry
    /// already registered. The pattern keeps the limits it was parsed with.
    ///
    /// # Errors
    ///
    /// [`PatternError::TooManyEntries`] if the builder is full. The builder is unchanged.
    pub fn insert_pattern(
        &mut self,
        pattern: Pattern,
        priority: u32,
        value: T,
    ) -> Result<EntryId, PatternError> {
        self.check_room()?;
        let id = EntryId::new(self.next_id);
        self.next_id += 1;
        self.entries.push(Entry {
            id,
            priority,
            pattern,
            value,
        });
        Ok(id)
    }

    /// Removes the entry `id` and returns its value; the other entries keep their order.
    /// `None` if there is no such entry.
    pub fn remove(&mut self, id: EntryId) -> Option<T> {
        let at = self
            .entries
            .binary_search_by_key(&id, |entry| entry.id)
            .ok()?;
        Some(self.entries.remove(at).value)
    }

    /// Keeps only the entries for which `keep(id, pattern, value)` is true; the kept
    /// entries keep their order.
    pub fn retain(&mut self, mut keep: impl FnMut(EntryId, &Pattern, &T) -> bool) {
        self.entries
            .retain(|entry| keep(entry.id, &entry.pattern, &entry.value));
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the builder has no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Freezes the entries into an index. Costs O(entries), plus one glob and regex lookup
    /// per exact pattern to resolve its topic in advance; never fails, since every pattern
    /// was checked when it was inserted.
    pub fn build(self) -> PatternIndex<T> {
        let mut exact = ExactIndexBuilder::default();
        let mut globs = GlobTrieBuilder::new();
        let mut regexes = RegexIndexBuilder::new(self.limits);
        for (position, entry) in self.entries.iter().enumerate() {
            let rank = rank(entry.priority, position);
            match entry.pattern.repr() {
                Repr::Exact => exact.insert(entry.pattern.as_str(), rank),
                Repr::Glob(segments) => globs.insert(segments, entry.pattern.as_str(), rank),
                Repr::Regex(regex) => regexes.insert(regex, rank),
            }
        }
        let (mut exact, globs, regexes) = (
            exact.build(),
            globs.build(self.glob_engine),
            regexes.build(),
        );
        // By the walk, not the lazy DFA: exact topics never reach the globs at lookup, so
        // caching their transitions (in a cache of this thread, for the index's life) would
        // only take room.
        exact.resolve(|topic, floor| {
            let best = floor.max(globs.walk_best_match(topic, floor));
            best.max(regexes.best_match(topic, best))
        });
        PatternIndex {
            entries: self.entries.into_boxed_slice(),
            exact,
            globs,
            regexes,
            next_id: self.next_id,
            limits: self.limits,
            glob_engine: self.glob_engine,
        }
    }

    fn check_room(&self) -> Result<(), PatternError> {
        if self.entries.len() >= self.limits.max_entries() {
            return Err(PatternError::TooManyEntries {
                max: self.limits.max_entries(),
            });
        }
        Ok(())
    }
}

impl<T> Default for PatternIndexBuilder<T> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests;
