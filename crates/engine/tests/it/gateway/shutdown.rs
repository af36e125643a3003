//! Stopping one channel, and the whole gateway: draining within the deadline, abandoning
//! (and nacking) what misses it, reporting channels that do not stop, and (in `starting`)
//! channels whose start is still in progress.

mod starting;

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use switchyard_core::{AckState, Handler, Message, Result, handler_fn};
use switchyard_engine::gateway::{
    Channel, ChannelStop, ChannelTask, Gateway, GatewayError, InProcessChannel, InboxSender,
    Outgoing,
};
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

use super::support::{echo, request, within};

/// A handler that echoes each request once `gate` gives it a permit, and says on `entered`
/// that it started: the test holds requests in flight as long as it likes.
fn gated_echo() -> (Arc<Semaphore>, mpsc::Receiver<()>, impl Handler + 'static) {
    let gate = Arc::new(Semaphore::new(0));
    let (entered_tx, entered) = mpsc::channel::<()>(8);
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
    (gate, entered, handler)
}

/// How a [`TestChannel`] reacts to its shutdown.
#[derive(Clone, Copy)]
enum Behaviour {
    /// Returns.
    Polite,
    /// Ignores it.
    Stubborn,
    /// Panics.
    Panicking,
}

struct TestChannel {
    name: &'static str,
    behaviour: Behaviour,
}

#[async_trait]
impl Channel for TestChannel {
    fn name(&self) -> &str {
        self.name
    }

    async fn start(&self, _inbox: InboxSender, shutdown: CancellationToken) -> Result<ChannelTask> {
        let behaviour = self.behaviour;
        Ok(Box::pin(async move {
            shutdown.cancelled().await;
            match behaviour {
                Behaviour::Polite => {}
                Behaviour::Stubborn => futures::future::pending::<()>().await,
                Behaviour::Panicking => panic!("a channel bug"),
            }
        }))
    }

