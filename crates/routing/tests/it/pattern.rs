//! Patterns and the pattern index: the syntax as a table, every error with its position,
//! and property tests against a naive reference (one regex per pattern, tried in a loop).

use proptest::{collection::vec, prelude::*};
use switchyard_routing::pattern::{
    EntryId, GlobEngine, Pattern, PatternError, PatternIndex, PatternIndexBuilder, PatternKind,
};

use self::reference::{Reference, entries, pattern, topic};

mod reference;

// ---------------------------------------------------------------------------------------
// The syntax, as data.

/// Checks `pattern` against `topic` both on its own and through an index.
fn check(pattern: &str, topic: &str, expected: bool) {
    let parsed = Pattern::parse(pattern).unwrap_or_else(|e| panic!("{pattern:?}: {e}"));
    assert_eq!(parsed.matches(topic), expected, "{pattern:?} on {topic:?}");
    let mut builder = PatternIndex::builder();
    builder.insert(pattern, 0, ()).unwrap();
    let index = builder.build();
    assert_eq!(
        index.find_first(topic).is_some(),
        expected,
        "{pattern:?} on {topic:?} through an index"
    );
    // The reference agrees too, so that the property tests below test the right thing.
    assert_eq!(
        Reference::regex_for(pattern).is_match(&Reference::haystack(pattern, topic)),
        expected
    );
}

#[test]
fn exact_patterns_match_equal_topics_only() {
    check("orders.created", "orders.created", true);
    check("orders.created", "orders.created.v2", false);
    check("orders.created", "Orders.created", false);
    check("orders", "orders", true);
    check("orders", "orders.", false);
    check("a-b_c:d/e é", "a-b_c:d/e é", true);
}

#[test]
fn star_is_exactly_one_segment() {
    check("orders.*", "orders.created", true);
    check("orders.*", "orders.", true);
    check("orders.*", "orders", false);
    check("orders.*", "orders.eu.created", false);
    check("*.created", "orders.created", true);
    check("*.*.created", "orders.created", false);
    check("*", "", true);
    check("*", "a.b", false);
}

#[test]
fn double_star_is_zero_or_more_segments() {
    check("orders.**", "orders", true);
    check("orders.**", "orders.created", true);
    check("orders.**", "orders.eu.created", true);
    check("orders.**", "ordersx", false);
    check("**.audit", "audit", true);
    check("**.audit", "billing.invoices.audit", true);
    check("**.audit", "audit.log", false);
    check("a.**.z", "a.z", true);
    check("a.**.z", "a.b.c.z", true);
    check("a.**.z", "a.b", false);
    check("**", "", true);
    check("**", "any.thing.at.all", true);
    check("a.**.**.b", "a.b", true);
    check("**.a.**.b.**", "x.a.y.b", true);
    check("**.a.**.b.**", "x.b.y.a", false);
}

#[test]
fn wildcards_inside_a_segment_stay_inside_it() {
    check("order*.created", "order.created", true);
    check("order*.created", "orders.created", true);
    check("order*.created", "order.eu.created", false);
    check("*s.created", "orders.created", true);
    check("o*r*s", "orders", true);
    check("o*r*s", "ordex", false);
    check("v?.orders", "v1.orders", true);
    check("v?.orders", "vé.orders", true);
    check("v?.orders", "v.orders", false);
    check("v?.orders", "v10.orders", false);
    check("a?c", "a.c", false);
}

#[test]
fn classes_match_one_character() {
    check("[abc]x.y", "bx.y", true);
    check("[abc]x.y", "dx.y", false);
    check("[a-c]x.y", "cx.y", true);
    check("[a-c0-9]", "7", true);
    check("[!a-c]x.y", "dx.y", true);
    check("[!a-c]x.y", "ax.y", false);
    check("[!a-c]x.y", "x.y", false);
    check("[^a-c]", "z", true);
    check("[a-]", "-", true);
    check("[-a]", "a", true);
    check("[*]", "*", true);
    check("[*]", "x", false);
    check("[?]", "?", true);
    check("[!a]", ".", false);
    check("x.[!a]", "x..", false);
}

