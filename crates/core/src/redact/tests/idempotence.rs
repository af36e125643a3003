//! Redacting twice changes nothing: no rule's output makes another rule match.

use proptest::prelude::*;

use super::redact;

proptest! {
    #[test]
    fn redaction_is_idempotent(text in ".{0,80}") {
        let once = redact(&text).into_owned();
        prop_assert_eq!(redact(&once), once.as_str());
    }

    /// Random text seldom holds a key, a scheme word or a quote: this builds text from the
    /// pieces the rules look for, so that rules meet each other's output.
    #[test]
    fn redaction_of_secret_shaped_text_is_idempotent(text in fragments()) {
        let once = redact(&text).into_owned();
        prop_assert_eq!(redact(&once), once.as_str(), "input: {:?}", text);
    }

    /// The same pieces between a URL's `://` and `@`, where a later rule's output can turn
    /// into userinfo for the URL rules.
    #[test]
    fn redaction_inside_url_userinfo_is_idempotent(
        inner in proptest::collection::vec(proptest::sample::select(USERINFO_FRAGMENTS), 0..8)
            .prop_map(|v| v.concat()),
        host in "(h|h/p| h)",
    ) {
        let text = format!("redis://{inner}@{host}");
        let once = redact(&text).into_owned();
        prop_assert_eq!(redact(&once), once.as_str(), "input: {:?}", text);
    }
}

/// Pieces of text that the rules match on, and the rules' own output.
const FRAGMENTS: &[&str] = &[
    "password",
    "token",
    "sig",
    "Signature",
    "=",
    ": ",
    ":",
    "\"",
    "'",
    "\\\"",
    "\\",
    " ",
    "\n",
    ",",
    ", ",
    "&",
    "?",
    "@",
    "://",
    "redis",
    "Digest ",
    "AWS4-HMAC-SHA256 ",
    "Bearer ",
    "AUTH ",
    "Authorization",
    "response=",
    "realm=",
    "abc",
    "x y",
    "[REDACTED]",
    "Some(",
    ")",
    "-----BEGIN PRIVATE KEY-----",
    "-----END PRIVATE KEY-----",
    "AKIAIOSFODNN7EXAMPLE",
    "Cookie: ",
    "Set-Cookie: ",
    "sid=",
    ";",
    "; Path=/",
    "<password>",
    "</password>",
    "<ns:Token a=\"b\">",
    "</ns:Token>",
    "<![CDATA[",
    "]]>",
    "auth ",
    "\"auth\" ",
    "'auth', with args beginning with: ",
    "requirepass ",
    "redis-cli -a ",
    " --pass ",
    "masterauth=",
    "x9",
    "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
    "xoxb-1765367-1987469-pdFZKVeTu",
    "npm_",
    "sk_live_",
];

/// Pieces that a rule rewrites with the white space in them: the rest of the text between
/// a URL's `://` and `@` stays free of white space, as userinfo is.
const USERINFO_FRAGMENTS: &[&str] = &[
    "password=",
    "token:",
    "Authorization=",
    "Digest=",
    "x",
    ":",
    "@",
    "\"a b\"",
    "'a b'",
    "\"a b",
    "\\\"a b\\\"",
    "Some(\"a b\")",
    "-----BEGIN PRIVATE KEY-----",
    "-----END PRIVATE KEY-----",
    "Cookie=a=",
    ";b=\"c d\"",
    "<token>a b</token>",
    "auth\"",
    "requirepass",
];

pub(super) fn fragments() -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::sample::select(FRAGMENTS), 0..16).prop_map(|v| v.concat())
}

/// Inputs on which one rule wrote `[REDACTED]` where an earlier rule then matched the
/// second time (shrunk from the fragment property tests).
#[test]
fn redacting_twice_changes_nothing() {
    let wrong: Vec<String> = [
        // A Digest parameter list of `[REDACTED]`, written by the key rule.
        r"Digest password=\",
        // An `Authorization` parameter list ends before an `&` that a token would take.
        r#"Authorization=response=\"\"&"#,
        // A PEM key or a quoted value takes the white space out of a URL's userinfo.
        "redis://password-----BEGIN PRIVATE KEY----------END PRIVATE KEY-----@",
        r#"redis://password="a b"@host"#,
        // A quoted cookie value with more of the word after its closing quote, also
        // escaped: the tail was left, and the second time taken for the value.
        r#"redis://Cookie=a="a b"a b"@h"#,
        r#"redis://"a b"Cookie=a=\"a b\"@h"#,
        // The key rule takes an element's opening tag as a bare value, which makes one
        // larger element out of the text; an element takes the white space out of a URL's
        // userinfo.
        r#"<password>password=<ns:Token a="b">password</password>"#,
        "redis://:<token>a b</token>@h",
        // A cookie's name that the `Authorization` rule takes for a header.
        r#"Cookie: Authorization="""#,
        // An empty secret-named cookie, whose value the key rule took from the text after.
        "Cookie: masterauth=;: ; Path=/",
    ]
    .into_iter()
    .map(|input| (input, redact(input).into_owned()))
    .filter(|(_, once)| redact(once) != once.as_str())
    .map(|(input, once)| format!("{input:?} -> {once:?} -> {:?}", redact(&once)))
    .collect();
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// A value redacted already is left alone: redacting twice over-redacts nothing.
#[test]
fn redacting_json_twice_changes_nothing() {
    for input in [
        r#"{"password":"hunter2","user":"bob"}"#,
        r#"body: "{\"password\":\"hunter2\",\"user\":\"bob\"}""#,
    ] {
        let once = redact(input).into_owned();
        assert!(once.contains("bob"), "{once}");
        assert_eq!(redact(&once), once.as_str());
    }
}
