//! Failures become error replies with a user-facing category and a message that carries
//! no internals.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use serde_json::{Value, json};
use switchyard_core::{AckState, Error, Limits, Message, handler_fn};
use switchyard_engine::gateway::{
    Gateway, GatewayBuilder, InProcessChannel, InProcessHandle,
    reply::{ERROR_TYPE, attr},
};
use switchyard_routing::router::Router;

use super::support::{attribute, counting, paused_runtime, request, within};

/// A handler that fails as the request's type says.
fn failing() -> Gateway {
    Gateway::builder()
        .handler(handler_fn(|request: Message| async move {
            match request.attributes().message_type().unwrap_or_default() {
                "bad" => Err(Error::MissingAttribute { name: "subject" }),
                "decode" => request.decode::<u32>().map(|_| vec![]),
                "busy" => Err(Error::transient_handler("db pool exhausted")),
                "closed" => Err(Error::Closed { component: "bus" }),
                "secret" => Err(Error::permanent_handler(
                    "query on postgres://app:hunter2@db failed",
                )),
                "panic" => panic!("boom"),
                "slow" => {
                    tokio::time::sleep(Duration::from_secs(60)).await;
                    Ok(vec![])
                }
                _ => Ok(vec![Message::new("fine")]),
            }
        }))
        .request_timeout(Duration::from_secs(1))
        .limits(Limits::new().with_max_payload_bytes(16))
        .build()
        .unwrap()
}

/// Sends `message` and checks that the reply is an error of `category` whose message
/// starts with `message_start`, and that the request was answered (acked).
async fn check(
    handle: &mut InProcessHandle,
    message: Message,
    category: &str,
    message_start: &str,
) {
    let label = format!("{:?}", message.attributes().message_type());
    within(handle.send("s", message.clone())).await.unwrap();
    let reply = within(handle.recv()).await.unwrap();
    assert_eq!(
        reply.message().attributes().message_type(),
        Some(ERROR_TYPE),
        "{label}"
    );
    assert_eq!(attribute(&reply, attr::ERROR), Some(category), "{label}");
    assert_eq!(attribute(&reply, attr::SESSION), Some("s"), "{label}");
    let body: Value = reply.message().decode().unwrap();
    assert_eq!(body["category"], category, "{label}");
    let text = body["message"].as_str().unwrap();
    assert!(text.starts_with(message_start), "{label}: {text}");
    assert!(
        !text.contains("hunter2") && !text.contains("postgres"),
        "{label}: {text}"
    );
    assert_eq!(
        message.acker().state(),
        AckState::Acked,
        "{label}: an error reply answers it"
    );
}

#[tokio::test(start_paused = true)]
async fn failures_are_classified_into_user_facing_categories() {
    let gateway = failing();
    let (channel, mut handle) = InProcessChannel::new("local", 8).unwrap();
    gateway.register(channel).await.unwrap();
    let h = &mut handle;

    check(
        h,
        request("bad", ""),
        "bad_request",
        "missing required attribute `subject`",
    )
    .await;
    check(
        h,
        request("decode", "seven"),
        "bad_request",
        "cannot decode payload: expected value",
    )
    .await;
    check(
        h,
        request("busy", ""),
        "unavailable",
        "the service is temporarily unavailable",
    )
    .await;
    check(
        h,
        request("closed", ""),
        "unavailable",
        "the service is temporarily unavailable",
    )
    .await;
    check(h, request("secret", ""), "internal", "internal error").await;
    check(h, request("panic", ""), "internal", "internal error").await;
    check(h, request("slow", ""), "timeout", "the request timed out").await;
    let large = request("fine", &"x".repeat(17));
    check(
        h,
        large,
        "bad_request",
        "payload is 17 bytes, over the limit of 16 bytes",
    )
    .await;

    // After all that, the gateway still works.
    within(handle.send("s", request("fine", ""))).await.unwrap();
    let reply = within(handle.recv()).await.unwrap();
    assert_eq!(reply.message().payload(), "fine");
    assert!(
        within(gateway.shutdown(Duration::from_secs(5)))
            .await
            .is_clean()
    );
}

