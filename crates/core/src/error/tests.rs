//! Tests of error classification and of redaction in error messages.

use std::{io, time::Duration};

use super::*;

#[test]
fn classification() {
    let io = || io::Error::new(io::ErrorKind::ConnectionReset, "reset");
    let cases: Vec<(Error, bool)> = vec![
        (
            Error::Timeout {
                operation: "publish",
                after: Duration::from_secs(1),
            },
            true,
        ),
        (
            Error::QueueFull {
                queue: "orders".into(),
            },
            true,
        ),
        (Error::transient_transport(io()), true),
        (Error::permanent_transport(io()), false),
        (Error::transient_handler(io()), true),
        (Error::permanent_handler(io()), false),
        (Error::Closed { component: "bus" }, false),
        (
            Error::MissingAttribute {
                name: "correlationid",
            },
            false,
        ),
        (
            Error::TooLarge {
                field: LimitedField::Payload,
                size: 2,
                limit: 1,
            },
            false,
        ),
        (
            Error::UnknownDestination {
                destination: "x://y".into(),
            },
            false,
        ),
        (
            Error::UnsupportedContentType {
                content_type: "text/plain".into(),
            },
            false,
        ),
        (
            Error::InvalidAttributeName {
                name: "X".into(),
                reason: "r",
            },
            false,
        ),
        (
            Error::InvalidAttributeValue {
                name: "time".into(),
                reason: "r",
            },
            false,
        ),
    ];
    for (error, transient) in cases {
        assert_eq!(error.is_transient(), transient, "{error}");
    }
}

#[derive(Debug, thiserror::Error)]
#[error("connect to redis://app:hunter2@cache failed")]
struct Leaky {
    #[source]
    cause: io::Error,
}

#[test]
fn messages_and_reports_are_redacted_but_sources_are_kept() {
    let cause = io::Error::other("auth failed for password=hunter2");
    let error = Error::transient_transport(Leaky { cause });
    assert_eq!(
        error.to_string(),
        "transport error: connect to redis://[REDACTED]@cache failed"
    );
    assert_eq!(
        error.report(),
        "transport error: connect to redis://[REDACTED]@cache failed: \
         auth failed for password=[REDACTED]"
    );
    let source = std::error::Error::source(&error).unwrap();
    assert!(
        source.downcast_ref::<Leaky>().is_some(),
        "the source can still be downcast"
    );
}

#[test]
fn unknown_destinations_are_redacted() {
    let error = Error::UnknownDestination {
        destination: "kafka://u:pw@broker/t".into(),
    };
    assert_eq!(
        error.to_string(),
        "unknown destination kafka://[REDACTED]@broker/t"
    );
}

/// The type's rustdoc promises that every message is safe to log, values from outside
/// passed through `redact`; `UnsupportedContentType` used to print the message's
/// `datacontenttype`, which comes from the wire, as it is.
#[test]
fn unsupported_content_type_is_displayed_redacted() {
    let err = Error::UnsupportedContentType {
        content_type: "text/plain; token=abc123secret".to_owned(),
    };
    let shown = err.to_string();
    assert!(!shown.contains("abc123secret"), "{shown}");
}

/// What a JSON decoder's error shows of its input: no quoted value, and a bounded length
/// whatever the message.
#[test]
fn json_error_text_elides_quoted_values_and_is_bounded() {
    use serde::de::Error as _;
    let check = |message: &str, expected: &str| {
        let error = serde_json::Error::custom(message);
        assert_eq!(super::json_error_text(&error), expected, "{message}");
    };
    check(
        r#"invalid type: string "hunter2", expected u64"#,
        r#"invalid type: string "…", expected u64"#,
    );
    check(
        r#"escaped "a \" quote" and "two""#,
        r#"escaped "…" and "…""#,
    );
    check(r#"unterminated "hunter2"#, r#"unterminated "…""#);
    check("no quotes at all", "no quotes at all");
    let long = super::json_error_text(&serde_json::Error::custom("x".repeat(10_000)));
    assert_eq!(
        long.chars().count(),
        super::MAX_JSON_ERROR_LEN + 1,
        "cut, with an ellipsis"
    );
    assert!(long.ends_with('…'));
}
