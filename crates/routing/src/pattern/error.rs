//! [`PatternError`]: why a pattern was rejected, and where in its text.

use switchyard_core::redact;

/// Why a pattern was rejected, and where.
///
/// Patterns come from configuration that may be untrusted, so every rejection is a value,
/// never a panic. Positions are byte offsets into the whole pattern text (for a `re:` pattern
/// that includes the three bytes of `re:`); glob errors also name the dot-separated segment,
/// counted from 0. [`PatternError::offset`] and [`PatternError::segment`] return them
/// without a `match`.
///
/// ```
/// use switchyard_routing::pattern::{Pattern, PatternError};
///
/// let error = Pattern::parse("orders..created").unwrap_err();
/// assert_eq!(error, PatternError::EmptySegment { segment: 1, offset: 7 });
/// assert_eq!(error.to_string(), "empty segment 1 at byte 7");
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PatternError {
    /// The pattern is the empty string.
    #[error("empty pattern")]
    Empty,

    /// The pattern is longer than [`PatternLimits::max_len`](super::PatternLimits::max_len).
    #[error("pattern is {len} bytes long, over the limit of {max} bytes")]
    TooLong {
        /// The pattern's length in bytes.
        len: usize,
        /// The limit in bytes.
        max: usize,
    },

    /// A segment between two dots (or at either end) is empty, as in `a..b`, `.a` or `a.`.
    #[error("empty segment {segment} at byte {offset}")]
    EmptySegment {
        /// The segment's index.
        segment: usize,
        /// Where the empty segment is.
        offset: usize,
    },

    /// The pattern has more segments than
    /// [`PatternLimits::max_segments`](super::PatternLimits::max_segments).
    #[error("segment {segment} at byte {offset} is one more than the limit of {max} segments")]
    TooManySegments {
        /// The index of the first segment over the limit.
        segment: usize,
        /// Where that segment starts.
        offset: usize,
        /// The limit.
        max: usize,
    },

    /// The pattern has more `**` segments than
    /// [`PatternLimits::max_double_stars`](super::PatternLimits::max_double_stars).
    #[error("`**` in segment {segment} at byte {offset} is one more than the limit of {max}")]
    TooManyDoubleStars {
        /// The index of the first `**` segment over the limit.
        segment: usize,
        /// Where it starts.
        offset: usize,
        /// The limit.
        max: usize,
    },

    /// `**` appears inside a segment, as in `a**` or `**b`: it must be a whole segment.
    #[error("`**` at byte {offset} in segment {segment} must be a whole segment")]
    MisplacedDoubleStar {
        /// The segment's index.
        segment: usize,
        /// Where the `**` starts.
        offset: usize,
    },

    /// A `[` has no matching `]` within its segment.
    #[error("unclosed `[` at byte {offset} in segment {segment}")]
    UnclosedClass {
        /// The segment's index.
        segment: usize,
        /// Where the `[` is.
        offset: usize,
    },

    /// A class has nothing in it: `[]` or `[!]`.
    #[error("empty class at byte {offset} in segment {segment}")]
    EmptyClass {
        /// The segment's index.
        segment: usize,
        /// Where the `[` is.
        offset: usize,
    },

    /// A range in a class runs backwards, as in `[z-a]`.
    #[error("range {start:?}-{end:?} at byte {offset} in segment {segment} runs backwards")]
    InvalidRange {
        /// The segment's index.
        segment: usize,
        /// Where the range starts.
        offset: usize,
        /// The range's first character.
        start: char,
        /// The range's last character.
        end: char,
    },

    /// A class has more items (characters and ranges) than
    /// [`PatternLimits::max_class_items`](super::PatternLimits::max_class_items).
    #[error("class at byte {offset} in segment {segment} has more than {max} items")]
    ClassTooLarge {
        /// The segment's index.
        segment: usize,
        /// Where the `[` is.
        offset: usize,
        /// The limit.
        max: usize,
    },

    /// A `]` closes no class. To match a literal `]`, use a negated class such as `[!a]`
    /// or a `?`.
    #[error("unmatched `]` at byte {offset} in segment {segment}")]
    UnmatchedBracket {
        /// The segment's index.
        segment: usize,
        /// Where the `]` is.
        offset: usize,
    },

    /// `re:` is followed by nothing.
    #[error("empty regex after `re:` at byte {offset}")]
    EmptyRegex {
        /// Where the regex should start (always 3).
        offset: usize,
    },

    /// The text after `re:` is not a valid regex. The regex error's own message locates the
    /// problem within the regex.
    #[error("invalid regex at byte {offset}: {}", redact(&source.to_string()))]
    InvalidRegex {
        /// Where the regex starts (always 3).
        offset: usize,
        /// The regex crate's error.
        source: regex::Error,
    },

    /// The regex compiles to more than
    /// [`PatternLimits::max_regex_size`](super::PatternLimits::max_regex_size) bytes.
    #[error("regex at byte {offset} is too complex: it compiles to more than {limit} bytes")]
    RegexTooComplex {
        /// Where the regex starts (always 3).
        offset: usize,
        /// The compiled-size limit in bytes.
        limit: usize,
    },

    /// The index builder already holds
    /// [`PatternLimits::max_entries`](super::PatternLimits::max_entries) entries.
    #[error("the pattern index is full: it holds at most {max} entries")]
    TooManyEntries {
        /// The limit.
        max: usize,
    },
}

impl PatternError {
    /// The byte offset in the pattern text that the error points at, if it points at one.
    pub fn offset(&self) -> Option<usize> {
        match *self {
            Self::EmptySegment { offset, .. }
            | Self::TooManySegments { offset, .. }
            | Self::TooManyDoubleStars { offset, .. }
            | Self::MisplacedDoubleStar { offset, .. }
            | Self::UnclosedClass { offset, .. }
            | Self::EmptyClass { offset, .. }
            | Self::InvalidRange { offset, .. }
            | Self::ClassTooLarge { offset, .. }
            | Self::UnmatchedBracket { offset, .. }
            | Self::EmptyRegex { offset }
            | Self::InvalidRegex { offset, .. }
            | Self::RegexTooComplex { offset, .. } => Some(offset),
            Self::Empty | Self::TooLong { .. } | Self::TooManyEntries { .. } => None,
        }
    }

    /// The index of the glob segment that the error points at, if it points at one.
    pub fn segment(&self) -> Option<usize> {
        match *self {
            Self::EmptySegment { segment, .. }
            | Self::TooManySegments { segment, .. }
            | Self::TooManyDoubleStars { segment, .. }
            | Self::MisplacedDoubleStar { segment, .. }
            | Self::UnclosedClass { segment, .. }
            | Self::EmptyClass { segment, .. }
            | Self::InvalidRange { segment, .. }
            | Self::ClassTooLarge { segment, .. }
            | Self::UnmatchedBracket { segment, .. } => Some(segment),
            _ => None,
        }
    }
}
