//! What changing a shared copy of a message's attributes allocates, counted: one attribute at
//! a time, and several at once.
//!
//! A binary of its own, because `allocation_counter` installs a counting global allocator
//! (it counts the allocations of the measuring thread alone).

use std::sync::Arc;

use switchyard_core::{Attribute, Attributes};

/// Attributes with `count` entries: an id, a time, a type, and extensions.
fn attributes(count: usize) -> Attributes {
    let mut attrs = Attributes::new();
    attrs.fill_defaults();
    attrs.set_type("orders.created").expect("a valid type");
    for i in 3..count {
        attrs
            .insert(&format!("x{i}"), "v")
            .expect("a valid extension");
    }
    assert_eq!(attrs.len(), count);
    attrs
}

/// The allocations made by setting `kind` (from a shared value, which allocates nothing of
/// its own) on a clone of attributes with `count` entries.
fn allocations_of_a_changed_copy(count: usize) -> u64 {
    let original = attributes(count);
    let kind: Arc<str> = Arc::from("request");
    let mut copy = original.clone();
    let made = allocation_counter::measure(|| {
        copy.insert_shared("kind", Arc::clone(&kind))
            .expect("a valid attribute");
    })
    .count_total;
    assert_eq!(copy.get("kind"), Some("request"));
    assert_eq!(original.get("kind"), None, "the original is unchanged");
    made
}

#[test]
fn a_changed_copy_of_a_typical_message_is_one_allocation() {
    // Up to 8 entries, with the new one, live inline in the shared list.
    for count in [3, 5, 7] {
        assert_eq!(allocations_of_a_changed_copy(count), 1, "{count} entries");
    }
}

#[test]
fn a_changed_copy_past_the_inline_entries_is_two_allocations() {
    // The list, and a vector for its entries.
    for count in [8, 12, 30] {
        assert_eq!(allocations_of_a_changed_copy(count), 2, "{count} entries");
    }
}

#[test]
fn changing_an_unshared_list_allocates_nothing() {
    let mut attrs = attributes(5);
    let kind: Arc<str> = Arc::from("request");
    let made = allocation_counter::measure(|| {
        attrs
            .insert_shared("kind", Arc::clone(&kind))
            .expect("a valid attribute");
        attrs
            .insert_shared("kind", Arc::clone(&kind))
            .expect("a valid attribute");
    })
    .count_total;
    assert_eq!(made, 0);
}

/// The allocations made by setting three attributes made beforehand (a request's kind,
/// correlation id and reply-to) at once, on a clone of attributes with `count` entries.
fn allocations_of_a_copy_given_three(count: usize) -> u64 {
    let original = attributes(count);
    let batch = [
        Attribute::new("correlationid", "c").expect("a valid attribute"),
        Attribute::new("kind", "request").expect("a valid attribute"),
        Attribute::new("replyto", "bus://replies").expect("a valid attribute"),
    ];
    let mut copy = original.clone();
    let made = allocation_counter::measure(|| copy.insert_all(batch)).count_total;
    assert_eq!(copy.get("replyto"), Some("bus://replies"));
    assert_eq!(original.get("kind"), None, "the original is unchanged");
    made
}

#[test]
fn three_attributes_set_at_once_on_a_copy_of_a_typical_message_are_one_allocation() {
    // Up to 8 entries, with the three new ones, live inline in the shared list.
    for count in [3, 4, 5] {
        assert_eq!(
            allocations_of_a_copy_given_three(count),
            1,
            "{count} entries"
        );
    }
}

#[test]
fn three_attributes_set_at_once_past_the_inline_entries_are_two_allocations() {
    // The list, and a vector for its entries, with room for all three at once.
    for count in [6, 8, 12, 30] {
        assert_eq!(
            allocations_of_a_copy_given_three(count),
            2,
            "{count} entries"
        );
    }
}

#[test]
fn setting_attributes_at_once_on_an_unshared_list_allocates_nothing() {
    let mut attrs = attributes(5);
    let kind = Attribute::new("kind", "request").expect("a valid attribute");
    let tenant = Attribute::new("tenant", "acme").expect("a valid attribute");
    let made = allocation_counter::measure(|| {
        attrs.insert_all([kind.clone(), tenant.clone()]);
        attrs.insert_all([tenant.clone(), kind.clone()]);
    })
    .count_total;
    assert_eq!(made, 0);
}
