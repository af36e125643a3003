//! Data-driven tests of attribute names, values, defaults and serialization.

use std::time::{Duration, SystemTime};

use proptest::prelude::*;

use super::*;

#[test]
fn valid_names() {
    let names = [
        "a",
        "id",
        "type",
        "partitionkey",
        "x1",
        "0",
        "abcdefghij0123456789",
    ];
    for name in names {
        assert!(validate_name(name).is_ok(), "{name:?} should be valid");
    }
}

#[test]
fn invalid_names() {
    let cases = [
        ("", "must not be empty"),
        (
            "Type",
            "may contain only lowercase ASCII letters and digits",
        ),
        (
            "partition_key",
            "may contain only lowercase ASCII letters and digits",
        ),
        (
            "data-schema",
            "may contain only lowercase ASCII letters and digits",
        ),
        (
            "with space",
            "may contain only lowercase ASCII letters and digits",
        ),
        ("é", "may contain only lowercase ASCII letters and digits"),
        ("abcdefghij0123456789x", "is longer than 20 characters"),
    ];
    for (name, expected) in cases {
        match validate_name(name) {
            Err(Error::InvalidAttributeName { reason, .. }) => {
                assert_eq!(reason, expected, "{name:?}");
            }
            other => panic!("{name:?}: expected an invalid name, got {other:?}"),
        }
    }
}

#[test]
fn rejected_names_are_bounded_in_the_error() {
    let long = "X".repeat(10_000);
    let Err(err) = validate_name(&long) else {
        panic!("accepted a 10k name")
    };
    assert!(err.to_string().len() < 200, "{err}");
}

/// A rejected name is outside text (a header key from a broker, a field of a wire frame),
/// and [`Error`] promises that such text is redacted before it is displayed; the name was
/// shown as it came. Redacted before it is cut, or a cut would hide the `@` that makes
/// userinfo recognisable and leave the password.
#[test]
fn rejected_names_are_redacted_in_the_error() {
    for (name, secret) in [
        ("password=hunter2", "hunter2"),
        ("authorization: Bearer abcdefgh12345", "abcdefgh12345"),
        ("redis://app:hunter2hunter2hunter2hunter2@cache", "hunter2"),
    ] {
        let Err(err) = validate_name(name) else {
            panic!("{name:?} accepted")
        };
        let shown = err.to_string();
        assert!(!shown.contains(secret), "{secret:?} survives in {shown}");
        assert!(err.report().contains(crate::REDACTED), "{shown}");
    }
}

#[test]
fn invalid_values() {
    let cases = [
        ("id", "", "must not be empty"),
        ("source", "", "must not be empty"),
        ("type", "", "must not be empty"),
        ("specversion", "0.3", "must be 1.0"),
        ("time", "yesterday", "must be an RFC 3339 timestamp"),
        (
            "time",
            "2026-13-01T00:00:00Z",
            "must be an RFC 3339 timestamp",
        ),
    ];
    for (name, value, expected) in cases {
        let mut attrs = Attributes::new();
        match attrs.insert(name, value) {
            Err(Error::InvalidAttributeValue { reason, .. }) => {
                assert_eq!(reason, expected, "{name}={value:?}");
            }
            other => panic!("{name}={value:?}: expected an invalid value, got {other:?}"),
        }
        assert!(attrs.is_empty(), "a rejected value must not be stored");
    }
}

#[test]
fn valid_values_of_well_known_attributes() {
    let mut attrs = Attributes::new();
    attrs.insert("specversion", "1.0").unwrap();
    attrs
        .insert("time", "2026-11-22T18:00:00.123+02:00")
        .unwrap();
    attrs.insert("subject", "").unwrap();
    let expected = SystemTime::UNIX_EPOCH + Duration::from_millis(1_795_363_200_123);
    assert_eq!(attrs.time(), Some(expected));
}

#[test]
fn typed_accessors_read_and_write_their_names() {
    let mut attrs = Attributes::new();
    attrs.set_id("1").unwrap();
    attrs.set_source("/svc").unwrap();
    attrs.set_type("orders.created").unwrap();
    attrs.set_subject("o-1").unwrap();
    attrs.set_datacontenttype("application/json").unwrap();
    attrs.set_dataschema("https://schemas/o").unwrap();
    attrs.set_destination("kafka://orders").unwrap();
    attrs.set_correlation_id("c-1").unwrap();
    attrs.set_causation_id("m-0").unwrap();
    attrs.set_partition_key("customer-7").unwrap();
    let expected = [
        ("causationid", "m-0"),
        ("correlationid", "c-1"),
        ("datacontenttype", "application/json"),
        ("dataschema", "https://schemas/o"),
        ("destination", "kafka://orders"),
        ("id", "1"),
        ("partitionkey", "customer-7"),
        ("source", "/svc"),
        ("subject", "o-1"),
        ("type", "orders.created"),
    ];
    assert_eq!(attrs.iter().collect::<Vec<_>>(), expected);
    assert_eq!(attrs.message_type(), Some("orders.created"));
    assert_eq!(attrs.partition_key(), Some("customer-7"));
    assert_eq!(attrs.specversion(), "1.0");
}

