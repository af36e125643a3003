//! Unit tests of in-segment wildcard matching and of the whole-glob NFA.

use super::*;
use crate::pattern::{Pattern, syntax::Repr};

/// Parses `pattern` (a glob) and returns its segments.
fn segments(pattern: &Pattern) -> &[Segment] {
    match pattern.repr() {
        Repr::Glob(segments) => segments,
        _ => panic!("{pattern:?} is not a glob"),
    }
}

/// Checks one wild segment against one topic segment.
fn check_segment(glob: &str, part: &str, expected: bool) {
    let pattern = Pattern::parse(glob).unwrap();
    let [Segment::Wild { wild, .. }] = segments(&pattern) else {
        panic!("{glob} is not a single wild segment");
    };
    assert_eq!(wild.matches(part), expected, "{glob:?} against {part:?}");
}

#[test]
fn wild_segments_match_within_one_segment() {
    for (glob, part, expected) in [
        ("a*", "a", true),
        ("a*", "abc", true),
        ("a*", "ba", false),
        ("*a", "bca", true),
        ("*a", "ab", false),
        ("a*b*c", "abc", true),
        ("a*b*c", "aXXbYYc", true),
        ("a*b*c", "aXXbYY", false),
        ("a*b*c", "acbc", true),
        ("*ab*ab*", "xabyab", true),
        ("*ab*ab*", "xaby", false),
        ("a?c", "abc", true),
        ("a?c", "ac", false),
        ("a?c", "aéc", true),
        ("??", "é1", true),
        ("??", "é", false),
        ("[abc]x", "bx", true),
        ("[abc]x", "dx", false),
        ("[a-c]*", "c", true),
        ("[a-c]*", "", false),
        ("[!a-c]*", "d", true),
        ("[!a-c]*", "a", false),
        ("[^a-c]", "z", true),
        ("[a-]", "-", true),
        ("[-a]", "-", true),
        ("[*]", "*", true),
        ("[*]", "x", false),
        ("x[?]", "x?", true),
        ("x[?]", "xy", false),
        ("*x*", "", false),
        ("*x*", "x", true),
        ("[0-9][0-9]*", "42abc", true),
        ("v[0-9]", "v10", false),
    ] {
        check_segment(glob, part, expected);
    }
}

#[test]
fn a_leading_literal_becomes_the_prefix() {
    let pattern = Pattern::parse("order*").unwrap();
    let [Segment::Wild { wild, .. }] = segments(&pattern) else {
        panic!("not wild");
    };
    assert_eq!(wild.prefix(), "order");
    assert!(wild.matches_rest("s"));
    let pattern = Pattern::parse("?rder").unwrap();
    let [Segment::Wild { wild, .. }] = segments(&pattern) else {
        panic!("not wild");
    };
    assert_eq!(wild.prefix(), "");
}

#[test]
fn globs_with_and_without_double_star() {
    for (glob, topic, expected) in [
        ("a.*.c", "a.b.c", true),
        ("a.*.c", "a.b.b.c", false),
        ("a.*", "a", false),
        ("a.*", "a.", true),
        ("a.**", "a", true),
        ("a.**.c", "a.c", true),
        ("a.**.c", "a.x.y.z.c", true),
        ("a.**.c", "a.x.y.z", false),
        ("**.c", "c", true),
        ("**", "", true),
        ("**.a.**.b.**", "b.a.b", true),
        ("**.a.**.b.**", "b.b.a", false),
        (
            "**.a.**.a.**.a.**.b",
            "a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.c",
            false,
        ),
        ("**.a.**.a.**.a.**.b", "a.x.a.x.a.x.b", true),
    ] {
        let pattern = Pattern::parse(glob).unwrap();
        assert_eq!(
            glob_matches(segments(&pattern), pattern.as_str(), topic),
            expected,
            "{glob:?} against {topic:?}"
        );
    }
}