#[test]
fn regexes_match_the_whole_topic_string() {
    check(r"re:^orders\.(created|updated)$", "orders.created", true);
    check(r"re:^orders\.(created|updated)$", "orders.deleted", false);
    check(
        r"re:^orders\.(created|updated)$",
        "orders.created.v2",
        false,
    );
    check("re:created", "orders.created.v2", true);
    check(r"re:^tenant\d+\.", "tenant42.orders", true);
    check(r"re:^tenant\d+\.", "tenantX.orders", false);
    check(r"re:^a|b$", "xb", true);
    check(r"re:^ab*c", "ac", true);
}

// ---------------------------------------------------------------------------------------
// Every error, with its position.

fn check_error(pattern: &str, expected: PatternError) {
    assert_eq!(
        Pattern::parse(pattern).unwrap_err(),
        expected,
        "{pattern:?}"
    );
    let mut builder = PatternIndex::builder();
    assert_eq!(builder.insert(pattern, 0, ()).unwrap_err(), expected);
    assert!(builder.is_empty());
}

#[test]
fn every_error_says_what_and_where() {
    use PatternError::*;

    check_error("", Empty);
    check_error(
        &"a".repeat(1025),
        TooLong {
            len: 1025,
            max: 1024,
        },
    );
    check_error(
        ".a",
        EmptySegment {
            segment: 0,
            offset: 0,
        },
    );
    check_error(
        "a..b",
        EmptySegment {
            segment: 1,
            offset: 2,
        },
    );
    check_error(
        "a.b.",
        EmptySegment {
            segment: 2,
            offset: 4,
        },
    );
    check_error(
        &vec!["s"; 33].join("."),
        TooManySegments {
            segment: 32,
            offset: 64,
            max: 32,
        },
    );
    check_error(
        "**.a.**.b.**.c.**.d.**",
        TooManyDoubleStars {
            segment: 8,
            offset: 20,
            max: 4,
        },
    );
    check_error(
        "a.b**",
        MisplacedDoubleStar {
            segment: 1,
            offset: 3,
        },
    );
    check_error(
        "***",
        MisplacedDoubleStar {
            segment: 0,
            offset: 0,
        },
    );
    check_error(
        "a.x**y",
        MisplacedDoubleStar {
            segment: 1,
            offset: 3,
        },
    );
    check_error(
        "a.x[ab",
        UnclosedClass {
            segment: 1,
            offset: 3,
        },
    );
    check_error(
        "a.[a.b]",
        UnclosedClass {
            segment: 1,
            offset: 2,
        },
    );
    check_error(
        "[]",
        EmptyClass {
            segment: 0,
            offset: 0,
        },
    );
    check_error(
        "x.[!]",
        EmptyClass {
            segment: 1,
            offset: 2,
        },
    );
    check_error(
        "a.x[bz-a]",
        InvalidRange {
            segment: 1,
            offset: 5,
            start: 'z',
            end: 'a',
        },
    );
    let large: String = ('a'..='z')
        .chain('A'..='Z')
        .chain('0'..='9')
        .chain("_+=".chars())
        .collect();
    assert_eq!(large.chars().count(), 65);
    check_error(
        &format!("x.[{large}]"),
        ClassTooLarge {
            segment: 1,
            offset: 2,
            max: 64,
        },
    );
    check_error(
        "ab]",
        UnmatchedBracket {
            segment: 0,
            offset: 2,
        },
    );
    check_error("re:", EmptyRegex { offset: 3 });
    check_error(
        r"re:\w{1000}",
        RegexTooComplex {
            offset: 3,
            limit: 256 * 1024,
        },
    );

    let invalid = Pattern::parse("re:orders(").unwrap_err();
    assert!(
        matches!(invalid, InvalidRegex { offset: 3, .. }),
        "{invalid:?}"
    );
    assert_eq!(invalid.offset(), Some(3));
    assert!(std::error::Error::source(&invalid).is_some());
    assert!(invalid.to_string().starts_with("invalid regex at byte 3: "));
}

#[test]
fn error_messages_and_accessors_name_the_position() {
    let error = Pattern::parse("a.x[bz-a]").unwrap_err();
    assert_eq!(
        error.to_string(),
        "range 'z'-'a' at byte 5 in segment 1 runs backwards"
    );
    assert_eq!((error.offset(), error.segment()), (Some(5), Some(1)));
    let error = Pattern::parse("").unwrap_err();
    assert_eq!((error.offset(), error.segment()), (None, None));
}

