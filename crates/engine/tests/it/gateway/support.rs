//! Helpers shared by the gateway tests.

use std::{future::Future, time::Duration};

use switchyard_core::{Message, handler_fn};
use switchyard_engine::gateway::{Gateway, GatewayBuilder, Outgoing};

/// Anything that could hang is bounded by this, so that a hang fails the test.
pub(super) const DEADLINE: Duration = Duration::from_secs(10);

/// Awaits `future`, failing the test if it takes longer than [`DEADLINE`].
pub(super) async fn within<F: Future>(future: F) -> F::Output {
    match tokio::time::timeout(DEADLINE, future).await {
        Ok(output) => output,
        Err(_) => panic!("did not finish within {DEADLINE:?}"),
    }
}

/// A request of `message_type` with `payload`.
pub(super) fn request(message_type: &str, payload: &str) -> Message {
    Message::builder()
        .message_type(message_type)
        .payload(payload.to_owned())
        .build()
        .expect("a valid request")
}

/// A gateway builder whose handler answers each request with one `pong` carrying the
/// request's payload.
pub(super) fn echo() -> GatewayBuilder {
    Gateway::builder().handler(handler_fn(|request: Message| async move {
        let pong = Message::builder()
            .message_type("pong")
            .payload(request.payload().clone())
            .build()?;
        Ok(vec![pong])
    }))
}

/// An attribute of a reply.
pub(super) fn attribute<'a>(reply: &'a Outgoing, name: &str) -> Option<&'a str> {
    reply.message().attributes().get(name)
}

/// The reported duration of a reply, in milliseconds.
pub(super) fn duration_ms(reply: &Outgoing) -> u64 {
    attribute(reply, switchyard_engine::gateway::reply::attr::DURATION_MS)
        .expect("every reply carries its duration")
        .parse()
        .expect("a whole number of milliseconds")
}
