//! The destination-to-topic mapping, as a table.

use super::topic_of;

fn check(destination: &str, expected: &str) {
    assert_eq!(topic_of(destination), expected, "{destination}");
}

#[test]
fn the_topic_is_the_destination_without_its_scheme() {
    check("mem://orders", "orders");
    check("kafka://orders/eu", "orders/eu");
    check("mem://dead-letter", "dead-letter");
    check("mem://", "");
    check("orders", "orders");
    check("a://b://c", "b://c");
}
