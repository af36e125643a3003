//! Channels whose start is still in progress: it holds up no other registration, no
//! unregistration and no shutdown, which cancels it and waits for it only within its own
//! timeout.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use async_trait::async_trait;
use switchyard_core::{Error, Result};
use switchyard_engine::gateway::{
    Channel, ChannelStop, ChannelTask, Gateway, GatewayError, InProcessChannel, InboxSender,
    Outgoing, ShutdownReport,
};
use tokio::{sync::oneshot, task::JoinHandle, time::Instant};
use tokio_util::sync::CancellationToken;

use crate::gateway::support::{echo, request, within};

/// What a [`SlowStart`] channel does once its start's shutdown token is cancelled.
#[derive(Clone, Copy, Debug)]
enum OnCancel {
    /// The start fails.
    Fail,
    /// The start succeeds after all, returning a task.
    Start,
    /// Nothing: the start never returns.
    Ignore,
}

/// A channel whose start waits (for a remote API to answer, say) until its shutdown token
/// is cancelled, then does what `on_cancel` says. It records whether its start future and
/// its task were dropped.
struct SlowStart {
    name: &'static str,
    on_cancel: OnCancel,
    entered: std::sync::Mutex<Option<oneshot::Sender<()>>>,
    start_dropped: Arc<AtomicBool>,
    task_dropped: Arc<AtomicBool>,
}

