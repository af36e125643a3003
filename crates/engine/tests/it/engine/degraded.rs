//! Health when the running pipeline breaks: an intake ended by a panic in a subscriber's
//! stream shows as degraded, with its reason, and the engine still stops cleanly.

use std::{
    future::Future,
    pin::Pin,
    sync::{Arc, Mutex},
    task::Poll,
    time::Duration,
};

use async_trait::async_trait;
use switchyard_core::{Error, Message, MessageStream, Result, Subscriber};
use switchyard_engine::{Engine, EngineState};
use tokio::sync::oneshot;

use super::support::{RecordingPublisher, absorbing_router, within};

/// A subscriber whose stream panics on the first poll after the test fires `trigger`, and
/// which tells the test through `dropped` once the engine has dropped that stream.
struct PanickingSubscriber {
    parts: Mutex<Option<(oneshot::Receiver<()>, oneshot::Sender<()>)>>,
}

#[async_trait]
impl Subscriber for PanickingSubscriber {
    async fn subscribe(&self, _topic: &str) -> Result<MessageStream> {
        let (mut trigger, dropped) = self.parts.lock().unwrap().take().ok_or(Error::Closed {
            component: "panicking subscriber",
        })?;
        let stream = futures::stream::poll_fn(move |cx| -> Poll<Option<Result<Message>>> {
            // Held by the stream, so that its drop tells the test.
            let _dropped = &dropped;
            match Pin::new(&mut trigger).poll(cx) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(_) => panic!("stream bug while polling redis://app:hunter2@cache/"),
            }
        });
        Ok(Box::pin(stream))
    }

    async fn close(&self) -> Result<()> {
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn an_intake_ended_by_a_panicking_stream_shows_as_degraded() {
    let (trigger, triggered) = oneshot::channel();
    let (dropped, was_dropped) = oneshot::channel();
    let engine = Engine::new();
    let subscriber = PanickingSubscriber {
        parts: Mutex::new(Some((triggered, dropped))),
    };
    engine
        .add_subscriber("broken", Arc::new(subscriber), "orders")
        .unwrap();
    engine.add_router("orders", absorbing_router()).unwrap();
    engine
        .add_publisher("mem://", RecordingPublisher::new())
        .unwrap();
    within("start", engine.start()).await.unwrap();
    let healthy = engine.health();
    assert_eq!(
        (healthy.state, healthy.degraded),
        (EngineState::Running, None)
    );

    trigger.send(()).unwrap();
    // The stream is dropped with the intake that polled it.
    within("the intake to end", was_dropped).await.unwrap_err();

    let health = engine.health();
    assert_eq!(
        health.state,
        EngineState::Running,
        "the lifecycle is unchanged"
    );
    let reason = health
        .degraded
        .expect("an engine without its intake reports it");
    assert!(
        reason.contains("intake") && reason.contains("stream bug"),
        "{reason}"
    );
    assert!(!reason.contains("hunter2"), "redacted: {reason}");

    let report = within("stop", engine.stop(Duration::from_secs(5)))
        .await
        .unwrap();
    assert!(report.quiescent, "{report:?}");
    let stopped = engine.health();
    assert_eq!(stopped.state, EngineState::Stopped);
    assert!(
        stopped.degraded.is_some(),
        "the reason stays on record after stop"
    );
}
