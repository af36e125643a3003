//! Tests of reply stamping: channel, session, duration and correlation metadata.

use std::time::Duration;

use switchyard_core::Message;

use super::{DONE_TYPE, ERROR_TYPE, ReplyTo, attr, done, stamp_request};
use crate::gateway::{ErrorCategory, UserError};

const REPLY_TO: ReplyTo<'static> = ReplyTo {
    channel: "tcp",
    session: "7",
    request_id: Some("req-1"),
    correlation_id: None,
};

#[test]
fn a_reply_carries_the_session_metadata_and_the_duration() {
    let reply = REPLY_TO.stamp(Message::new("ok"), Duration::from_micros(5_250_900));
    let attributes = reply.attributes();
    assert_eq!(attributes.get(attr::CHANNEL), Some("tcp"));
    assert_eq!(attributes.get(attr::SESSION), Some("7"));
    assert_eq!(
        attributes.get(attr::DURATION_MS),
        Some("5250"),
        "whole milliseconds"
    );
    assert_eq!(attributes.causation_id(), Some("req-1"));
    assert_eq!(
        attributes.correlation_id(),
        Some("req-1"),
        "the request id, without a correlation id"
    );
}

#[test]
fn the_request_correlation_id_wins_but_the_handler_s_own_ids_are_kept() {
    let reply_to = ReplyTo {
        correlation_id: Some("conversation-9"),
        ..REPLY_TO
    };
    let reply = reply_to.stamp(Message::new("ok"), Duration::ZERO);
    assert_eq!(reply.attributes().correlation_id(), Some("conversation-9"));

    let own = Message::builder()
        .correlation_id("mine")
        .causation_id("cause")
        .build()
        .unwrap();
    let reply = reply_to.stamp(own, Duration::ZERO);
    assert_eq!(reply.attributes().correlation_id(), Some("mine"));
    assert_eq!(reply.attributes().causation_id(), Some("cause"));
}

#[test]
fn the_request_metadata_replaces_what_the_sender_claimed() {
    let mut request = Message::builder()
        .attribute(attr::SESSION, "someone-else")
        .build()
        .unwrap();
    stamp_request(&mut request, "tcp", "7");
    assert_eq!(request.attributes().get(attr::SESSION), Some("7"));
    assert_eq!(request.attributes().get(attr::CHANNEL), Some("tcp"));
}

#[test]
fn error_and_done_replies() {
    let error = UserError::bad_request("no `type`").to_message();
    assert_eq!(error.attributes().message_type(), Some(ERROR_TYPE));
    assert_eq!(error.attributes().get(attr::ERROR), Some("bad_request"));
    let body: serde_json::Value = error.decode().unwrap();
    assert_eq!(
        body,
        serde_json::json!({"category": "bad_request", "message": "no `type`"})
    );

    let internal = UserError::generic(ErrorCategory::Internal).to_message();
    assert_eq!(internal.attributes().get(attr::ERROR), Some("internal"));

    let done = done();
    assert_eq!(done.attributes().message_type(), Some(DONE_TYPE));
    assert!(done.payload().is_empty());
}
