//! The parser behind [`Pattern::parse`](super::Pattern::parse): regexes are compiled within
//! their limits; globs are split into segments, each checked and tokenized, with every error
//! located by byte offset and segment.

use std::sync::Arc;

use regex::RegexBuilder;

use super::{REGEX_MARKER, RegexPattern, Repr};
use crate::pattern::{
    error::PatternError,
    glob::{Class, Segment, Token, Wild},
    limits::PatternLimits,
    regex_prefix::required_prefix,
};

pub(super) fn parse_regex(regex: &str, limits: &PatternLimits) -> Result<Repr, PatternError> {
    let offset = REGEX_MARKER.len();
    if regex.is_empty() {
        return Err(PatternError::EmptyRegex { offset });
    }
    let compiled = RegexBuilder::new(regex)
        .size_limit(limits.max_regex_size())
        .dfa_size_limit(limits.max_regex_dfa_size())
        .nest_limit(PatternLimits::REGEX_NEST_LIMIT)
        .build()
        .map_err(|error| match error {
            regex::Error::CompiledTooBig(limit) => PatternError::RegexTooComplex { offset, limit },
            source => PatternError::InvalidRegex { offset, source },
        })?;
    Ok(Repr::Regex(Box::new(RegexPattern {
        regex: compiled,
        prefix: required_prefix(regex).map(Box::from),
    })))
}

/// Parses an exact or glob pattern: it is exact when no segment has a wildcard.
pub(super) fn parse_glob(pattern: &str, limits: &PatternLimits) -> Result<Repr, PatternError> {
    let mut segments = Vec::new();
    let mut offset = 0;
    let mut double_stars = 0;
    for (index, text) in pattern.split('.').enumerate() {
        if index >= limits.max_segments() {
            return Err(PatternError::TooManySegments {
                segment: index,
                offset,
                max: limits.max_segments(),
            });
        }
        let segment = match text {
            "" => {
                return Err(PatternError::EmptySegment {
                    segment: index,
                    offset,
                });
            }
            "*" => Segment::Star,
            "**" => {
                double_stars += 1;
                if double_stars > limits.max_double_stars() {
                    return Err(PatternError::TooManyDoubleStars {
                        segment: index,
                        offset,
                        max: limits.max_double_stars(),
                    });
                }
                Segment::DoubleStar
            }
            _ => SegmentParser {
                text,
                index,
                base: offset,
                limits,
            }
            .parse()?,
        };
        // `a.**.**.b` means `a.**.b`: keeping one `**` of a run keeps the matcher small.
        let repeated_double_star = matches!(segment, Segment::DoubleStar)
            && matches!(segments.last(), Some(Segment::DoubleStar));
        if !repeated_double_star {
            segments.push(segment);
        }
        offset += text.len() + 1;
    }
    if segments
        .iter()
        .all(|segment| matches!(segment, Segment::Literal { .. }))
    {
        Ok(Repr::Exact)
    } else {
        Ok(Repr::Glob(segments.into_boxed_slice()))
    }
}

/// Parses one segment (not `*` or `**`, which the caller handles) into a literal or a
/// wild segment.
struct SegmentParser<'a> {
    text: &'a str,
    /// The segment's index in the pattern.
    index: usize,
    /// The byte offset of `text` in the pattern.
    base: usize,
    limits: &'a PatternLimits,
}

impl SegmentParser<'_> {
    fn parse(&self) -> Result<Segment, PatternError> {
        let mut tokens = Vec::new();
        let mut literal = String::new();
        let mut wild = false;
        let mut i = 0;
        while let Some(c) = self.char_at(i) {
            match c {
                '*' => {
                    if self.char_at(i + 1) == Some('*') {
                        return Err(PatternError::MisplacedDoubleStar {
                            segment: self.index,
                            offset: self.base + i,
                        });
                    }
                    flush(&mut literal, &mut tokens);
                    tokens.push(Token::AnySeq);
                    wild = true;
                    i += 1;
                }
                '?' => {
                    flush(&mut literal, &mut tokens);
                    tokens.push(Token::AnyChar);
                    wild = true;
                    i += 1;
                }
                '[' => {
                    flush(&mut literal, &mut tokens);
                    let (class, end) = self.parse_class(i)?;
                    tokens.push(Token::Class(class));
                    wild = true;
                    i = end;
                }
                ']' => {
                    return Err(PatternError::UnmatchedBracket {
                        segment: self.index,
                        offset: self.base + i,
                    });
                }
                c => {
                    literal.push(c);
                    i += c.len_utf8();
                }
            }
        }
        // `PatternLimits` keeps `max_len` within `u32`, so the offsets fit.
        let start = self.base as u32;
        let end = (self.base + self.text.len()) as u32;
        if !wild {
            return Ok(Segment::Literal { start, end });
        }
        flush(&mut literal, &mut tokens);
        Ok(Segment::Wild {
            start,
            end,
            wild: Arc::new(Wild::new(tokens)),
        })
    }

    /// Parses the class whose `[` is at byte `open`; returns it and the byte after its `]`.
    fn parse_class(&self, open: usize) -> Result<(Class, usize), PatternError> {
        let (segment, class_offset) = (self.index, self.base + open);
        let mut i = open + 1;
        let negated = matches!(self.char_at(i), Some('!' | '^'));
        if negated {
            i += 1;
        }
        let mut ranges = Vec::new();
        loop {
            let Some(first) = self.char_at(i) else {
                return Err(PatternError::UnclosedClass {
                    segment,
                    offset: class_offset,
                });
            };
            if first == ']' {
                if ranges.is_empty() {
                    return Err(PatternError::EmptyClass {
                        segment,
                        offset: class_offset,
                    });
                }
                let class = Class {
                    negated,
                    ranges: ranges.into_boxed_slice(),
                };
                return Ok((class, i + 1));
            }
            let item_offset = self.base + i;
            i += first.len_utf8();
            let mut last = first;
            // `a-z` is a range; a `-` first or last in the class is a plain character.
            if self.char_at(i) == Some('-') {
                if let Some(end) = self.char_at(i + 1).filter(|&end| end != ']') {
                    if end < first {
                        return Err(PatternError::InvalidRange {
                            segment,
                            offset: item_offset,
                            start: first,
                            end,
                        });
                    }
                    last = end;
                    i += 1 + end.len_utf8();
                }
            }
            if ranges.len() == self.limits.max_class_items() {
                return Err(PatternError::ClassTooLarge {
                    segment,
                    offset: class_offset,
                    max: self.limits.max_class_items(),
                });
            }
            ranges.push((first, last));
        }
    }

    fn char_at(&self, i: usize) -> Option<char> {
        self.text.get(i..).and_then(|rest| rest.chars().next())
    }
}

fn flush(literal: &mut String, tokens: &mut Vec<Token>) {
    if !literal.is_empty() {
        tokens.push(Token::Literal(std::mem::take(literal).into_boxed_str()));
    }
}
