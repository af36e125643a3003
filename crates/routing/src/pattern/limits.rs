//! [`PatternLimits`]: how large and complex a pattern from configuration may be.

/// Bounds on patterns and on the index, because patterns come from configuration that may be
/// untrusted: a pattern over a limit is a [`PatternError`](super::PatternError), never a
/// slow lookup or an exhausted memory.
///
/// The defaults are generous for real routing tables and small enough that no single pattern
/// can make lookups slow.
///
/// ```
/// use switchyard_routing::pattern::{Pattern, PatternError, PatternLimits};
///
/// let limits = PatternLimits::new().with_max_segments(3);
/// let error = Pattern::parse_with_limits("a.b.c.d", &limits).unwrap_err();
/// assert!(matches!(error, PatternError::TooManySegments { segment: 3, offset: 6, max: 3 }));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PatternLimits {
    max_len: usize,
    max_segments: usize,
    max_double_stars: usize,
    max_class_items: usize,
    max_regex_size: usize,
    max_regex_dfa_size: usize,
    max_entries: usize,
}

impl PatternLimits {
    /// The default longest pattern, in bytes.
    pub const DEFAULT_MAX_LEN: usize = 1024;
    /// The default largest number of dot-separated segments in a glob.
    pub const DEFAULT_MAX_SEGMENTS: usize = 32;
    /// The default largest number of `**` segments in a glob.
    pub const DEFAULT_MAX_DOUBLE_STARS: usize = 4;
    /// The default largest number of characters and ranges in one `[...]` class.
    pub const DEFAULT_MAX_CLASS_ITEMS: usize = 64;
    /// The default compiled-size limit of one regex (`RegexBuilder::size_limit`), 256 KiB.
    pub const DEFAULT_MAX_REGEX_SIZE: usize = 256 * 1024;
    /// The default lazy-DFA cache limit of one regex (`RegexBuilder::dfa_size_limit`),
    /// 256 KiB.
    pub const DEFAULT_MAX_REGEX_DFA_SIZE: usize = 256 * 1024;
    /// The default largest number of entries in one index: 4 Mi.
    pub const DEFAULT_MAX_ENTRIES: usize = 1 << 22;
    /// The nesting limit of regexes; not configurable, because no sensible topic regex
    /// nests deeper.
    pub(crate) const REGEX_NEST_LIMIT: u32 = 32;
    /// The hard ceiling on [`Self::max_entries`]: an entry's registration position must
    /// fit in 32 bits next to its priority.
    const ENTRIES_CEILING: usize = u32::MAX as usize - 1;

    /// The default limits.
    pub const fn new() -> Self {
        Self {
            max_len: Self::DEFAULT_MAX_LEN,
            max_segments: Self::DEFAULT_MAX_SEGMENTS,
            max_double_stars: Self::DEFAULT_MAX_DOUBLE_STARS,
            max_class_items: Self::DEFAULT_MAX_CLASS_ITEMS,
            max_regex_size: Self::DEFAULT_MAX_REGEX_SIZE,
            max_regex_dfa_size: Self::DEFAULT_MAX_REGEX_DFA_SIZE,
            max_entries: Self::DEFAULT_MAX_ENTRIES,
        }
    }

    /// Sets the longest accepted pattern, in bytes (`re:` included). Values above
    /// `u32::MAX` are lowered to it, so that positions in a pattern fit in 32 bits.
    pub const fn with_max_len(mut self, bytes: usize) -> Self {
        self.max_len = if bytes > u32::MAX as usize {
            u32::MAX as usize
        } else {
            bytes
        };
        self
    }

    /// Sets the largest number of dot-separated segments in a glob or exact pattern.
    pub const fn with_max_segments(mut self, segments: usize) -> Self {
        self.max_segments = segments;
        self
    }

    /// Sets the largest number of `**` segments in a glob.
    pub const fn with_max_double_stars(mut self, count: usize) -> Self {
        self.max_double_stars = count;
        self
    }

    /// Sets the largest number of characters and ranges in one `[...]` class.
    pub const fn with_max_class_items(mut self, items: usize) -> Self {
        self.max_class_items = items;
        self
    }

    /// Sets the compiled-size limit of one regex, in bytes.
    pub const fn with_max_regex_size(mut self, bytes: usize) -> Self {
        self.max_regex_size = bytes;
        self
    }

    /// Sets the lazy-DFA cache limit of one regex, in bytes. A regex that outgrows it still
    /// matches correctly, with a slower engine.
    pub const fn with_max_regex_dfa_size(mut self, bytes: usize) -> Self {
        self.max_regex_dfa_size = bytes;
        self
    }

    /// Sets the largest number of entries in one index. Values above `u32::MAX - 1` are
    /// lowered to it.
    pub const fn with_max_entries(mut self, entries: usize) -> Self {
        self.max_entries = if entries > Self::ENTRIES_CEILING {
            Self::ENTRIES_CEILING
        } else {
            entries
        };
        self
    }

    /// The longest accepted pattern, in bytes.
    pub const fn max_len(&self) -> usize {
        self.max_len
    }

    /// The largest number of segments in a glob or exact pattern.
    pub const fn max_segments(&self) -> usize {
        self.max_segments
    }

    /// The largest number of `**` segments in a glob.
    pub const fn max_double_stars(&self) -> usize {
        self.max_double_stars
    }

    /// The largest number of characters and ranges in one class.
    pub const fn max_class_items(&self) -> usize {
        self.max_class_items
    }

    /// The compiled-size limit of one regex, in bytes.
    pub const fn max_regex_size(&self) -> usize {
        self.max_regex_size
    }

    /// The lazy-DFA cache limit of one regex, in bytes.
    pub const fn max_regex_dfa_size(&self) -> usize {
        self.max_regex_dfa_size
    }

    /// The largest number of entries in one index.
    pub const fn max_entries(&self) -> usize {
        self.max_entries
    }
}

impl Default for PatternLimits {
    fn default() -> Self {
        Self::new()
    }
}
