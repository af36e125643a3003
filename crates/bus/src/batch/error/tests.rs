//! Unit tests of [`ErrorTemplate`] and [`fan_out`]: every copy keeps the kind, the
//! transience and the text of the original.

use std::{collections::HashMap, error::Error as StdError, mem::discriminant, time::Duration};

use switchyard_core::{Error, LimitedField, Message};

use super::{ErrorTemplate, SharedError, fan_out};

#[derive(Debug, thiserror::Error)]
#[error("broker said no")]
struct BrokerError;

fn encode_error() -> Error {
    // A map with non-string keys cannot be JSON.
    Message::builder()
        .json(&HashMap::from([((1, 2), 3)]))
        .build()
        .unwrap_err()
}

fn decode_error() -> Error {
    Message::new("not json").decode::<u32>().unwrap_err()
}

/// Every copy has the original's variant (or `Transport` where `same_variant` is false),
/// transience, text and report.
fn check(make_original: fn() -> Error, same_variant: bool) {
    let original = make_original();
    let (text, report, transient) = (
        original.to_string(),
        original.report(),
        original.is_transient(),
    );
    let template = ErrorTemplate::new(make_original());
    for _ in 0..3 {
        let copy = template.make();
        assert_eq!(copy.is_transient(), transient, "{text}");
        if same_variant {
            assert_eq!(discriminant(&copy), discriminant(&original), "{text}");
            assert_eq!(copy.to_string(), text);
            assert_eq!(copy.report(), report);
        } else {
            assert!(matches!(copy, Error::Transport { .. }), "{text}");
            assert_eq!(copy.to_string(), format!("transport error: {text}"));
            assert_eq!(copy.report(), format!("transport error: {report}"));
        }
    }
}

#[test]
fn copies_keep_kind_transience_and_text() {
    check(
        || Error::InvalidAttributeName {
            name: "Bad".into(),
            reason: "upper case",
        },
        true,
    );
    check(
        || Error::InvalidAttributeValue {
            name: "time".into(),
            reason: "not RFC 3339",
        },
        true,
    );
    check(|| Error::MissingAttribute { name: "id" }, true);
    check(
        || Error::TooLarge {
            field: LimitedField::Payload,
            size: 10,
            limit: 5,
        },
        true,
    );
    check(
        || Error::UnsupportedContentType {
            content_type: "text/xml".into(),
        },
        true,
    );
    check(
        || Error::UnknownDestination {
            destination: "kafka://user:secret@host/t".into(),
        },
        true,
    );
    check(|| Error::QueueFull { queue: "q".into() }, true);
    check(|| Error::Closed { component: "bus" }, true);
    check(
        || Error::Timeout {
            operation: "publish",
            after: Duration::from_millis(3),
        },
        true,
    );
    check(|| Error::transient_transport(BrokerError), true);
    check(|| Error::permanent_transport(BrokerError), true);
    check(|| Error::transient_handler("boom"), true);
    check(|| Error::permanent_handler("boom"), true);
    check(encode_error, false);
    check(decode_error, false);
}

#[test]
fn shared_sources_can_be_downcast_to_the_original() {
    let template = ErrorTemplate::new(Error::transient_transport(BrokerError));
    let copy = template.make();
    let source = copy.source().unwrap();
    let shared = source.downcast_ref::<SharedError>().unwrap();
    assert!(shared.downcast_ref::<BrokerError>().is_some());

    let opaque = ErrorTemplate::new(decode_error()).make();
    let shared = opaque
        .source()
        .unwrap()
        .downcast_ref::<SharedError>()
        .unwrap();
    assert!(matches!(
        shared.downcast_ref::<Error>(),
        Some(Error::Decode { .. })
    ));
}

#[test]
fn fan_out_gives_every_reply_a_result() {
    let mut got = Vec::new();
    fan_out(Ok(()), 0..3, |i, r| got.push((i, r.is_ok())));
    assert_eq!(got, [(0, true), (1, true), (2, true)]);

    let mut got = Vec::new();
    fan_out(
        Err(Error::transient_transport(BrokerError)),
        0..3,
        |i, r: Result<(), Error>| got.push((i, r.unwrap_err().is_transient())),
    );
    assert_eq!(got, [(0, true), (1, true), (2, true)]);
}

#[test]
fn a_batch_of_one_gets_the_original_error() {
    let mut got = Vec::new();
    fan_out(Err(decode_error()), 0..1, |_, r| got.push(r.unwrap_err()));
    assert!(matches!(got.as_slice(), [Error::Decode { .. }]));
}
