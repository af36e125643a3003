//! Data-driven tests of [`Attribute`]: validated as `insert` validates, and set by
//! `insert_all` as inserting one by one would, sharing its name and value.

use std::sync::Arc;

use uuid::Uuid;

use super::*;
use crate::Attributes;

/// Names and values, valid and not, for every rule that `insert` checks.
const CASES: &[(&str, &str)] = &[
    ("kind", "request"),
    ("correlationid", "936da01f-9abd-4d9d-80c7-02af85c822a8"),
    ("tenant", "acme"),
    ("tenant", ""),
    ("x1", "caf\u{e9}"),
    ("Tenant", "acme"),
    ("", "acme"),
    ("abcdefghij0123456789x", "acme"),
    ("partition_key", "p"),
    ("id", ""),
    ("type", ""),
    ("source", ""),
    ("specversion", "1.0"),
    ("specversion", "0.3"),
    ("time", "2026-11-22T18:00:00Z"),
    ("time", "noon"),
    ("destination", "kafka://a\r\nx-evil: 1"),
    ("subject", "a\u{0}b"),
    ("tenant", "acme\u{85}"),
];

#[test]
fn new_validates_as_insert_does() {
    for &(name, value) in CASES {
        let made = Attribute::new(name, value);
        let inserted = Attributes::new().insert(name, value);
        match (&made, &inserted) {
            (Ok(attribute), Ok(_)) => {
                assert_eq!((attribute.name(), attribute.value()), (name, value));
            }
            (Err(made), Err(inserted)) => {
                assert_eq!(made.to_string(), inserted.to_string(), "{name}={value:?}");
            }
            _ => panic!("{name}={value:?}: {made:?} but insert gave {inserted:?}"),
        }
    }
}

#[test]
fn from_uuid_writes_the_lowercase_hyphenated_text_and_checks_the_name() {
    let id = Uuid::from_u128(0x936D_A01F_9ABD_4D9D_80C7_02AF_85C8_22A8);
    let text = "936da01f-9abd-4d9d-80c7-02af85c822a8";
    let cases: &[(&str, Option<&str>)] = &[
        ("correlationid", None),
        ("causationid", None),
        ("id", None),
        ("tenant", None),
        ("specversion", Some("must be 1.0")),
        ("time", Some("must be an RFC 3339 timestamp")),
        (
            "Tenant",
            Some("may contain only lowercase ASCII letters and digits"),
        ),
    ];
    for &(name, rejected) in cases {
        match (Attribute::from_uuid(name, id), rejected) {
            (Ok(attribute), None) => {
                assert_eq!((attribute.name(), attribute.value()), (name, text));
                assert_eq!(Some(attribute), Attribute::new(name, text).ok(), "{name}");
            }
            (
                Err(
                    crate::Error::InvalidAttributeValue { reason, .. }
                    | crate::Error::InvalidAttributeName { reason, .. },
                ),
                Some(expected),
            ) => assert_eq!(reason, expected, "{name}"),
            (other, expected) => panic!("{name}: {other:?}, expected {expected:?}"),
        }
    }
}

/// Attributes with `names`, each valued `old-<name>` (`time` a time).
fn with(names: &[&str]) -> Attributes {
    let mut attrs = Attributes::new();
    for &name in names {
        let value = match name {
            "time" => "2026-01-01T00:00:00Z".to_owned(),
            _ => format!("old-{name}"),
        };
        attrs.insert(name, value).unwrap();
    }
    attrs
}

/// Checks `insert_all` of `batch` on attributes with `names`, shared with a clone and not:
/// the same as inserting one after the other, and the clone unchanged.
fn check<const N: usize>(names: &[&str], batch: [(&str, &str); N]) {
    let attributes = batch.map(|(name, value)| Attribute::new(name, value).unwrap());
    let mut expected = with(names);
    for (name, value) in batch {
        expected.insert(name, value).unwrap();
    }
    expected.map.assert_consistent();

    let mut unshared = with(names);
    unshared.insert_all(attributes.clone());
    unshared.map.assert_consistent();
    assert_eq!(unshared, expected, "{names:?} + {batch:?}, not shared");

    let original = with(names);
    let mut shared = original.clone();
    shared.insert_all(attributes);
    shared.map.assert_consistent();
    assert_eq!(shared, expected, "{names:?} + {batch:?}, shared");
    assert_eq!(original, with(names), "the clone is unchanged");
}

#[test]
fn insert_all_sets_as_inserting_one_by_one() {
    let typical: &[&str] = &["id", "time", "type"];
    let mixed: &[&str] = &["a", "correlationid", "kinda", "replyto", "tenant", "zz"];
    for names in [&[][..], typical, mixed] {
        check(names, [("kind", "request")]);
        check(names, [("type", "new")]);
        check(names, [("tenant", "globex")]);
        check(
            names,
            [
                ("correlationid", "c"),
                ("kind", "request"),
                ("replyto", "bus://replies"),
            ],
        );
        // Out of order, extensions among well-known names, and a name twice: the later
        // value wins.
        check(
            names,
            [
                ("zz", "last"),
                ("kind", "first"),
                ("0", "front"),
                ("kind", "second"),
            ],
        );
        check(names, [("a", "1"), ("a", "2"), ("a", "3")]);
        check(names, [("id", "new-id"), ("time", "2026-11-22T18:00:00Z")]);
    }
}

#[test]
fn insert_all_stores_the_attributes_name_and_value_as_they_are() {
    let tenant = Attribute::new("tenant", "acme").unwrap();
    for shared in [false, true] {
        let original = with(&["id", "type"]);
        let mut attrs = original.clone();
        if !shared {
            drop(original);
        }
        attrs.insert_all([tenant.clone()]);
        let (name, value) = attrs
            .iter()
            .find(|(name, _)| *name == "tenant")
            .expect("set");
        assert_eq!(name.as_ptr(), tenant.name().as_ptr(), "the same name text");
        assert_eq!(
            value.as_ptr(),
            tenant.value().as_ptr(),
            "the same value text"
        );
    }
}

#[test]
fn an_attribute_shows_its_name_and_value() {
    let attribute = Attribute::new("kind", Arc::<str>::from("request")).unwrap();
    assert_eq!(format!("{attribute:?}"), r#"Attribute("kind", "request")"#);
}
