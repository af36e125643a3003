//! Round trips through in-process channels: replies go back to the channel and session
//! they came from, with the session metadata; `send_to` and registration errors.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use switchyard_core::{AckSink, AckState, Acker, Message, NackCause, handler_fn};
use switchyard_engine::gateway::{
    Gateway, GatewayError, InProcessChannel, Outgoing,
    reply::{DONE_TYPE, attr},
};
use tokio::sync::{Semaphore, mpsc, oneshot};

use super::support::{attribute, echo, request, within};

#[tokio::test]
async fn a_message_makes_a_round_trip() {
    let gateway = echo().build().unwrap();
    let (channel, mut handle) = InProcessChannel::new("local", 8).unwrap();
    gateway.register(channel).await.unwrap();

    let ping = Message::builder()
        .message_type("ping")
        .payload("hello")
        .correlation_id("conversation-1")
        .build()
        .unwrap();
    let id = ping.attributes().id().unwrap().to_owned();
    within(handle.send("alice", ping.clone())).await.unwrap();
    let reply = within(handle.recv()).await.expect("a reply");

    assert_eq!(reply.session(), "alice");
    assert_eq!(reply.message().attributes().message_type(), Some("pong"));
    assert_eq!(reply.message().payload(), "hello");
    assert_eq!(attribute(&reply, attr::CHANNEL), Some("local"));
    assert_eq!(attribute(&reply, attr::SESSION), Some("alice"));
    assert!(attribute(&reply, attr::DURATION_MS).is_some());
    assert_eq!(
        reply.message().attributes().causation_id(),
        Some(id.as_str())
    );
    assert_eq!(
        reply.message().attributes().correlation_id(),
        Some("conversation-1")
    );
    assert_eq!(ping.acker().state(), AckState::Acked, "answered, so acked");

    assert!(
        within(gateway.shutdown(Duration::from_secs(5)))
            .await
            .is_clean()
    );
}

#[tokio::test]
async fn replies_go_back_to_the_originating_channel_and_session() {
    // The handler answers with where it thinks the request came from, as the gateway told
    // it through the request's attributes.
    let gateway = Gateway::builder()
        .handler(handler_fn(|request: Message| async move {
            let attributes = request.attributes();
            let from = format!(
                "{}/{}/{}",
                attributes.get(attr::CHANNEL).unwrap_or("?"),
                attributes.get(attr::SESSION).unwrap_or("?"),
                String::from_utf8_lossy(request.payload()),
            );
            Ok(vec![
                Message::builder()
                    .message_type("from")
                    .payload(from)
                    .build()?,
            ])
        }))
        .build()
        .unwrap();
    let (a, mut handle_a) = InProcessChannel::new("a", 64).unwrap();
    let (b, mut handle_b) = InProcessChannel::new("b", 64).unwrap();
    gateway.register(a).await.unwrap();
    gateway.register(b).await.unwrap();
    assert_eq!(gateway.channel_names(), ["a", "b"]);

    let sessions = ["s1", "s2", "s3"];
    for n in 0..4 {
        for session in sessions {
            // A sender cannot pass itself off as another session.
            let spoofed = Message::builder()
                .message_type("who")
                .payload(n.to_string())
                .attribute(attr::SESSION, "s-other")
                .attribute(attr::CHANNEL, "z")
                .build()
                .unwrap();
            within(handle_a.send(session, spoofed)).await.unwrap();
            within(handle_b.send(session, request("who", &n.to_string())))
                .await
                .unwrap();
        }
    }

    for (name, handle) in [("a", &mut handle_a), ("b", &mut handle_b)] {
        let mut seen = Vec::new();
        for _ in 0..4 * sessions.len() {
            let reply: Outgoing = within(handle.recv()).await.expect("a reply");
            let payload = String::from_utf8(reply.message().payload().to_vec()).unwrap();
            let (channel, rest) = payload.split_once('/').unwrap();
            let (session, _n) = rest.split_once('/').unwrap();
            assert_eq!(channel, name, "the reply went to the channel it came from");
            assert_eq!(session, reply.session(), "and to the session it came from");
            assert_eq!(attribute(&reply, attr::SESSION), Some(reply.session()));
            assert_eq!(attribute(&reply, attr::CHANNEL), Some(name));
            seen.push(payload);
        }
        seen.sort();
        let mut expected: Vec<String> = (0..4)
            .flat_map(|n| sessions.map(|session| format!("{name}/{session}/{n}")))
            .collect();
        expected.sort();
        assert_eq!(seen, expected);
        assert!(handle.try_recv().is_none(), "nothing more");
    }
    assert!(
        within(gateway.shutdown(Duration::from_secs(5)))
            .await
            .is_clean()
    );
}

