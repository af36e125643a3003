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

/// A shutdown whose caller gives up on it (a timeout around it, a `select!` that takes
/// another branch) is neither cancelled half-way nor redone from the middle by the next
/// call: the next call still waits for every received message to be answered before the
/// channels stop, and reports them.
#[tokio::test(start_paused = true)]
async fn a_shutdown_given_up_by_its_caller_still_drains_everything() {
    let (gate, mut entered, handler) = gated_echo();
    let gateway = Gateway::builder()
        .handler(handler)
        .max_in_flight(1)
        .build()
        .unwrap();
    let (channel, mut handle) = InProcessChannel::new("local", 8).unwrap();
    gateway.register(channel).await.unwrap();
    let requests: Vec<Message> = (0..3).map(|n| request("work", &n.to_string())).collect();
    for message in &requests {
        within(handle.send("s", message.clone())).await.unwrap();
    }
    within(entered.recv())
        .await
        .expect("the first handler started");

    {
        let given_up = gateway.shutdown(Duration::from_secs(5));
        tokio::pin!(given_up);
        assert!(futures::poll!(&mut given_up).is_pending());
    }
    // The handlers are let through one at a time, each once it started, while the next
    // call runs: it must not end while one of them is still in flight.
    gate.add_permits(1);
    let next = gateway.shutdown(Duration::from_secs(5));
    tokio::pin!(next);
    let mut held = 2;
    let report = within(async {
        loop {
            tokio::select! {
                biased;
                report = &mut next => break report,
                Some(()) = entered.recv(), if held > 0 => {
                    held -= 1;
                    gate.add_permits(1);
                }
            }
        }
    })
    .await;
    assert_eq!(
        report.channels(),
        [("local".to_owned(), ChannelStop::Stopped)]
    );
    let mut payloads = Vec::new();
    while let Some(reply) = handle.try_recv() {
        payloads.push(reply.message().payload().clone());
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
    assert_eq!((report.drained(), report.abandoned()), (3, 0), "{report:?}");
}

/// A shutdown called once the gateway's runtime is gone cannot run its task there: it
/// returns a report that is not clean, rather than panicking or waiting forever.
#[test]
fn a_shutdown_after_its_runtime_is_gone_reports_not_clean() {
    let built_on = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let gateway = built_on.block_on(async { echo().build() }).unwrap();
    drop(built_on);
    let caller = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap();
    let report = caller.block_on(within(gateway.shutdown(Duration::from_secs(1))));
    assert!(!report.is_clean(), "{report:?}");
    assert!(gateway.is_shutting_down());
}

/// A channel whose task ignores its token, and tells the test through `alive` when the task
/// is dropped.
struct Watched {
    alive: std::sync::Mutex<Option<tokio::sync::oneshot::Sender<()>>>,
}

#[async_trait]
impl Channel for Watched {
    fn name(&self) -> &str {
        "watched"
    }

    async fn start(
        &self,
        _inbox: InboxSender,
        _shutdown: CancellationToken,
    ) -> Result<ChannelTask> {
        let alive = self.alive.lock().unwrap().take();
        Ok(Box::pin(async move {
            let _alive = alive;
            futures::future::pending::<()>().await;
        }))
    }

    async fn send(&self, _outgoing: Outgoing) -> Result<()> {
        Ok(())
    }
}

/// An `unregister` given up while it waits for a channel that ignores its token (its
/// future dropped) does not leave that channel's task running with nobody left to stop it:
/// the task is aborted, as at the end of the timeout.
#[tokio::test(start_paused = true)]
async fn an_unregister_given_up_part_way_leaves_no_channel_task_behind() {
    let gateway = echo().build().unwrap();
    let (alive, gone) = tokio::sync::oneshot::channel();
    gateway
        .register(Watched {
            alive: std::sync::Mutex::new(Some(alive)),
        })
        .await
        .unwrap();
    {
        let unregister = gateway.unregister("watched", Duration::from_secs(3600));
        tokio::pin!(unregister);
        assert!(futures::poll!(&mut unregister).is_pending());
    }
    assert!(gateway.channel_names().is_empty());
    within(gone)
        .await
        .expect_err("the channel's task is dropped");
}

/// A shutdown without a time limit, given up by its caller, and then the last handle
/// dropped: as for a gateway dropped without a shutdown, its tasks end (the message in
/// flight is abandoned and nacked); the shutdown's own task must not keep them running for
/// good with a handler that never ends.
#[tokio::test(start_paused = true)]
async fn an_unbounded_shutdown_given_up_then_the_gateway_dropped_ends_its_tasks() {
    let (handler, mut handler_runs) = crate::hanging::hanging_handler();
    let gateway = Gateway::builder()
        .handler(handler)
        .request_timeout(Duration::MAX)
        .build()
        .unwrap();
    let (channel, handle) = InProcessChannel::new("local", 8).unwrap();
    gateway.register(channel).await.unwrap();
    let message = request("work", "1");
    within(handle.send("s", message.clone())).await.unwrap();
    let mut alive = within(handler_runs.recv()).await.expect("the handler runs");

    let given_up =
        tokio::time::timeout(Duration::from_secs(1), gateway.shutdown(Duration::MAX)).await;
    assert!(given_up.is_err(), "the handler never ends");
    drop(gateway);

    within(alive.closed()).await;
    within(async {
        while message.acker().state() == AckState::Pending {
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert_eq!(message.acker().state(), AckState::Nacked);
}
