//! Helpers shared by the gateway tests.

use std::{future::Future, time::Duration};

use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use switchyard_core::{Message, handler_fn};
use switchyard_engine::gateway::{Gateway, GatewayBuilder, Outgoing};
use tokio::runtime::Runtime;

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

/// A current-thread runtime with its clock paused, for a test that counts metrics with
/// [`counting`].
pub(super) fn paused_runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("a runtime")
}

/// A current-thread runtime on the real clock, for a test that counts metrics with
/// [`counting`].
pub(super) fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

/// The counters that a [`counting`] test counted, summed over their labels.
pub(super) struct Counts(Vec<(String, u64)>);

impl Counts {
    /// The total of the counter `name`; 0 if it was never counted.
    pub(super) fn get(&self, name: &str) -> u64 {
        self.0
            .iter()
            .filter(|(counted, _)| counted == name)
            .map(|(_, value)| value)
            .sum()
    }
}

/// Runs `test` on `runtime` with this thread's metrics recorded, and returns its output
/// with what it counted.
///
/// The runtime is dropped before the counts are read, inside the recording: a task that
/// was aborted or left running (a channel the shutdown gave up on) is dropped with it, and
/// what it counts when dropped (such as the replies it still held) is counted too.
pub(super) fn counting<F: Future>(runtime: Runtime, test: F) -> (F::Output, Counts) {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let output = metrics::with_local_recorder(&recorder, move || {
        let output = runtime.block_on(test);
        drop(runtime);
        output
    });
    let counts = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .filter_map(|(key, _, _, value)| match value {
            DebugValue::Counter(count) => Some((key.key().name().to_owned(), count)),
            _ => None,
        })
        .collect();
    (output, Counts(counts))
}