#[tokio::test]
async fn a_handler_without_output_still_answers() {
    let gateway = Gateway::builder()
        .handler(handler_fn(|_request: Message| async { Ok(vec![]) }))
        .build()
        .unwrap();
    let (channel, mut handle) = InProcessChannel::new("local", 8).unwrap();
    gateway.register(channel).await.unwrap();
    within(handle.send("s", request("fire-and-forget", "")))
        .await
        .unwrap();
    let reply = within(handle.recv()).await.unwrap();
    assert_eq!(reply.message().attributes().message_type(), Some(DONE_TYPE));
    assert_eq!(attribute(&reply, attr::SESSION), Some("s"));
}

#[tokio::test]
async fn several_outputs_are_several_replies() {
    let gateway = Gateway::builder()
        .handler(handler_fn(|_request: Message| async {
            Ok(vec![Message::new("one"), Message::new("two")])
        }))
        .build()
        .unwrap();
    let (channel, mut handle) = InProcessChannel::new("local", 8).unwrap();
    gateway.register(channel).await.unwrap();
    within(handle.send("s", request("two", ""))).await.unwrap();
    let first = within(handle.recv()).await.unwrap();
    let second = within(handle.recv()).await.unwrap();
    assert_eq!(
        [first.message().payload(), second.message().payload()],
        ["one", "two"]
    );
}

#[tokio::test]
async fn send_to_reaches_a_registered_channel_and_an_unknown_one_is_a_typed_error() {
    let gateway = echo().build().unwrap();
    let (channel, mut handle) = InProcessChannel::new("local", 8).unwrap();
    gateway.register(channel).await.unwrap();

    gateway
        .send_to("local", Outgoing::new("bob", Message::new("push")))
        .await
        .unwrap();
    let pushed = within(handle.recv()).await.unwrap();
    assert_eq!(
        (pushed.session(), pushed.message().payload().as_ref()),
        ("bob", &b"push"[..])
    );

    let err = gateway
        .send_to("telegram", Outgoing::new("bob", Message::new("push")))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, GatewayError::UnknownChannel { channel } if channel == "telegram"),
        "{err:?}"
    );
}

#[tokio::test]
async fn registration_errors_are_typed() {
    let gateway = echo().max_channels(2).build().unwrap();
    let channel = |name: &str| InProcessChannel::new(name, 1).unwrap().0;
    gateway.register(channel("a")).await.unwrap();

    let err = gateway.register(channel("a")).await.unwrap_err();
    assert!(
        matches!(err, GatewayError::DuplicateChannel { .. }),
        "{err:?}"
    );
    for bad in ["", "has space", "ünïcode", &"x".repeat(65)] {
        let err = gateway.register(channel(bad)).await.unwrap_err();
        assert!(
            matches!(err, GatewayError::InvalidChannelName { .. }),
            "{bad:?}: {err:?}"
        );
    }
    gateway.register(channel("b")).await.unwrap();
    let err = gateway.register(channel("c")).await.unwrap_err();
    assert!(
        matches!(err, GatewayError::TooManyChannels { limit: 2 }),
        "{err:?}"
    );

    within(gateway.shutdown(Duration::from_secs(5))).await;
    let err = gateway.register(channel("d")).await.unwrap_err();
    assert!(matches!(err, GatewayError::ShuttingDown), "{err:?}");
}

#[test]
fn settings_are_validated_on_build() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let check = |builder: switchyard_engine::gateway::GatewayBuilder, setting: &str| {
        let _inside = runtime.enter();
        match builder.build() {
            Err(GatewayError::InvalidConfig { setting: got, .. }) => assert_eq!(got, setting),
            other => panic!("{setting}: {other:?}"),
        }
    };
    check(Gateway::builder(), "handler");
    check(echo().max_in_flight(0), "max_in_flight");
    check(echo().inbox_capacity(0), "inbox_capacity");
    check(echo().max_channels(0), "max_channels");
    check(echo().request_timeout(Duration::ZERO), "request_timeout");
    check(echo().send_timeout(Duration::ZERO), "send_timeout");

    // Outside a runtime there is nothing to run the dispatcher on: an error, not a panic.
    assert!(matches!(echo().build(), Err(GatewayError::NoRuntime)));
}

/// Tells the test whether its request was acked (`true`) or nacked.
struct Settled(Mutex<Option<oneshot::Sender<bool>>>);

