//! Tests of the TCP wire format: request lines in, reply lines out, and round trips.

use proptest::prelude::*;
use serde_json::{Value, json};
use switchyard_core::{Limits, Message};

use super::{decode, encode};
use crate::gateway::ErrorCategory;

fn limits() -> Limits {
    Limits::new().with_max_payload_bytes(64)
}

/// Decodes `line` and checks the outcome: `Ok((type, data, attribute))` for a message, or
/// `Err(start of the bad-request message)`.
/// A decoded message's type, payload and one attribute, or the start of the error.
type Expected<'a> = Result<(Option<&'a str>, &'a str, Option<(&'a str, &'a str)>), &'a str>;

fn check(line: &str, expected: Expected<'_>) {
    let decoded = decode(line, limits());
    match (decoded, expected) {
        (Ok(Some(message)), Ok((message_type, payload, attribute))) => {
            assert_eq!(message.attributes().message_type(), message_type, "{line}");
            assert_eq!(message.payload(), payload.as_bytes(), "{line}");
            if let Some((name, value)) = attribute {
                assert_eq!(message.attributes().get(name), Some(value), "{line}");
            }
            assert!(message.attributes().id().is_some(), "an id is generated");
        }
        (Err(error), Err(start)) => {
            assert_eq!(error.category(), ErrorCategory::BadRequest, "{line}");
            assert!(
                error.message().starts_with(start),
                "{line}: {}",
                error.message()
            );
        }
        (other, expected) => panic!("{line}: got {other:?}, expected {expected:?}"),
    }
}

#[test]
fn request_lines() {
    check(r#"{"type": "ping"}"#, Ok((Some("ping"), "", None)));
    check(
        r#"{"type": "ping", "data": {"a": [1, 2]}}"#,
        Ok((
            Some("ping"),
            r#"{"a":[1,2]}"#,
            Some(("datacontenttype", "application/json")),
        )),
    );
    check(r#"{"data": "hi"}"#, Ok((None, r#""hi""#, None)));
    check(r#"{"data": null, "type": "x"}"#, Ok((Some("x"), "", None)));
    check(
        r#"{"attributes": {"correlationid": "c-1", "type": "inner"}}"#,
        Ok((Some("inner"), "", Some(("correlationid", "c-1")))),
    );
    check(
        r#"{"type": "outer", "attributes": {"type": "inner"}}"#,
        Ok((Some("outer"), "", None)),
    );
    check(
        r#"{"type": "x", "attributes": {"id": "client-id"}}"#,
        Ok((Some("x"), "", Some(("id", "client-id")))),
    );

    check("not json", Err("malformed request: expected ident"));
    check(
        "[1, 2]",
        Err("malformed request: invalid type: sequence, expected a map"),
    );
    check(
        r#"["ping"]"#,
        Err("malformed request: invalid type: sequence, expected a map"),
    );
    check(
        r#"{"type": "x"} trailing"#,
        Err("malformed request: trailing characters"),
    );
    check(
        r#"{"type": "x", "dta": 1}"#,
        Err("malformed request: unknown field `dta`"),
    );
    check(
        r#"{"type": 5}"#,
        Err("malformed request: invalid type: integer `5`"),
    );
    check(
        r#"{"attributes": {"n": 1}}"#,
        Err("malformed request: invalid type: integer `1`"),
    );
    check(
        r#"{"attributes": {"Bad-Name": "v"}}"#,
        Err("invalid attribute name \"Bad-Name\""),
    );
    check(
        r#"{"type": ""}"#,
        Err("invalid value for attribute `type`: must not be empty"),
    );
    check(
        r#"{"attributes": {"time": "yesterday"}}"#,
        Err("invalid value for attribute `time`"),
    );
    check(
        &format!(r#"{{"data": "{}"}}"#, "x".repeat(100)),
        Err("payload is 102 bytes, over the limit of 64 bytes"),
    );
    check(
        r#"{"attributes": {"password": "hunter2", "Bad": "v"}}"#,
        Err("invalid attribute name \"Bad\""),
    );
}

#[test]
fn blank_lines_are_skipped() {
    for line in ["", "   ", "\t"] {
        assert!(matches!(decode(line, limits()), Ok(None)), "{line:?}");
    }
}

#[test]
fn replies_are_one_json_line() {
    let reply = Message::builder()
        .message_type("pong")
        .json(&json!({"n": 1, "text": "two\nlines"}))
        .correlation_id("c-1")
        .build()
        .unwrap();
    let line = encode(&reply);
    assert!(line.ends_with('\n'));
    assert_eq!(
        line.matches('\n').count(),
        1,
        "newlines inside are escaped: {line}"
    );
    let value: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(value["type"], "pong");
    assert_eq!(value["data"], json!({"n": 1, "text": "two\nlines"}));
    assert_eq!(value["attributes"]["correlationid"], "c-1");
    assert!(
        value["attributes"].get("type").is_none(),
        "the type is only at the top"
    );

    let text = Message::builder()
        .attribute("datacontenttype", "text/plain")
        .payload("{not json")
        .build()
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&encode(&text)).unwrap()["data"],
        "{not json"
    );

    let empty: Value = serde_json::from_str(&encode(&Message::new(""))).unwrap();
    assert!(empty.get("data").is_none());
}

#[test]
fn a_binary_payload_becomes_an_internal_error_line() {
    let binary = Message::builder()
        .message_type("blob")
        .correlation_id("c-2")
        .payload(vec![0xff, 0xfe])
        .build()
        .unwrap();
    let value: Value = serde_json::from_str(&encode(&binary)).unwrap();
    assert_eq!(value["type"], "switchyard.gateway.error");
    assert_eq!(value["data"]["category"], "internal");
    assert_eq!(
        value["attributes"]["correlationid"], "c-2",
        "the client can still match it"
    );
}

proptest! {
    /// What a client sends comes back unchanged when a handler echoes it.
    #[test]
    fn data_and_attributes_round_trip(
        message_type in "[a-z]{1,8}(\\.[a-z]{1,8}){0,2}",
        text in ".{0,20}",
        number in any::<i64>(),
        // CloudEvents forbids control characters in values: a line with one is refused.
        attributes in proptest::collection::btree_map("[a-z][a-z0-9]{0,10}", "[^\\p{Cc}]{0,12}", 0..4),
    ) {
        let attributes: std::collections::BTreeMap<String, String> = attributes
            .into_iter()
            .filter(|(name, _)| !["id", "time", "type", "source", "specversion", "datacontenttype"].contains(&name.as_str()))
            .collect();
        let data = json!({"text": text, "number": number});
        let line = json!({"type": message_type, "data": data, "attributes": attributes}).to_string();
        let message = decode(&line, Limits::default()).unwrap().unwrap();
        let echoed: Value = serde_json::from_str(&encode(&message)).unwrap();
        prop_assert_eq!(&echoed["type"], &json!(message_type));
        prop_assert_eq!(&echoed["data"], &data);
        for (name, value) in &attributes {
            prop_assert_eq!(&echoed["attributes"][name], &json!(value));
        }
    }
}