#[test]
fn defaults_fill_id_and_time_only_when_absent() {
    let before = SystemTime::now() - Duration::from_secs(1);
    let mut attrs = Attributes::new();
    attrs.fill_defaults();
    let id = attrs.id().unwrap().to_owned();
    assert_eq!(uuid::Uuid::parse_str(&id).unwrap().get_version_num(), 7);
    assert!(attrs.time().unwrap() >= before);

    attrs.fill_defaults();
    assert_eq!(attrs.id(), Some(id.as_str()), "an existing id is kept");

    let mut given = Attributes::new();
    given.set_id("mine").unwrap();
    given.fill_defaults();
    assert_eq!(given.id(), Some("mine"));
}

#[test]
fn generated_ids_are_time_ordered() {
    let ids: Vec<String> = (0..1000)
        .map(|_| {
            let mut attrs = Attributes::new();
            attrs.fill_defaults();
            attrs.id().unwrap().to_owned()
        })
        .collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted);
}

#[test]
fn clones_share_until_written() {
    let mut original = Attributes::new();
    original.insert("tenant", "acme").unwrap();
    let mut copy = original.clone();
    assert!(Arc::ptr_eq(&original.map, &copy.map));
    copy.insert("tenant", "other").unwrap();
    assert_eq!(original.get("tenant"), Some("acme"));
    assert_eq!(copy.get("tenant"), Some("other"));
}

#[test]
fn encoded_len_counts_names_and_values() {
    let mut attrs = Attributes::new();
    attrs.insert("ab", "cde").unwrap();
    attrs.insert("f", "").unwrap();
    assert_eq!(attrs.encoded_len(), 6);
}

