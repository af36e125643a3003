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

/// What a JSON decoder's error shows of its input: none of the values it quotes, in any of
/// serde's spellings, and a bounded length whatever the message; what was expected, and
/// where, stay.
#[test]
fn json_error_text_elides_the_input_and_keeps_the_rest() {
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
        r#"invalid value: string "a \"quoted\" \\ one", expected a date"#,
        r#"invalid value: string "…", expected a date"#,
    );
    check(
        r#"unterminated string "hunter2"#,
        r#"unterminated string "…"#,
    );
    check(
        "unknown variant `hun`ter2`, expected `Plain` or `Express`",
        "unknown variant `…`, expected `Plain` or `Express`",
    );
    check(
        "unknown field `password`, there are no fields",
        "unknown field `…`, there are no fields",
    );
    check(
        "invalid type: integer `123456`, expected a string",
        "invalid type: integer `…`, expected a string",
    );
    check(
        "invalid type: character `x`, expected a string",
        "invalid type: character `…`, expected a string",
    );
    // Quotes that open no value of serde's are text like any other.
    check(r#"expected "," or "}""#, r#"expected "," or "}""#);
    check("no values at all", "no values at all");
    let long = super::json_error_text(&serde_json::Error::custom("é".repeat(10_000)));
    assert!(long.ends_with('…'), "cut, with an ellipsis");
    assert!(
        long.len() <= super::MAX_JSON_ERROR_LEN + '…'.len_utf8(),
        "{}",
        long.len()
    );
}

/// Where the decoder broke survives whatever comes before it, an unpaired quote included.
#[test]
fn json_error_text_keeps_the_line_and_column() {
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code, reason = "only decoding is tested")]
    enum Kind {
        Plain,
        Express,
    }
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code, reason = "only decoding is tested")]
    struct Shipment {
        kind: Kind,
    }
    for payload in [
        r#"{"kind":"a\"b"}"#.to_owned(),
        format!(r#"{{"kind":"{}"}}"#, "x".repeat(5_000)),
    ] {
        let error = serde_json::from_str::<Shipment>(&payload).unwrap_err();
        let text = super::json_error_text(&error);
        let location = format!(" at line {} column {}", error.line(), error.column());
        assert!(text.ends_with(&location), "{text}");
        assert!(!text.contains("a\\\"b") && !text.contains("xxxx"), "{text}");
        assert!(text.len() < 300, "{}", text.len());
    }
}
