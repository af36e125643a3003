//! Tests of the list past its scan and index limits, and of when a shared list is copied.

use std::sync::Arc;

use crate::Attributes;

/// `count` attributes: the well-known ones that take any value, then extension names, added
/// in an order that is not sorted. Checks every lookup, the order and the index, then removes
/// every other attribute and checks again.
fn check_many(count: usize) {
    let well_known = [
        "causationid",
        "correlationid",
        "datacontenttype",
        "dataschema",
        "destination",
        "id",
        "kind",
        "partitionkey",
        "replyto",
        "source",
        "subject",
        "type",
    ];
    // (`specversion` and `time` are left out: their values are checked, and these are not
    // valid ones.)
    let mut names: Vec<String> = well_known.iter().map(|name| (*name).to_owned()).collect();
    // `e000`... sort among the well-known names, between `destination` and `id`.
    names.extend((0..count).map(|i| format!("e{i:03}")));
    names.truncate(count);
    // A fixed scramble: inserting in reverse puts every new name at the front.
    let mut attrs = Attributes::new();
    for name in names.iter().rev() {
        attrs.insert(name, format!("v-{name}")).unwrap();
    }
    attrs.map.assert_consistent();
    assert_eq!(attrs.len(), count);
    let mut sorted = names.clone();
    sorted.sort();
    let listed: Vec<&str> = attrs.iter().map(|(name, _)| name).collect();
    assert_eq!(listed, sorted, "{count} attributes");
    for name in &names {
        assert_eq!(
            attrs.get(name),
            Some(format!("v-{name}").as_str()),
            "{name}"
        );
    }
    assert_eq!(attrs.get("e999"), None);
    assert_eq!(attrs.get("zz"), None);
    assert_eq!(attrs.get("specversion"), None);
    let has_type = names.iter().any(|name| name == "type");
    assert_eq!(attrs.message_type(), has_type.then_some("v-type"));

    let copy = attrs.clone();
    for name in names.iter().step_by(2) {
        assert!(attrs.remove(name).is_some(), "{name}");
    }
    attrs.map.assert_consistent();
    copy.map.assert_consistent();
    assert_eq!(copy.len(), count, "the copy keeps every attribute");
    for (at, name) in names.iter().enumerate() {
        let expected = (at % 2 == 1).then(|| format!("v-{name}"));
        assert_eq!(attrs.get(name), expected.as_deref(), "{name}");
    }
}

#[test]
fn lookups_hold_past_the_scan_and_index_limits() {
    // Around SCAN_MAX (16) and INDEX_MAX (255).
    for count in [0, 1, 7, 16, 17, 18, 254, 255, 256, 300] {
        check_many(count);
    }
}

#[test]
fn reading_and_missing_leave_a_shared_list_shared() {
    let mut original = Attributes::new();
    original.set_type("t").unwrap();
    original.fill_defaults();
    let mut copy = original.clone();

    copy.fill_defaults();
    assert!(
        Arc::ptr_eq(&original.map, &copy.map),
        "fill_defaults with id and time"
    );
    assert_eq!(copy.remove("tenant"), None);
    assert_eq!(copy.remove("destination"), None);
    assert!(
        Arc::ptr_eq(&original.map, &copy.map),
        "removing an absent name"
    );

    assert_eq!(copy.remove("type").as_deref(), Some("t"));
    assert!(!Arc::ptr_eq(&original.map, &copy.map));
    assert_eq!(original.message_type(), Some("t"));
    copy.map.assert_consistent();
}

#[test]
fn fill_defaults_on_a_shared_list_changes_only_the_copy() {
    let mut original = Attributes::new();
    original.insert("tenant", "acme").unwrap();
    let mut copy = original.clone();
    copy.fill_defaults();
    copy.map.assert_consistent();
    assert_eq!(original.len(), 1);
    assert_eq!(copy.len(), 3);
    assert!(copy.id().is_some() && copy.time().is_some());
    assert_eq!(
        copy.get("tenant").map(str::as_ptr),
        original.get("tenant").map(str::as_ptr),
        "the copy shares the value"
    );
}

/// `insert_all` on lists around the inline limit (8) and the index limit (255), shared and
/// not: the same as inserting one by one, and the index kept.
#[test]
fn insert_all_holds_past_the_inline_and_index_limits() {
    use crate::Attribute;

    let build = |count: usize| {
        let mut attrs = Attributes::new();
        for i in 0..count {
            // `e000`... sort between `destination` and `id`.
            attrs.insert(&format!("e{i:03}"), "v").unwrap();
        }
        attrs
    };
    let batch = [
        ("kind", "request"),
        ("e000", "replaced"),
        ("correlationid", "c"),
    ];
    for count in [0, 5, 6, 7, 8, 9, 16, 17, 254, 255, 256, 300] {
        let mut expected = build(count);
        for (name, value) in batch {
            expected.insert(name, value).unwrap();
        }
        let attributes = || batch.map(|(name, value)| Attribute::new(name, value).unwrap());

        let mut unshared = build(count);
        unshared.insert_all(attributes());
        unshared.map.assert_consistent();
        assert_eq!(unshared, expected, "{count} attributes, not shared");

        let original = build(count);
        let mut shared = original.clone();
        shared.insert_all(attributes());
        shared.map.assert_consistent();
        assert_eq!(shared, expected, "{count} attributes, shared");
        assert_eq!(original, build(count), "the original is unchanged");
    }
}
