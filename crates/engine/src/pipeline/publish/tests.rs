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

/// Second reading: a credential in the destination reaches the observer hook when the
/// publisher's prefix has none (a scheme-only prefix such as `redis://`, or the catch-all
/// empty prefix): the topic loses the scheme, and with it the only thing that lets
/// `redact` recognise the userinfo.
#[test]
fn a_topic_never_shows_a_credential_under_a_scheme_only_prefix() {
    for prefix in ["redis://", ""] {
        let shown = super::shown_topic(prefix, "app:hunter2@cache/audit");
        assert!(!shown.contains("hunter2"), "{prefix:?} shows {shown}");
    }
}

/// What the hook is shown under each kind of prefix: none, a scheme, a scheme and host, and
/// a scheme and host with a credential. No row shows userinfo.
#[test]
fn a_topic_is_shown_redacted_under_every_kind_of_prefix() {
    for (prefix, topic, expected) in [
        ("", "orders", "orders"),
        ("", "app:hunter2@cache/audit", "[REDACTED]@cache/audit"),
        ("", "orders?token=abc", "orders?token=[REDACTED]"),
        // Under a prefix without a scheme, text shaped like userinfo is hidden even when
        // the destination had no scheme: the safe side.
        ("", "team@eu/orders", "[REDACTED]@eu/orders"),
        ("redis://", "cache/audit", "cache/audit"),
        (
            "redis://",
            "app:hunter2@cache/audit",
            "[REDACTED]@cache/audit",
        ),
        ("redis://", "app@cache/audit", "[REDACTED]@cache/audit"),
        ("redis://host/", "host/audit", "host/audit"),
        (
            "redis://host/",
            "host/audit?password=x",
            "host/audit?password=[REDACTED]",
        ),
        (
            "redis://user:pw@host/",
            "user:pw@host/audit",
            "[REDACTED]@host/audit",
        ),
        (
            "redis://user:pw@host/",
            "user:pw@host/a b://c:d@e",
            "[REDACTED]@host/a b://[REDACTED]@e",
        ),
    ] {
        check_shown(prefix, topic, expected);
    }
}

proptest::proptest! {
    /// Whichever prefix picked the publisher (none, the scheme, the scheme and host, the
    /// whole server with its credential), the topic shown never holds the password.
    #[test]
    fn a_shown_topic_never_holds_the_password(
        scheme in "[a-z][a-z0-9+.]{0,5}",
        user in "[a-z]{0,6}",
        password in "[A-Z]{4,8}",
        host in "[a-z0-9.:]{1,10}",
        path in "[a-z/?=&]{0,12}",
        cut in 0_usize..4,
    ) {
        let server = format!("{scheme}://{user}:{password}@{host}/");
        let destination = format!("{server}{path}");
        let prefix = match cut {
            0 => String::new(),
            1 => format!("{scheme}://"),
            2 => format!("{scheme}://{user}"),
            _ => server,
        };
        let shown = super::shown_topic(&prefix, topic_of(&destination));
        proptest::prop_assert!(!shown.contains(&password), "{prefix} {destination}: {shown}");
    }
}

/// Third reading: destination shapes whose password still reaches the observer hook, under
/// the catch-all prefix, a scheme-only prefix and the server's own prefix alike.
#[test]
fn a_shown_topic_never_holds_a_password_with_an_at_sign_or_a_slash() {
    let mut leaks = Vec::new();
    for (server, password) in [
        // `@` then `/` in the password: the first rule stops at the first `@`.
        ("redis://app:p@ss/word@cache/", "ss/word"),
        // Digits up to the password's first `/`.
        ("redis://app:2024/Secret@cache/", "2024/Secret"),
    ] {
        let destination = format!("{server}audit");
        for prefix in ["", "redis://", server] {
            let shown = super::shown_topic(prefix, topic_of(&destination));
            if shown.contains(password) {
                leaks.push(format!("prefix {prefix:?}: shown {shown:?}"));
            }
        }
    }
    assert!(leaks.is_empty(), "{leaks:#?}");
}
