//! Tests of message building, typed payloads, size limits and cheap clones.

use serde::{Deserialize, Serialize};

use super::*;
use crate::{AckState, LimitedField};

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Order {
    id: u64,
    lines: Vec<String>,
    note: Option<String>,
}

fn order() -> Order {
    Order {
        id: 42,
        lines: vec!["a".into(), "b".into()],
        note: None,
    }
}

#[test]
fn json_round_trip() {
    let message = Message::builder().json(&order()).build().unwrap();
    assert_eq!(
        message.attributes().datacontenttype(),
        Some(JSON_CONTENT_TYPE)
    );
    assert_eq!(message.decode::<Order>().unwrap(), order());
}

#[test]
fn json_content_types_are_recognised() {
    let accepted = [
        "application/json",
        "Application/JSON; charset=utf-8",
        "text/json",
        "application/cloudevents+json",
    ];
    for content_type in accepted {
        let message = Message::builder()
            .json(&order())
            .attribute("datacontenttype", content_type)
            .build()
            .unwrap();
        assert_eq!(
            message.decode::<Order>().unwrap(),
            order(),
            "{content_type}"
        );
    }
    let absent = Message::new(serde_json::to_vec(&order()).unwrap());
    assert_eq!(absent.decode::<Order>().unwrap(), order());
}

#[test]
fn other_content_types_are_a_typed_error() {
    for content_type in ["text/plain", "application/protobuf", "json"] {
        let message = Message::builder()
            .payload("{}")
            .attribute("datacontenttype", content_type)
            .build()
            .unwrap();
        let err = message.decode::<Order>().unwrap_err();
        assert!(
            matches!(err, Error::UnsupportedContentType { .. }),
            "{content_type}: {err:?}"
        );
        assert!(!err.is_transient());
    }
}

#[test]
fn broken_payloads_are_a_typed_error_naming_the_target() {
    let cases: [&[u8]; 4] = [b"", b"{", br#"{"id":"x","lines":[]}"#, &[0xff, 0xfe]];
    for payload in cases {
        let message = Message::new(Bytes::copy_from_slice(payload));
        let err = message.decode::<Order>().unwrap_err();
        let Error::Decode { target, .. } = &err else {
            panic!("{err:?}")
        };
        assert!(target.ends_with("Order"), "{target}");
        assert!(
            std::error::Error::source(&err).is_some(),
            "the decoder error is the source"
        );
    }
}

/// The decoder quotes the values it cannot use (`invalid type: string "hunter2"`), with no
/// key that `redact` could recognise a secret by: the error shows none of the payload's
/// text, however long, only where and why it broke.
#[test]
fn decode_errors_show_no_payload_text() {
    let long = "x".repeat(10_000);
    for payload in [
        r#"{"id":"hunter2-secret","lines":"hunter2-secret"}"#.to_owned(),
        format!(r#"{{"id":7,"lines":[]}} "{long}""#),
        format!(r#"{{"id":"o","lines":[{{"{long}":1}}]}}"#),
    ] {
        let err = Message::new(payload).decode::<Order>().unwrap_err();
        let shown = format!("{err} / {}", err.report());
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.len() < 500, "bounded: {} bytes", shown.len());
        assert!(shown.contains("line 1"), "still says where: {shown}");
    }
}

#[test]
fn encode_failures_are_a_typed_error() {
    use std::collections::HashMap;
    // JSON object keys must be strings.
    let bad: HashMap<Vec<u8>, u8> = [(vec![1], 1)].into();
    let err = Message::builder().json(&bad).build().unwrap_err();
    assert!(matches!(err, Error::Encode(_)), "{err:?}");
}

#[test]
fn builder_reports_the_first_bad_attribute() {
    let err = Message::builder()
        .attribute("Bad", "x")
        .message_type("")
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::InvalidAttributeName { .. }), "{err:?}");
}

#[track_caller]
fn check_limits(
    limits: Limits,
    payload_len: usize,
    value_len: usize,
    expected: Option<(LimitedField, usize)>,
) {
    let result = Message::builder()
        .payload(vec![0; payload_len])
        .attribute("big", "v".repeat(value_len))
        .limits(limits)
        .build();
    match (result, expected) {
        (Ok(_), None) => {}
        (Err(Error::TooLarge { field, limit, size }), Some((expected_field, expected_limit))) => {
            assert_eq!((field, limit), (expected_field, expected_limit));
            assert!(size > limit);
        }
        (result, expected) => panic!("expected {expected:?}, got {result:?}"),
    }
}

#[test]
fn limits_name_the_field_and_the_limit() {
    let payload_10 = Limits::new().with_max_payload_bytes(10);
    let attributes_200 = Limits::new().with_max_attributes_bytes(200);
    check_limits(payload_10, 10, 0, None);
    check_limits(payload_10, 11, 0, Some((LimitedField::Payload, 10)));
    check_limits(attributes_200, 0, 100, None);
    check_limits(
        attributes_200,
        0,
        300,
        Some((LimitedField::Attributes, 200)),
    );
    check_limits(
        Limits::new(),
        Limits::DEFAULT_MAX_PAYLOAD_BYTES + 1,
        0,
        Some((LimitedField::Payload, Limits::DEFAULT_MAX_PAYLOAD_BYTES)),
    );
}

#[test]
fn limits_check_received_messages() {
    let message = Message::new(vec![0; 100]);
    assert!(Limits::new().check(&message).is_ok());
    let err = Limits::new()
        .with_max_payload_bytes(99)
        .check(&message)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "payload is 100 bytes, over the limit of 99 bytes"
    );
}

#[test]
fn clones_share_the_payload_and_the_delivery() {
    let message = Message::builder()
        .payload(vec![7; 1024])
        .attribute("k", "v")
        .build()
        .unwrap();
    let clone = message.clone();
    assert_eq!(
        clone.payload().as_ptr(),
        message.payload().as_ptr(),
        "payload not copied"
    );
    assert!(clone.acker().same_delivery(message.acker()));
    assert!(clone.ack());
    assert_eq!(message.acker().state(), AckState::Acked);
}

#[test]
fn detached_copies_settle_nothing_upstream() {
    let message = Message::new("x");
    let copy = message.detached();
    assert_eq!(copy.payload().as_ptr(), message.payload().as_ptr());
    assert!(copy.ack());
    assert_eq!(message.acker().state(), AckState::Pending);
}

#[test]
fn debug_does_not_print_the_payload() {
    let message = Message::new("password=hunter2");
    assert!(!format!("{message:?}").contains("hunter2"));
}

/// `is_json` looks at the last five bytes of the content type for `+json`; a content type
/// from the wire ending in a multi-byte character used to be cut inside it, and the `str`
/// slice panicked, where `decode` promises an `UnsupportedContentType` error.
#[test]
fn decode_of_a_non_ascii_content_type_is_an_error_not_a_panic() {
    for content_type in ["x/ééé", "application/😀😀"] {
        let message = Message::builder()
            .attribute(names::DATACONTENTTYPE, content_type)
            .payload("{}")
            .build()
            .unwrap();
        let decoded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            message.decode::<serde_json::Value>()
        }));
        let Ok(decoded) = decoded else {
            panic!("decode panicked on datacontenttype {content_type:?}");
        };
        assert!(
            matches!(decoded, Err(Error::UnsupportedContentType { .. })),
            "{content_type:?}: {decoded:?}"
        );
    }
}
