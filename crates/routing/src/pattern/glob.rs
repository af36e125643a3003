//! The parsed pieces of a glob (segments, in-segment tokens, classes) and how each matches
//! one segment of a topic; also the matcher of one whole glob against a topic.

use std::sync::Arc;

/// One dot-separated segment of a glob.
#[derive(Debug, Clone)]
pub(crate) enum Segment {
    /// Text without wildcards, as the byte range `start..end` of the pattern's source.
    Literal { start: u32, end: u32 },
    /// `*`: exactly one segment, whatever it holds (even nothing).
    Star,
    /// `**`: zero or more segments. Parsing collapses runs of them into one.
    DoubleStar,
    /// A segment with `?`, `[...]` or `*` among other characters. `start..end` is its source
    /// text, the key under which equal segments share one trie node.
    Wild {
        start: u32,
        end: u32,
        wild: Arc<Wild>,
    },
}

impl Segment {
    /// Whether this segment matches the topic segment `part`. `**` matches any one segment
    /// here: the caller handles that it may also match none or several.
    pub(crate) fn matches(&self, source: &str, part: &str) -> bool {
        match self {
            Self::Literal { start, end } => {
                source.get(*start as usize..*end as usize) == Some(part)
            }
            Self::Star | Self::DoubleStar => true,
            Self::Wild { wild, .. } => wild.matches(part),
        }
    }
}

/// A segment with wildcards: the literal text it starts with, then the rest as tokens.
///
/// The literal prefix is split off because the trie finds candidate wild segments by it
/// (binary search over the prefixes of one node), so that thousands of `order{n}*` segments
/// under one node cost a search, not a scan.
#[derive(Debug)]
pub(crate) struct Wild {
    prefix: Box<str>,
    rest: Box<[Token]>,
    /// The rest is a single `*`: the prefix decides alone.
    rest_is_any: bool,
}

/// One element of a wild segment after its literal prefix.
#[derive(Debug)]
pub(crate) enum Token {
    /// Characters that must appear as they are.
    Literal(Box<str>),
    /// `?`: any one character.
    AnyChar,
    /// `*` inside a segment: any run of characters, possibly empty.
    AnySeq,
    /// `[...]`: one character in (or, negated, not in) a set.
    Class(Class),
}

/// A `[...]` character class: inclusive ranges, a single character being a range of one.
#[derive(Debug)]
pub(crate) struct Class {
    pub(crate) negated: bool,
    pub(crate) ranges: Box<[(char, char)]>,
}

impl Class {
    fn matches(&self, c: char) -> bool {
        self.ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != self.negated
    }
}

impl Wild {
    /// Builds a wild segment from its tokens, splitting off a leading literal.
    pub(crate) fn new(mut tokens: Vec<Token>) -> Self {
        let prefix = match tokens.first_mut() {
            Some(Token::Literal(text)) => std::mem::take(text),
            _ => Box::default(),
        };
        // Literal tokens are never empty, so an empty prefix means there was none.
        if !prefix.is_empty() {
            tokens.remove(0);
        }
        let rest_is_any = matches!(tokens.as_slice(), [Token::AnySeq]);
        Self {
            prefix,
            rest: tokens.into_boxed_slice(),
            rest_is_any,
        }
    }

    /// The literal text that every segment this matches starts with.
    pub(crate) fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Whether any text at all may follow the prefix (the segment is `prefix*`).
    pub(crate) fn matches_any_rest(&self) -> bool {
        self.rest_is_any
    }

    /// Whether this matches the topic segment `part`.
    pub(crate) fn matches(&self, part: &str) -> bool {
        part.strip_prefix(&*self.prefix)
            .is_some_and(|rest| self.matches_rest(rest))
    }

    /// Whether this matches a topic segment whose first bytes are known to equal the prefix;
    /// `rest` is what follows them.
    pub(crate) fn matches_rest(&self, rest: &str) -> bool {
        self.rest_is_any || match_tokens(&self.rest, rest)
    }
}

/// Matches `tokens` against all of `text`.
///
/// The classic wildcard algorithm: go forward, and on a mismatch restart just after the
/// last `*`, with that `*` swallowing one more character. Every token other than `*` has a
/// fixed length, so matching each stretch between two `*` at its leftmost place is never
/// worse than a later place, and one restart point is enough: the cost is
/// O(len(text) × len(tokens)), never exponential.
fn match_tokens(tokens: &[Token], text: &str) -> bool {
    let (mut t, mut i) = (0, 0);
    // After the last `*` seen: the token after it, and where in `text` it resumes.
    let mut restart: Option<(usize, usize)> = None;
    loop {
        if let Some(token) = tokens.get(t) {
            let rest = &text[i..];
            let step = match token {
                Token::AnySeq => {
                    restart = Some((t + 1, i));
                    t += 1;
                    continue;
                }
                Token::Literal(literal) => rest.starts_with(&**literal).then_some(literal.len()),
                Token::AnyChar => rest.chars().next().map(char::len_utf8),
                Token::Class(class) => rest
                    .chars()
                    .next()
                    .filter(|&c| class.matches(c))
                    .map(char::len_utf8),
            };
            if let Some(len) = step {
                i += len;
                t += 1;
                continue;
            }
        } else if i == text.len() {
            return true;
        }
        // A mismatch, or tokens used up before the text: let the last `*` take one more
        // character and try again from there.
        match restart {
            Some((after, from)) => match text[from..].chars().next() {
                Some(c) => {
                    let resume = from + c.len_utf8();
                    restart = Some((after, resume));
                    t = after;
                    i = resume;
                }
                None => return false,
            },
            None => return false,
        }
    }
}

/// Whether the glob `segments` (parsed from `source`) matches all of `topic`.
///
/// Without `**` the segments pair up one to one. With it, this runs the glob as an NFA over
/// positions in `segments`: the set of positions reachable after each topic segment, where
/// a `**` position both stays (it takes the segment) and lets the next position start (it
/// took no more). The cost is O(segments × topic segments) whatever the number of `**`.
pub(crate) fn glob_matches(segments: &[Segment], source: &str, topic: &str) -> bool {
    if !segments.iter().any(|s| matches!(s, Segment::DoubleStar)) {
        let mut parts = topic.split('.');
        for segment in segments {
            match parts.next() {
                Some(part) if segment.matches(source, part) => {}
                _ => return false,
            }
        }
        return parts.next().is_none();
    }

    let close = |set: &mut [bool]| {
        // Ascending order lets one pass follow a chain of `**` positions.
        for p in 0..segments.len() {
            if set[p] && matches!(segments[p], Segment::DoubleStar) {
                set[p + 1] = true;
            }
        }
    };
    let mut current = vec![false; segments.len() + 1];
    let mut next = current.clone();
    current[0] = true;
    close(&mut current);
    for part in topic.split('.') {
        next.fill(false);
        for (p, segment) in segments.iter().enumerate() {
            if !current[p] {
                continue;
            }
            match segment {
                Segment::DoubleStar => next[p] = true,
                _ if segment.matches(source, part) => next[p + 1] = true,
                _ => {}
            }
        }
        close(&mut next);
        if !next.contains(&true) {
            return false;
        }
        std::mem::swap(&mut current, &mut next);
    }
    current[segments.len()]
}

#[cfg(test)]
mod tests;
