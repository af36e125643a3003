//! Unit tests of the parser's internal results: kinds, `**` runs, classes, prefixes and
//! the equality and display of patterns. The error table is in the integration tests.

use super::*;

fn glob_segments(pattern: &str) -> Vec<String> {
    let parsed = Pattern::parse(pattern).unwrap();
    let Repr::Glob(segments) = parsed.repr() else {
        panic!("{pattern} is not a glob");
    };
    segments
        .iter()
        .map(|segment| match segment {
            Segment::Literal { start, end } => {
                format!("lit:{}", &pattern[*start as usize..*end as usize])
            }
            Segment::Star => "*".to_owned(),
            Segment::DoubleStar => "**".to_owned(),
            Segment::Wild { start, end, wild } => {
                format!(
                    "wild:{}:{}",
                    &pattern[*start as usize..*end as usize],
                    wild.prefix()
                )
            }
        })
        .collect()
}

#[test]
fn kinds() {
    for (pattern, kind) in [
        ("orders", PatternKind::Exact),
        ("orders.created", PatternKind::Exact),
        ("a-b_c:d/e é", PatternKind::Exact),
        ("orders.*", PatternKind::Glob),
        ("**", PatternKind::Glob),
        ("order?", PatternKind::Glob),
        ("[ab]", PatternKind::Glob),
        ("re:x", PatternKind::Regex),
        ("re.x", PatternKind::Exact),
    ] {
        assert_eq!(Pattern::parse(pattern).unwrap().kind(), kind, "{pattern}");
    }
}

#[test]
fn segments_are_parsed_in_place() {
    assert_eq!(
        glob_segments("tenant1.*.order*.**.[a-c]x"),
        [
            "lit:tenant1",
            "*",
            "wild:order*:order",
            "**",
            "wild:[a-c]x:"
        ]
    );
}

#[test]
fn runs_of_double_star_collapse() {
    assert_eq!(glob_segments("a.**.**.**.b"), ["lit:a", "**", "lit:b"]);
    // The text is kept as written.
    assert_eq!(Pattern::parse("a.**.**.b").unwrap().as_str(), "a.**.**.b");
}

#[test]
fn regexes_record_their_required_prefix() {
    let pattern = Pattern::parse(r"re:^orders\.(a|b)$").unwrap();
    let Repr::Regex(regex) = pattern.repr() else {
        panic!("not a regex");
    };
    assert_eq!(regex.prefix.as_deref(), Some("orders."));
    assert_eq!(regex.regex.as_str(), r"^orders\.(a|b)$");
}

#[test]
fn equality_hash_and_display_follow_the_text() {
    use std::collections::HashSet;

    let a: Pattern = "orders.*".parse().unwrap();
    let b = Pattern::parse("orders.*").unwrap();
    let c = Pattern::parse("orders.**").unwrap();
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_eq!(HashSet::from([a.clone(), b, c]).len(), 2);
    assert_eq!(a.to_string(), "orders.*");
    assert_eq!(a.as_ref(), "orders.*");
    assert_eq!(
        format!("{a:?}"),
        r#"Pattern { kind: Glob, source: "orders.*" }"#
    );
}

#[test]
fn limits_are_applied() {
    let limits = PatternLimits::new()
        .with_max_len(8)
        .with_max_double_stars(1)
        .with_max_class_items(2);
    assert!(Pattern::parse_with_limits("abcdefgh", &limits).is_ok());
    assert_eq!(
        Pattern::parse_with_limits("abcdefghi", &limits).unwrap_err(),
        PatternError::TooLong { len: 9, max: 8 }
    );
    assert_eq!(
        Pattern::parse_with_limits("**.a.**", &limits).unwrap_err(),
        PatternError::TooManyDoubleStars {
            segment: 2,
            offset: 5,
            max: 1
        }
    );
    assert!(Pattern::parse_with_limits("[ab]", &limits).is_ok());
    assert!(Pattern::parse_with_limits("[a-cx]", &limits).is_ok());
    assert_eq!(
        Pattern::parse_with_limits("x.[abc]", &limits).unwrap_err(),
        PatternError::ClassTooLarge {
            segment: 1,
            offset: 2,
            max: 2
        }
    );
    let tiny = PatternLimits::new().with_max_regex_size(64);
    assert!(matches!(
        Pattern::parse_with_limits(r"re:^\w{20}$", &tiny),
        Err(PatternError::RegexTooComplex {
            offset: 3,
            limit: 64
        })
    ));
}
