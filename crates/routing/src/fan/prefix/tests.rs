//! Unit tests of the longest-prefix table.

use super::PrefixTable;
use crate::fan::BuildError;

/// The route set used by the table tests: prefixes that are prefixes of each other, and
/// prefixes of equal length.
const ROUTES: &[(&str, &str)] = &[
    ("kafka://", "kafka"),
    ("kafka://orders", "orders"),
    ("kafka://orders.eu", "orders-eu"),
    ("kafka://ordera", "ordera"),
    ("redis://", "redis"),
    ("redis://a", "redis-a"),
    ("redis://b", "redis-b"),
    ("k", "k"),
];

fn table(routes: &[(&str, &str)]) -> PrefixTable {
    PrefixTable::new(
        routes
            .iter()
            .enumerate()
            .map(|(index, (prefix, name))| (*prefix, *name, index)),
    )
    .expect("valid table")
}

/// Looks `destination` up in `routes` and checks the winning output's name.
fn check(routes: &[(&str, &str)], destination: &str, expected: Option<&str>) {
    let found = table(routes)
        .lookup(destination)
        .map(|index| routes[index].1);
    assert_eq!(found, expected, "destination {destination:?}");
}

#[test]
fn longest_prefix_wins() {
    let cases: &[(&str, Option<&str>)] = &[
        ("kafka://orders.eu.created", Some("orders-eu")),
        ("kafka://orders.eu", Some("orders-eu")),
        ("kafka://orders.us", Some("orders")),
        ("kafka://orders", Some("orders")),
        ("kafka://ordersarchive", Some("orders")),
        ("kafka://order", Some("kafka")),
        ("kafka://ordera", Some("ordera")),
        ("kafka://payments", Some("kafka")),
        ("kafka://", Some("kafka")),
        ("kafka:/", Some("k")),
        ("kafka", Some("k")),
        ("redis://a/stream", Some("redis-a")),
        ("redis://b", Some("redis-b")),
        ("redis://c", Some("redis")),
        ("redis:/", None),
        ("", None),
        ("KAFKA://orders", None),
        ("nats://x", None),
    ];
    for &(destination, expected) in cases {
        check(ROUTES, destination, expected);
    }
}

#[test]
fn registration_order_does_not_change_the_winner() {
    let destinations = [
        "kafka://orders.eu.1",
        "kafka://orders.us",
        "kafka://x",
        "kafka",
        "redis://a",
        "redis://z",
        "none",
    ];
    let reference = table(ROUTES);
    let expected: Vec<Option<&str>> = destinations
        .iter()
        .map(|d| reference.lookup(d).map(|index| ROUTES[index].1))
        .collect();
    // Every rotation and the reversal of the registration order.
    let mut orders: Vec<Vec<(&str, &str)>> = (0..ROUTES.len())
        .map(|shift| {
            let mut routes = ROUTES.to_vec();
            routes.rotate_left(shift);
            routes
        })
        .collect();
    orders.push(ROUTES.iter().rev().copied().collect());
    for routes in orders {
        let table = table(&routes);
        let found: Vec<Option<&str>> = destinations
            .iter()
            .map(|d| table.lookup(d).map(|index| routes[index].1))
            .collect();
        assert_eq!(found, expected, "registration order {routes:?}");
    }
}

#[test]
fn duplicate_prefix_names_both_outputs_in_registration_order() {
    let err = PrefixTable::new([
        ("kafka://", "first", 0),
        ("redis://", "other", 1),
        ("kafka://", "second", 2),
    ])
    .expect_err("duplicate prefix");
    assert_eq!(
        err,
        BuildError::DuplicatePrefix {
            prefix: "kafka://".into(),
            first: "first".into(),
            second: "second".into(),
        }
    );
}

#[test]
fn empty_table_matches_nothing() {
    assert_eq!(PrefixTable::default().lookup("kafka://x"), None);
}