#[test]
fn serde_round_trip_validates() {
    let mut attrs = Attributes::new();
    attrs.set_type("t").unwrap();
    attrs.insert("tenant", "acme").unwrap();
    let json = serde_json::to_string(&attrs).unwrap();
    assert_eq!(json, r#"{"tenant":"acme","type":"t"}"#);
    assert_eq!(serde_json::from_str::<Attributes>(&json).unwrap(), attrs);

    let bad = serde_json::from_str::<Attributes>(r#"{"Bad":"x"}"#).unwrap_err();
    assert!(bad.to_string().contains("invalid attribute name"), "{bad}");
}

#[test]
fn a_changed_copy_shares_the_values_it_did_not_change() {
    let mut original = Attributes::new();
    original.set_type("orders.created").unwrap();
    original.insert("tenant", "acme").unwrap();
    let mut copy = original.clone();
    copy.set_destination("loop://billing").unwrap();
    copy.set_type("orders.billed").unwrap();
    assert_eq!(original.destination(), None);
    assert_eq!(original.message_type(), Some("orders.created"));
    assert_eq!(copy.message_type(), Some("orders.billed"));
    assert_eq!(copy.get("tenant"), Some("acme"));
    // The same text, not a copy of it.
    assert_eq!(
        copy.get("tenant").map(str::as_ptr),
        original.get("tenant").map(str::as_ptr)
    );
    // Replacing a value reports the old one.
    assert_eq!(
        copy.insert("tenant", "globex").unwrap().as_deref(),
        Some("acme")
    );
}

#[test]
fn a_shared_value_is_stored_as_it_is_and_validated_like_any_other() {
    let kind: Arc<str> = Arc::from("request");
    let mut attrs = Attributes::new();
    assert_eq!(attrs.insert_shared("kind", kind.clone()).unwrap(), None);
    assert_eq!(
        attrs.get("kind").map(str::as_ptr),
        Some(kind.as_ptr()),
        "the same text, not a copy"
    );
    let replaced = attrs.insert_shared("kind", Arc::from("response")).unwrap();
    assert!(replaced.is_some_and(|old| Arc::ptr_eq(&old, &kind)));
    assert!(attrs.insert_shared("Kind", kind).is_err(), "bad name");
    assert!(
        attrs.insert_shared("id", Arc::from("")).is_err(),
        "bad value"
    );
    assert!(
        attrs.insert_shared("time", Arc::from("noon")).is_err(),
        "bad time"
    );
    assert_eq!(attrs.len(), 1, "nothing stored on an error");
}

mod model;

/// `time` must fall in the years 0000-9999 in UTC, which RFC 3339 can write: an offset can
/// push a written year past either end (`9999-12-31T23:59:59-01:00` is year 10000 in UTC),
/// and such a time could not be written back. It used to be accepted, and `set_time` of what
/// `time()` returned then panicked, or silently stored 1970.
#[test]
fn every_time_read_back_is_written_back_unchanged() {
    for outside in ["9999-12-31T23:59:59-01:00", "0000-01-01T00:00:00+23:59"] {
        assert!(
            Attributes::new().insert("time", outside).is_err(),
            "{outside}"
        );
    }
    for inside in [
        "9999-12-31T23:59:59Z",
        "9999-12-31T23:59:59+01:00",
        "0000-01-01T00:00:00Z",
        "0000-01-01T00:00:00-01:00",
        "1969-12-31T23:59:59.5Z",
    ] {
        let mut attrs = Attributes::new();
        attrs.insert("time", inside).unwrap();
        let time = attrs.time().expect("a validated time parses");
        let mut copy = Attributes::new();
        copy.set_time(time);
        assert_eq!(copy.time(), Some(time), "{inside}: {:?}", copy.get("time"));
    }
}

#[test]
fn set_time_clamps_to_the_years_rfc_3339_writes() {
    let year = Duration::from_secs(365 * 24 * 60 * 60);
    let mut attrs = Attributes::new();
    attrs.set_time(SystemTime::UNIX_EPOCH + 300_000 * year);
    assert_eq!(attrs.get("time"), Some("9999-12-31T23:59:59.999999999Z"));
    attrs.set_time(SystemTime::UNIX_EPOCH - 3_000 * year);
    assert_eq!(attrs.get("time"), Some("0000-01-01T00:00:00Z"));
}

/// CloudEvents 1.0 (type system, `String`) disallows the control characters U+0000-U+001F
/// and U+007F-U+009F in every string attribute; `insert` used to accept them in any
/// value, so a CR/LF reached whatever header a transport writes the value into.
#[test]
fn control_characters_in_values_are_rejected() {
    for (name, value) in [
        ("destination", "kafka://a\r\nx-evil: 1"),
        ("subject", "a\u{0}b"),
        ("tenant", "acme\u{85}"),
    ] {
        let mut attrs = Attributes::new();
        let result = attrs.insert(name, value);
        assert!(
            matches!(result, Err(Error::InvalidAttributeValue { .. })),
            "{name}={value:?} accepted: {result:?}"
        );
    }
}

/// CloudEvents 1.0 (type system, `String`) also forbids Unicode noncharacters (U+FDD0-U+FDEF
/// and the last two code points of every plane) in every string attribute; they were
/// accepted. The characters next to them, and others that share their first UTF-8 byte
/// (fullwidth forms, emoji), stay valid.
#[test]
fn noncharacters_in_values_are_rejected() {
    for bad in [
        '\u{fdd0}',
        '\u{fdef}',
        '\u{fffe}',
        '\u{ffff}',
        '\u{1fffe}',
        '\u{10ffff}',
    ] {
        for name in ["subject", "tenant"] {
            let value = format!("a{bad}b");
            let mut attrs = Attributes::new();
            let result = attrs.insert(name, value.as_str());
            assert!(
                matches!(result, Err(Error::InvalidAttributeValue { .. })),
                "{name}={value:?} accepted: {result:?}"
            );
            assert!(
                crate::Attribute::new(name, value.as_str()).is_err(),
                "{value:?}"
            );
        }
    }
    for good in [
        "\u{fdcf}\u{fdf0}",
        "\u{fffd}\u{feff}",
        "\u{ff21}",
        "\u{1f600}",
        "\u{1fffd}",
    ] {
        let mut attrs = Attributes::new();
        attrs.insert("subject", good).unwrap();
        assert_eq!(attrs.subject(), Some(good));
    }
}

/// What CloudEvents forbids in a string, restated one character at a time.
fn forbidden(c: char) -> bool {
    let c = u32::from(c);
    c <= 0x1f
        || (0x7f..=0x9f).contains(&c)
        || (0xfdd0..=0xfdef).contains(&c)
        || c & 0xfffe == 0xfffe
}

proptest! {
    /// The byte scan finds exactly the forbidden characters that decoding finds.
    #[test]
    fn the_forbidden_character_scan_agrees_with_decoding(
        value in proptest::string::string_regex("[\\x00-\\x{a0}a-z\\x{c0}-\\x{ff}\\x{100}-\\x{10ff}\\x{fdc0}-\\x{fdff}\\x{fff0}-\\x{ffff}\\x{1fff0}-\\x{1ffff}\\x{10fff0}-\\x{10ffff}]{0,40}").unwrap(),
    ) {
        prop_assert_eq!(super::has_forbidden(&value), value.chars().any(forbidden));
    }
}
