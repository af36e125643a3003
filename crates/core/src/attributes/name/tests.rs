//! Tests of the well-known tags and of keys: each name has one representation, and tags and
//! keys order as the names' text does.

use std::cmp::Ordering;

use super::*;

#[test]
fn every_name_constant_has_a_tag_that_round_trips() {
    let constants = [
        names::ID,
        names::SOURCE,
        names::SPECVERSION,
        names::TYPE,
        names::SUBJECT,
        names::TIME,
        names::DATACONTENTTYPE,
        names::DATASCHEMA,
        names::DESTINATION,
        names::CORRELATIONID,
        names::CAUSATIONID,
        names::PARTITIONKEY,
        names::KIND,
        names::REPLYTO,
    ];
    assert_eq!(constants.len(), WellKnown::COUNT);
    assert_eq!(WellKnown::ALL.len(), WellKnown::COUNT);
    for name in constants {
        let known = WellKnown::from_name(name).unwrap_or_else(|| panic!("{name} has no tag"));
        assert_eq!(known.as_str(), name);
    }
    for (at, known) in WellKnown::ALL.into_iter().enumerate() {
        assert_eq!(known as usize, at, "ALL is in tag order");
        assert_eq!(WellKnown::from_name(known.as_str()), Some(known));
    }
}

#[test]
fn tags_sort_as_their_text() {
    for pair in WellKnown::ALL.windows(2) {
        let [a, b] = pair else { continue };
        assert!(a < b);
        assert!(a.as_str() < b.as_str(), "{a:?} sorts after {b:?} as text");
    }
}

#[test]
fn keys_pick_tags_for_well_known_names_only() {
    let cases = [
        ("type", Some(WellKnown::Type)),
        ("id", Some(WellKnown::Id)),
        ("typex", None),
        ("i", None),
        ("tenant", None),
        ("Type", None),
        ("", None),
    ];
    for (name, expected) in cases {
        let key = Key::of(name);
        let known = match key {
            Key::Known(known) => Some(known),
            Key::Other(_) => None,
        };
        assert_eq!(known, expected, "{name:?}");
        assert_eq!(key.as_str(), name);
        assert_eq!(key.to_name().as_str(), name);
    }
}

#[test]
fn keys_compare_with_names_as_their_text_does() {
    // Every well-known name, and extension names before, between and after them.
    let mut all: Vec<&str> = WellKnown::ALL.iter().map(|known| known.as_str()).collect();
    all.extend(EXTENSIONS_AROUND);
    for a in &all {
        for b in &all {
            let name = Key::of(b).to_name();
            let key = Key::of(a);
            assert_eq!(key.cmp_name(&name), a.cmp(b), "{a} vs {b}");
            assert_eq!(key.matches(&name), a == b, "{a} vs {b}");
            assert_eq!(
                key.cmp_name(&name) == Ordering::Equal,
                key.to_name() == name,
                "{a} vs {b}"
            );
        }
    }
}