    async fn send(&self, _outgoing: Outgoing) -> Result<()> {
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn each_channel_stops_within_its_own_timeout() {
    let gateway = echo().build().unwrap();
    let cases = [
        ("polite", Behaviour::Polite, ChannelStop::Stopped),
        ("stubborn", Behaviour::Stubborn, ChannelStop::TimedOut),
        ("panicking", Behaviour::Panicking, ChannelStop::Panicked),
    ];
    for (name, behaviour, _) in cases {
        gateway
            .register(TestChannel { name, behaviour })
            .await
            .unwrap();
    }
    for (name, _, expected) in cases {
        let stop = within(gateway.unregister(name, Duration::from_secs(2)))
            .await
            .unwrap();
        assert_eq!(stop, expected, "{name}");
    }
    assert!(gateway.channel_names().is_empty());
    let err = gateway
        .unregister("polite", Duration::from_secs(1))
        .await
        .unwrap_err();
    assert!(
        matches!(err, GatewayError::UnknownChannel { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn stopping_one_channel_leaves_the_others_running() {
    let gateway = echo().build().unwrap();
    let (a, handle_a) = InProcessChannel::new("a", 8).unwrap();
    let (b, mut handle_b) = InProcessChannel::new("b", 8).unwrap();
    gateway.register(a).await.unwrap();
    gateway.register(b).await.unwrap();

    let stop = within(gateway.unregister("a", Duration::from_secs(5)))
        .await
        .unwrap();
    assert_eq!(stop, ChannelStop::Stopped);
    assert_eq!(gateway.channel_names(), ["b"]);
    let refused = within(handle_a.send("s", request("ping", "lost")))
        .await
        .unwrap_err();
    assert_eq!(
        refused.into_message().payload(),
        "lost",
        "the message is given back"
    );
    let err = gateway
        .send_to("a", Outgoing::new("s", Message::new("x")))
        .await
        .unwrap_err();
    assert!(
        matches!(err, GatewayError::UnknownChannel { .. }),
        "{err:?}"
    );

    within(handle_b.send("s", request("ping", "still here")))
        .await
        .unwrap();
    let reply = within(handle_b.recv()).await.unwrap();
    assert_eq!(reply.message().payload(), "still here");

    // The name is free again.
    let (again, mut handle_again) = InProcessChannel::new("a", 8).unwrap();
    gateway.register(again).await.unwrap();
    within(handle_again.send("s", request("ping", "back")))
        .await
        .unwrap();
    assert_eq!(
        within(handle_again.recv())
            .await
            .unwrap()
            .message()
            .payload(),
        "back"
    );
}

#[tokio::test(start_paused = true)]
async fn shutdown_drains_what_was_received_and_reports_it() {
    let (gate, mut entered, handler) = gated_echo();
    let gateway = Gateway::builder()
        .handler(handler)
        .max_in_flight(1)
        .build()
        .unwrap();
    let (channel, mut handle) = InProcessChannel::new("local", 8).unwrap();
    gateway.register(channel).await.unwrap();
    gateway
        .register(TestChannel {
            name: "stubborn",
            behaviour: Behaviour::Stubborn,
        })
        .await
        .unwrap();

    let requests: Vec<Message> = (0..3).map(|n| request("work", &n.to_string())).collect();
    for message in &requests {
        within(handle.send("s", message.clone())).await.unwrap();
    }
    within(entered.recv())
        .await
        .expect("the first handler started");

    let shutdown = gateway.shutdown(Duration::from_secs(5));
    tokio::pin!(shutdown);
    // One poll starts the shutdown; it then waits for the gated handlers.
    assert!(futures::poll!(&mut shutdown).is_pending());
    assert!(gateway.is_shutting_down());
    let refused = handle.send("s", request("work", "late")).await.unwrap_err();
    assert_eq!(
        refused.message().payload(),
        "late",
        "no new message is taken"
    );

    gate.add_permits(3);
    let report = within(&mut shutdown).await;
    assert_eq!(report.drained(), 3, "{report:?}");
    assert_eq!(report.abandoned(), 0);
    assert_eq!(
        report.channels(),
        [
            ("local".to_owned(), ChannelStop::Stopped),
            ("stubborn".to_owned(), ChannelStop::TimedOut)
        ]
    );
    assert_eq!(report.not_stopped().collect::<Vec<_>>(), ["stubborn"]);
    assert!(!report.is_clean());

    let mut payloads = Vec::new();
    for _ in 0..3 {
        payloads.push(
            within(handle.recv())
                .await
                .unwrap()
                .message()
                .payload()
                .clone(),
        );
    }
    assert_eq!(
        payloads,
        ["0", "1", "2"],
        "every received message was answered"
    );
    assert!(
        requests
            .iter()
            .all(|message| message.acker().state() == AckState::Acked)
    );

    assert!(gateway.channel_names().is_empty());
    assert_eq!(
        within(gateway.shutdown(Duration::from_secs(1))).await,
        report,
        "stopping twice is fine"
    );
}

#[tokio::test(start_paused = true)]
async fn what_misses_the_deadline_is_abandoned_and_nacked() {
    let gateway = Gateway::builder()
        .handler(handler_fn(|_request: Message| futures::future::pending()))
        .max_in_flight(1)
        .build()
        .unwrap();
    let (channel, handle) = InProcessChannel::new("local", 8).unwrap();
    gateway.register(channel).await.unwrap();
    let requests: Vec<Message> = (0..2).map(|n| request("stuck", &n.to_string())).collect();
    for message in &requests {
        within(handle.send("s", message.clone())).await.unwrap();
    }

    let report = within(gateway.shutdown(Duration::from_secs(1))).await;
    // One was in its handler, one waited for the permit.
    assert_eq!((report.drained(), report.abandoned()), (0, 2), "{report:?}");
    assert_eq!(report.unresponsive_tasks(), 0);
    assert_eq!(
        report.channels(),
        [("local".to_owned(), ChannelStop::Stopped)]
    );
    assert!(!report.is_clean());
    assert!(
        requests
            .iter()
            .all(|message| message.acker().state() == AckState::Nacked)
    );
    assert_eq!(gateway.in_flight(), 0);
}

/// With every message in its handler and none waiting for a permit, the dispatcher is done
/// before the deadline: the shutdown abandons the handlers, and does not poll the
/// dispatcher's finished task again (tokio panics on that).
#[tokio::test(start_paused = true)]
async fn a_deadline_missed_only_by_handlers_abandons_them_without_a_panic() {
    let (_gate, mut entered, handler) = gated_echo();
    let gateway = Gateway::builder().handler(handler).build().unwrap();
    let (channel, handle) = InProcessChannel::new("local", 8).unwrap();
    gateway.register(channel).await.unwrap();
    let stuck = request("stuck", "");
    within(handle.send("s", stuck.clone())).await.unwrap();
    within(entered.recv()).await.expect("the handler started");

    let report = within(gateway.shutdown(Duration::from_secs(1))).await;
    assert_eq!((report.drained(), report.abandoned()), (0, 1), "{report:?}");
    assert_eq!(report.not_stopped().count(), 0, "{report:?}");
    assert_eq!(stuck.acker().state(), AckState::Nacked);
}

/// `Duration::MAX` means "no limit" for `shutdown` and `unregister` (and, here, for the
/// request): they wait for what they wait for, and nothing panics adding the timeout to
/// the clock.
#[tokio::test(start_paused = true)]
async fn unbounded_timeouts_wait_without_limit() {
    let (gate, mut entered, handler) = gated_echo();
    let gateway = Gateway::builder()
        .handler(handler)
        .request_timeout(Duration::MAX)
        .build()
        .unwrap();
    let (one, _one) = InProcessChannel::new("one", 8).unwrap();
    gateway.register(one).await.unwrap();
    let stop = within(gateway.unregister("one", Duration::MAX))
        .await
        .unwrap();
    assert_eq!(stop, ChannelStop::Stopped);

    let (channel, mut handle) = InProcessChannel::new("local", 8).unwrap();
    gateway.register(channel).await.unwrap();
    let message = request("work", "slow");
    within(handle.send("s", message.clone())).await.unwrap();
    within(entered.recv()).await.expect("the handler started");
    let shutdown = gateway.shutdown(Duration::MAX);
    tokio::pin!(shutdown);
    assert!(futures::poll!(&mut shutdown).is_pending());
    // An hour later, well past any default, the shutdown still waits for the handler.
    tokio::time::advance(Duration::from_secs(3600)).await;
    assert!(futures::poll!(&mut shutdown).is_pending());

    gate.add_permits(1);
    let report = within(&mut shutdown).await;
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(report.drained(), 1);
    assert_eq!(
        within(handle.recv()).await.unwrap().message().payload(),
        "slow"
    );
    assert_eq!(message.acker().state(), AckState::Acked);
}