// ---------------------------------------------------------------------------------------
// Property tests against the naive reference of `reference.rs`.

fn build(entries: &[(String, u32)]) -> (PatternIndexBuilder<usize>, Vec<EntryId>) {
    let mut builder = PatternIndex::builder();
    let ids = entries
        .iter()
        .enumerate()
        .map(|(value, (pattern, priority))| builder.insert(pattern, *priority, value).unwrap())
        .collect();
    (builder, ids)
}

fn assert_agrees(
    index: &PatternIndex<usize>,
    reference: &Reference,
    topics: &[String],
) -> Result<(), TestCaseError> {
    for topic in topics {
        let expected = reference.find_all(topic);
        let all: Vec<usize> = index.find_all(topic).iter().map(|m| *m.value).collect();
        prop_assert_eq!(&all, &expected, "find_all({:?})", topic);
        let first = index.find_first(topic).map(|m| *m.value);
        prop_assert_eq!(first, expected.first().copied(), "find_first({:?})", topic);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn the_index_agrees_with_the_naive_reference(entries in entries(), topics in vec(topic(), 1..16)) {
        let reference = Reference::new(&entries);
        let (builder, _) = build(&entries);
        let index = builder.clone().build();
        prop_assert_eq!(index.len(), entries.len());
        // Three looks: the lazy DFA walks a topic on first sight, caches its steps on the
        // second, and answers from its cache on the third.
        for _ in 0..3 {
            assert_agrees(&index, &reference, &topics)?;
        }
        let walk = builder.glob_engine(GlobEngine::Walk).build();
        assert_agrees(&walk, &reference, &topics)?;
        for (entry, (pattern, regex, _, _)) in index.iter().zip(&reference.entries) {
            prop_assert_eq!(entry.pattern.as_str(), pattern.as_str());
            for topic in &topics {
                prop_assert_eq!(
                    entry.pattern.matches(topic),
                    regex.is_match(&Reference::haystack(pattern, topic)),
                    "{:?}.matches({:?})", pattern, topic
                );
            }
        }
    }

    #[test]
    fn copy_on_write_rebuilds_agree_with_the_reference(
        entries in entries(),
        removals in vec(any::<prop::sample::Index>(), 0..6),
        additions in vec((pattern(), 0..4u32), 0..4),
        topics in vec(topic(), 1..12),
    ) {
        let (builder, ids) = build(&entries);
        let original = builder.build();
        let mut rebuilt = original.to_builder();
        let mut kept: Vec<Option<(String, u32)>> = entries.iter().cloned().map(Some).collect();
        if !ids.is_empty() {
            for removal in removals {
                let at = removal.index(ids.len());
                let removed = rebuilt.remove(ids[at]);
                prop_assert_eq!(removed, kept[at].take().map(|_| at));
            }
        }
        for (pattern, priority) in &additions {
            rebuilt.insert(pattern, *priority, kept.len()).unwrap();
            kept.push(Some((pattern.clone(), *priority)));
        }
        let rebuilt = rebuilt.build();

        // The reference keeps values as positions in `kept`, so compare values directly.
        let remaining: Vec<(usize, &(String, u32))> =
            kept.iter().enumerate().filter_map(|(value, entry)| entry.as_ref().map(|e| (value, e))).collect();
        let reference = Reference::new(&remaining.iter().map(|(_, e)| (*e).clone()).collect::<Vec<_>>());
        for topic in &topics {
            let expected: Vec<usize> = reference.find_all(topic).into_iter().map(|i| remaining[i].0).collect();
            let all: Vec<usize> = rebuilt.find_all(topic).iter().map(|m| *m.value).collect();
            prop_assert_eq!(&all, &expected, "find_all({:?})", topic);
            prop_assert_eq!(rebuilt.find_first(topic).map(|m| *m.value), expected.first().copied());
        }
        // The original still answers as before.
        assert_agrees(&original, &Reference::new(&entries), &topics)?;
    }
}

#[test]
fn kinds_are_reported() {
    assert_eq!(Pattern::parse("a.b").unwrap().kind(), PatternKind::Exact);
    assert_eq!(Pattern::parse("a.*").unwrap().kind(), PatternKind::Glob);
    assert_eq!(Pattern::parse("re:a").unwrap().kind(), PatternKind::Regex);
}
