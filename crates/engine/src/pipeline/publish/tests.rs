//! The destination-to-topic mapping, and the topic that observers are shown, as tables.

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

fn check_shown(prefix: &str, topic: &str, expected: &str) {
    assert_eq!(
        super::shown_topic(prefix, topic),
        expected,
        "{prefix} {topic}"
    );
}

#[test]
fn a_topic_never_shows_a_credential_of_its_prefix() {
    check_shown(
        "redis://app:hunter2@cache/",
        "app:hunter2@cache/audit",
        "[REDACTED]@cache/audit",
    );
    check_shown(
        "redis://app:hunter2@cache/",
        "app:hunter2@cache/a?password=x",
        "[REDACTED]@cache/a?password=[REDACTED]",
    );
    check_shown("mem://", "orders", "orders");
    check_shown("mem://audit", "audit/eu", "audit/eu");
    check_shown("mem://", "orders?token=abc", "orders?token=[REDACTED]");
}