/// Sets its flag when dropped.
struct SetOnDrop(Arc<AtomicBool>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

impl SlowStart {
    /// The channel, and a receiver that fires once its start is entered.
    fn new(name: &'static str, on_cancel: OnCancel) -> (Self, oneshot::Receiver<()>) {
        let (entered, started) = oneshot::channel();
        let channel = Self {
            name,
            on_cancel,
            entered: std::sync::Mutex::new(Some(entered)),
            start_dropped: Arc::default(),
            task_dropped: Arc::default(),
        };
        (channel, started)
    }
}

#[async_trait]
impl Channel for SlowStart {
    fn name(&self) -> &str {
        self.name
    }

    async fn start(&self, _inbox: InboxSender, shutdown: CancellationToken) -> Result<ChannelTask> {
        let _dropped = SetOnDrop(Arc::clone(&self.start_dropped));
        if let Some(entered) = self.entered.lock().unwrap().take() {
            let _ = entered.send(());
        }
        shutdown.cancelled().await;
        match self.on_cancel {
            OnCancel::Fail => Err(Error::Closed {
                component: "slow-start channel",
            }),
            OnCancel::Start => {
                let dropped = SetOnDrop(Arc::clone(&self.task_dropped));
                Ok(Box::pin(async move {
                    let _dropped = dropped;
                    futures::future::pending::<()>().await;
                }))
            }
            OnCancel::Ignore => futures::future::pending().await,
        }
    }

    async fn send(&self, _outgoing: Outgoing) -> Result<()> {
        Ok(())
    }
}

/// Registers `channel` on a task of its own, and waits until its start is entered.
async fn start_registering(
    gateway: &Gateway,
    channel: Arc<SlowStart>,
    started: oneshot::Receiver<()>,
) -> JoinHandle<std::result::Result<(), GatewayError>> {
    let registering = {
        let gateway = gateway.clone();
        tokio::spawn(async move { gateway.register_arc(channel).await })
    };
    within(started)
        .await
        .expect("the channel's start was entered");
    registering
}

/// Checks that `report` took at most `timeout`, plus the grace that cancelled tasks get.
fn check_within(report: &ShutdownReport, timeout: Duration) {
    assert!(
        report.elapsed() <= timeout + ShutdownReport::GRACE,
        "took {:?}: {report:?}",
        report.elapsed()
    );
}

#[tokio::test(start_paused = true)]
async fn shutdown_cancels_a_start_in_progress_and_returns_within_its_timeout() {
    for on_cancel in [OnCancel::Fail, OnCancel::Start] {
        let gateway = echo().build().unwrap();
        let (channel, started) = SlowStart::new("slow-start", on_cancel);
        let channel = Arc::new(channel);
        let registering = start_registering(&gateway, Arc::clone(&channel), started).await;

        let report = within(gateway.shutdown(Duration::from_secs(1))).await;
        check_within(&report, Duration::from_secs(1));
        assert!(report.is_clean(), "{on_cancel:?}: {report:?}");
        assert!(
            report.channels().is_empty(),
            "{on_cancel:?}: never registered"
        );
        let registered = within(registering).await.unwrap();
        assert!(
            matches!(registered, Err(GatewayError::ShuttingDown)),
            "{on_cancel:?}: {registered:?}"
        );
        assert!(gateway.channel_names().is_empty(), "{on_cancel:?}");
        if let OnCancel::Start = on_cancel {
            assert!(
                channel.task_dropped.load(Ordering::SeqCst),
                "a channel that started after the shutdown began is not left running"
            );
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_start_that_ignores_its_cancellation_is_abandoned_at_the_deadline() {
    let gateway = echo().build().unwrap();
    let (polite, _handle) = InProcessChannel::new("polite", 8).unwrap();
    gateway.register(polite).await.unwrap();
    let (channel, started) = SlowStart::new("stuck", OnCancel::Ignore);
    let channel = Arc::new(channel);
    let registering = start_registering(&gateway, Arc::clone(&channel), started).await;

    let before = Instant::now();
    let report = within(gateway.shutdown(Duration::from_secs(1))).await;
    check_within(&report, Duration::from_secs(1));
    assert!(before.elapsed() <= Duration::from_secs(1) + ShutdownReport::GRACE);
    assert_eq!(
        report.channels(),
        [
            ("polite".to_owned(), ChannelStop::Stopped),
            ("stuck".to_owned(), ChannelStop::TimedOut)
        ]
    );
    assert_eq!(report.not_stopped().collect::<Vec<_>>(), ["stuck"]);

    let registered = within(registering).await.unwrap();
    assert!(
        matches!(registered, Err(GatewayError::ShuttingDown)),
        "{registered:?}"
    );
    assert!(
        channel.start_dropped.load(Ordering::SeqCst),
        "the abandoned start is dropped, not left pending"
    );
    assert!(gateway.channel_names().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_start_in_progress_holds_up_no_other_registration_or_unregistration() {
    let gateway = echo().build().unwrap();
    let (channel, started) = SlowStart::new("slow-start", OnCancel::Fail);
    let registering = start_registering(&gateway, Arc::new(channel), started).await;

    let (other, mut handle) = InProcessChannel::new("other", 8).unwrap();
    within(gateway.register(other)).await.unwrap();
    within(handle.send("s", request("ping", "meanwhile")))
        .await
        .unwrap();
    assert_eq!(
        within(handle.recv()).await.unwrap().message().payload(),
        "meanwhile"
    );
    assert_eq!(
        gateway.channel_names(),
        ["other"],
        "a start in progress is not registered"
    );
    let (twin, _twin) = SlowStart::new("slow-start", OnCancel::Fail);
    let err = within(gateway.register(twin)).await.unwrap_err();
    assert!(
        matches!(err, GatewayError::DuplicateChannel { .. }),
        "its name is taken: {err:?}"
    );
    let stop = within(gateway.unregister("other", Duration::from_secs(1)))
        .await
        .unwrap();
    assert_eq!(stop, ChannelStop::Stopped);
    let err = within(gateway.unregister("slow-start", Duration::from_secs(1)))
        .await
        .unwrap_err();
    assert!(
        matches!(err, GatewayError::UnknownChannel { .. }),
        "{err:?}"
    );

    let report = within(gateway.shutdown(Duration::from_secs(1))).await;
    assert!(report.is_clean(), "{report:?}");
    let registered = within(registering).await.unwrap();
    assert!(
        matches!(registered, Err(GatewayError::ShuttingDown)),
        "{registered:?}"
    );
}
