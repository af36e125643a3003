//! [`Pattern`]: one parsed and validated topic pattern (exact, glob or regex), and its
//! parser.

use std::{fmt, hash, str::FromStr};

use regex::Regex;

use self::parse::{parse_glob, parse_regex};
use super::{
    error::PatternError,
    glob::{Segment, glob_matches},
    limits::PatternLimits,
};

mod parse;

/// The prefix that makes a pattern a regex.
const REGEX_MARKER: &str = "re:";

/// The three kinds of pattern; see the [module documentation](super) for the syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PatternKind {
    /// No wildcard: matches one topic, by equality.
    Exact,
    /// Dot-separated segments with `*`, `**`, `?` or `[...]`.
    Glob,
    /// `re:` followed by a regex.
    Regex,
}

/// A parsed, validated topic pattern.
///
/// Parsing checks the syntax and the [`PatternLimits`], so that a pattern from untrusted
/// configuration is either rejected with a [`PatternError`] that says what is wrong and
/// where, or is cheap to match. Two patterns are equal when their text is equal.
///
/// ```
/// use switchyard_routing::pattern::{Pattern, PatternKind};
///
/// let exact: Pattern = "orders.created".parse()?;
/// assert_eq!(exact.kind(), PatternKind::Exact);
///
/// let glob = Pattern::parse("tenant?.orders.*.created")?;
/// assert_eq!(glob.kind(), PatternKind::Glob);
/// assert!(glob.matches("tenant7.orders.eu.created"));
/// assert!(!glob.matches("tenant7.orders.created"));
///
/// let audit = Pattern::parse("**.audit")?;
/// assert!(audit.matches("audit"));
/// assert!(audit.matches("billing.invoices.audit"));
///
/// let regex = Pattern::parse(r"re:^orders\.(created|updated)$")?;
/// assert_eq!(regex.kind(), PatternKind::Regex);
/// assert!(regex.matches("orders.updated"));
/// assert_eq!(regex.as_str(), r"re:^orders\.(created|updated)$");
/// # Ok::<(), switchyard_routing::pattern::PatternError>(())
/// ```
#[derive(Clone)]
pub struct Pattern {
    source: Box<str>,
    repr: Repr,
}

#[derive(Clone)]
pub(crate) enum Repr {
    Exact,
    Glob(Box<[Segment]>),
    Regex(Box<RegexPattern>),
}

/// A compiled `re:` pattern.
#[derive(Clone)]
pub(crate) struct RegexPattern {
    pub(crate) regex: Regex,
    /// What every matching topic starts with, when that can be known; see
    /// [`required_prefix`].
    pub(crate) prefix: Option<Box<str>>,
}

impl Pattern {
    /// Parses `pattern` within the default [`PatternLimits`].
    ///
    /// # Errors
    ///
    /// A [`PatternError`] naming the problem and its position.
    pub fn parse(pattern: &str) -> Result<Self, PatternError> {
        Self::parse_with_limits(pattern, &PatternLimits::new())
    }

    /// Parses `pattern` within `limits`.
    ///
    /// # Errors
    ///
    /// A [`PatternError`] naming the problem and its position.
    pub fn parse_with_limits(pattern: &str, limits: &PatternLimits) -> Result<Self, PatternError> {
        if pattern.is_empty() {
            return Err(PatternError::Empty);
        }
        if pattern.len() > limits.max_len() {
            return Err(PatternError::TooLong {
                len: pattern.len(),
                max: limits.max_len(),
            });
        }
        let repr = match pattern.strip_prefix(REGEX_MARKER) {
            Some(regex) => parse_regex(regex, limits)?,
            None => parse_glob(pattern, limits)?,
        };
        Ok(Self {
            source: pattern.into(),
            repr,
        })
    }

    /// The pattern's text, as it was parsed.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the pattern is exact, a glob or a regex.
    pub fn kind(&self) -> PatternKind {
        match self.repr {
            Repr::Exact => PatternKind::Exact,
            Repr::Glob(_) => PatternKind::Glob,
            Repr::Regex(_) => PatternKind::Regex,
        }
    }

    /// Whether this pattern matches `topic`.
    ///
    /// To match one topic against many patterns, put them in a
    /// [`PatternIndex`](super::PatternIndex): it does not try them one by one.
    pub fn matches(&self, topic: &str) -> bool {
        match &self.repr {
            Repr::Exact => *self.source == *topic,
            Repr::Glob(segments) => glob_matches(segments, &self.source, topic),
            Repr::Regex(regex) => regex.regex.is_match(topic),
        }
    }

    pub(crate) fn repr(&self) -> &Repr {
        &self.repr
    }
}

impl FromStr for Pattern {
    type Err = PatternError;

    fn from_str(pattern: &str) -> Result<Self, Self::Err> {
        Self::parse(pattern)
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pattern")
            .field("kind", &self.kind())
            .field("source", &self.source)
            .finish()
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for Pattern {}

impl hash::Hash for Pattern {
    fn hash<H: hash::Hasher>(&self, state: &mut H) {
        self.source.hash(state);
    }
}

impl AsRef<str> for Pattern {
    fn as_ref(&self) -> &str {
        &self.source
    }
}

#[cfg(test)]
mod tests;