#[tokio::test]
async fn a_router_target_answers_unknown_types_with_bad_request() {
    let router = Router::builder()
        .handle(
            "greet",
            handler_fn(|_request: Message| async {
                Ok(vec![
                    Message::builder()
                        .json(&json!({"hello": "world"}))
                        .build()?,
                ])
            }),
        )
        .unwrap()
        .build();
    let gateway = Gateway::builder().router(router).build().unwrap();
    let (channel, mut handle) = InProcessChannel::new("local", 8).unwrap();
    gateway.register(channel).await.unwrap();

    within(handle.send("s", request("greet", "")))
        .await
        .unwrap();
    let reply = within(handle.recv()).await.unwrap();
    assert_eq!(
        reply.message().decode::<Value>().unwrap(),
        json!({"hello": "world"})
    );

    check(
        &mut handle,
        request("nope", ""),
        "bad_request",
        "no handler for message type `nope`",
    )
    .await;
    check(
        &mut handle,
        Message::new("untyped"),
        "bad_request",
        "the message has no `type` attribute",
    )
    .await;
}

/// `Duration::MAX` as the request timeout means "no limit": a handler far slower than the
/// default timeout is answered normally, and nothing panics computing the deadline.
#[tokio::test(start_paused = true)]
async fn an_unbounded_request_timeout_never_times_a_request_out() {
    let slow = GatewayBuilder::DEFAULT_REQUEST_TIMEOUT * 10;
    let gateway = Gateway::builder()
        .handler(handler_fn(move |request: Message| async move {
            tokio::time::sleep(slow).await;
            Ok(vec![Message::new(request.payload().clone())])
        }))
        .request_timeout(Duration::MAX)
        .build()
        .expect("the request timeout only has to be non-zero");
    let (channel, mut handle) = InProcessChannel::new("local", 8).unwrap();
    gateway.register(channel).await.unwrap();
    let message = request("slow", "late but fine");
    within(handle.send("s", message.clone())).await.unwrap();

    // Longer than `within` allows: the handler takes ten default timeouts.
    let reply = tokio::time::timeout(slow * 2, handle.recv())
        .await
        .expect("answered: the message task did not panic on its deadline")
        .expect("a reply");
    assert_eq!(reply.message().payload(), "late but fine");
    assert_eq!(attribute(&reply, attr::ERROR), None);
    assert_eq!(message.acker().state(), AckState::Acked);
    assert!(
        within(gateway.shutdown(Duration::from_secs(5)))
            .await
            .is_clean()
    );
}

/// A request whose deadline passed while it waited in the inbox is answered with the same
/// `timeout` error as one whose handler ran out of time, and its handler is never called:
/// the handler's side effects would begin for a request the user was told timed out.
#[test]
fn a_request_expired_before_its_turn_never_reaches_the_handler() {
    let (called, counts) = counting(paused_runtime(), async {
        let called = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&called);
        // A handler that records each call before anything else, so that one polled once
        // is recorded. `hold` never returns: it keeps the only permit to its deadline.
        let gateway = Gateway::builder()
            .handler(handler_fn(move |request: Message| {
                let kind = request.attributes().message_type().map(str::to_owned);
                seen.lock().unwrap().push(kind.clone());
                async move {
                    if kind.as_deref() == Some("hold") {
                        futures::future::pending::<()>().await;
                    }
                    Ok(vec![])
                }
            }))
            .max_in_flight(1)
            .request_timeout(Duration::from_secs(1))
            .build()
            .unwrap();
        let (channel, mut handle) = InProcessChannel::new("local", 8).unwrap();
        gateway.register(channel).await.unwrap();

        // Both received at the same instant (the clock is paused): `late` waits for the
        // permit that `hold` keeps until their common deadline.
        let late = request("late", "");
        within(handle.send("s", request("hold", ""))).await.unwrap();
        within(handle.send("s", late.clone())).await.unwrap();
        for _ in 0..2 {
            let reply = within(handle.recv()).await.unwrap();
            assert_eq!(attribute(&reply, attr::ERROR), Some("timeout"));
        }
        assert_eq!(
            late.acker().state(),
            AckState::Acked,
            "a timeout answers it"
        );
        assert!(
            within(gateway.shutdown(Duration::from_secs(5)))
                .await
                .is_clean()
        );
        called.lock().unwrap().clone()
    });
    assert_eq!(called, [Some("hold".to_owned())]);
    assert_eq!(counts.get("switchyard_gateway_requests_expired_total"), 1);
}
