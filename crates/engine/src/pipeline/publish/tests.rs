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

#[test]
fn the_scheme_ends_at_the_first_colon_and_two_slashes() {
    check("a:b://c", "c");
    check("::://x", "x");
    check("a:/b", "a:/b");
    check("x:", "x:");
    check(":", ":");
    check("", "");
}

proptest::proptest! {
    #[test]
    fn agrees_with_split_once(destination in "[a-zé:/]{0,12}") {
        let expected = destination
            .split_once("://")
            .map_or(destination.as_str(), |(_, topic)| topic);
        proptest::prop_assert_eq!(topic_of(&destination), expected);
    }
}