impl Settled {
    fn acker() -> (Acker, oneshot::Receiver<bool>) {
        let (tell, told) = oneshot::channel();
        (Acker::new(Self(Mutex::new(Some(tell)))), told)
    }

    fn tell(&self, acked: bool) {
        if let Some(tell) = self.0.lock().unwrap().take() {
            let _ = tell.send(acked);
        }
    }
}

impl AckSink for Settled {
    fn ack(&self) {
        self.tell(true);
    }

    fn nack(&self, _cause: NackCause) {
        self.tell(false);
    }
}

/// A channel unregistered while one of its requests is in the handler, then replaced by
/// another channel of the same name: the reply belongs to the old channel's session, so it
/// is dropped and its request nacked. It must never reach whoever holds a session of the
/// same name on the new channel (TCP sessions are numbered from 1 on every channel).
#[tokio::test(start_paused = true)]
async fn a_reply_never_reaches_a_channel_registered_later_under_the_same_name() {
    let gate = Arc::new(Semaphore::new(0));
    let (entered_tx, mut entered) = mpsc::channel::<()>(4);
    let handler = {
        let gate = Arc::clone(&gate);
        handler_fn(move |request: Message| {
            let (gate, entered) = (Arc::clone(&gate), entered_tx.clone());
            async move {
                let _ = entered.send(()).await;
                gate.acquire().await.expect("the gate stays open").forget();
                Ok(vec![Message::new(request.payload().clone())])
            }
        })
    };
    let gateway = Gateway::builder().handler(handler).build().unwrap();
    let (old, old_handle) = InProcessChannel::new("chat", 8).unwrap();
    gateway.register(old).await.unwrap();
    let (acker, settled) = Settled::acker();
    let secret = request("ping", "for the old session 1 only").with_acker(acker);
    within(old_handle.send("1", secret)).await.unwrap();
    within(entered.recv()).await.expect("the handler started");

    within(gateway.unregister("chat", Duration::from_secs(1)))
        .await
        .unwrap();
    let (new, mut new_handle) = InProcessChannel::new("chat", 8).unwrap();
    gateway.register(new).await.unwrap();
    gate.add_permits(1);
    let acked = within(settled).await.expect("the request is settled");
    assert!(
        !acked,
        "its channel is gone: the reply is dropped, the request nacked"
    );
    assert!(
        new_handle.try_recv().is_none(),
        "the old session's reply reached the new channel"
    );

    // The new channel gets its own replies.
    within(new_handle.send("1", request("ping", "mine")))
        .await
        .unwrap();
    gate.add_permits(1);
    let reply = within(new_handle.recv()).await.expect("a reply");
    assert_eq!(reply.message().payload(), "mine");
    assert!(
        within(gateway.shutdown(Duration::from_secs(5)))
            .await
            .is_clean()
    );
}

/// A reply queue larger than a tokio channel can hold is refused with a typed error, not a
/// panic inside tokio.
#[test]
fn an_in_process_reply_capacity_too_large_is_refused_not_a_panic() {
    for capacity in [Semaphore::MAX_PERMITS + 1, usize::MAX] {
        let err = InProcessChannel::new("local", capacity).unwrap_err();
        assert!(
            matches!(
                err,
                GatewayError::InvalidConfig {
                    setting: "reply_capacity",
                    ..
                }
            ),
            "{capacity}: {err:?}"
        );
    }
    assert!(InProcessChannel::new("local", Semaphore::MAX_PERMITS).is_ok());
}

/// A channel name given to the gateway reaches its errors redacted and bounded, whether it
/// names no channel or breaks the naming rules: it may be outside text (a reply-to channel
/// carried by a message), or a name derived from a connection URL.
#[tokio::test]
async fn errors_never_carry_a_credential_or_unbounded_text_from_a_channel_name() {
    let gateway = echo().build().unwrap();
    let long = format!("redis://app:hunter2@cache/{}", "x".repeat(10_000));
    for name in ["redis://app:hunter2@cache", long.as_str()] {
        let sent = gateway
            .send_to(name, Outgoing::new("s", Message::new("x")))
            .await
            .unwrap_err();
        let unregistered = gateway
            .unregister(name, Duration::from_secs(1))
            .await
            .unwrap_err();
        let registered = gateway
            .register(InProcessChannel::new(name, 1).unwrap().0)
            .await
            .unwrap_err();
        for err in [sent, unregistered, registered] {
            let text = err.to_string();
            assert!(!text.contains("hunter2"), "a credential: {text}");
            assert!(text.len() < 256, "unbounded: {} bytes", text.len());
        }
    }
    within(gateway.shutdown(Duration::from_secs(5))).await;
}
