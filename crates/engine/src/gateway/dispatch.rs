//! The dispatcher: drains the inbox, takes a permit for each message before spawning its
//! task, and in that task calls the handler and routes the replies back to the channel and
//! session that the message came from.

use std::{
    panic::AssertUnwindSafe,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use futures::FutureExt;
use switchyard_core::{Error, Handler, Limits, Message, Throttle, deadline::deadline};
use switchyard_routing::router::{Router, RouterError};
use tokio::{
    sync::{OwnedSemaphorePermit, Semaphore, mpsc},
    time::Instant,
};
use tokio_util::{sync::CancellationToken, task::TaskTracker};
use tracing::Instrument;

use super::{
    ErrorCategory, Outgoing, UserError,
    inbox::Envelope,
    registry::Registry,
    reply::{self, ReplyTo},
};

/// What the gateway hands messages to.
pub(super) enum Target {
    Handler(Arc<dyn Handler>),
    Router(Arc<Router>),
}

/// A failed call of the target.
enum Failure {
    Handler(Error),
    Router(RouterError),
}

impl Target {
    async fn call(&self, message: &Message) -> Result<Vec<Message>, Failure> {
        match self {
            Target::Handler(handler) => handler.handle(message).await.map_err(Failure::Handler),
            Target::Router(router) => router.handle(message).await.map_err(Failure::Router),
        }
    }
}

impl Failure {
    fn user_error(&self) -> UserError {
        match self {
            Failure::Handler(error) => UserError::from_error(error),
            Failure::Router(error) => UserError::from_router_error(error),
        }
    }

    fn report(&self) -> String {
        match self {
            Failure::Handler(error) => error.report(),
            Failure::Router(error) => switchyard_core::report(error),
        }
    }
}

/// Counts of finished messages, for the shutdown report.
#[derive(Default)]
pub(super) struct Counters {
    /// Messages answered, with replies or an error reply (delivered or not).
    pub(super) completed: AtomicU64,
    /// Messages dropped unanswered at the shutdown deadline, and nacked.
    pub(super) abandoned: AtomicU64,
}

/// Everything the dispatcher and the message tasks share.
pub(super) struct Shared {
    pub(super) target: Target,
    pub(super) registry: Registry,
    /// One permit per message task: acquired before the task is spawned, released when it
    /// ends, so that the number of live message tasks never exceeds the limit.
    pub(super) permits: Arc<Semaphore>,
    pub(super) max_in_flight: usize,
    /// Owns every message task.
    pub(super) tasks: TaskTracker,
    /// Cancelled when the shutdown deadline passes: whatever is not answered by then is
    /// abandoned.
    pub(super) abort: CancellationToken,
    pub(super) request_timeout: Duration,
    pub(super) send_timeout: Duration,
    pub(super) limits: Limits,
    pub(super) counters: Counters,
    /// Lets one per-request warning or error a second into the log, with how many were left
    /// out: a flood of failing requests must not flood the log too. The counters count all.
    pub(super) warnings: Throttle,
}

impl Shared {
    /// Messages whose task is running.
    pub(super) fn in_flight(&self) -> usize {
        self.max_in_flight - self.permits.available_permits()
    }
}

/// Drains the inbox until it is closed and empty.
///
/// When `intake` is cancelled the inbox is closed, so channels can push no more, and what
/// is already in it is still dispatched. When `abort` is cancelled, whatever is left is
/// abandoned (dropped, so that its ack is a nack).
pub(super) async fn run(
    shared: Arc<Shared>,
    mut inbox: mpsc::Receiver<Envelope>,
    intake: CancellationToken,
) {
    let mut open = true;
    loop {
        let next = if open {
            tokio::select! {
                biased;
                () = intake.cancelled() => {
                    inbox.close();
                    open = false;
                    continue;
                }
                next = inbox.recv() => next,
            }
        } else {
            inbox.recv().await
        };
        let Some(envelope) = next else { break };

        // The permit is taken here, before the task exists: a message waiting for a permit
        // waits in the inbox, whose bound pushes back on the channels.
        let permit = loop {
            tokio::select! {
                biased;
                () = shared.abort.cancelled() => break None,
                // Shutdown began while this message waits for a permit: close the inbox
                // now rather than once a permit frees.
                () = intake.cancelled(), if open => {
                    inbox.close();
                    open = false;
                }
                permit = Arc::clone(&shared.permits).acquire_owned() => break permit.ok(),
            }
        };
        let Some(permit) = permit else {
            // The deadline passed (the semaphore itself is never closed).
            envelope.message.nack();
            let rest = abandon_rest(&mut inbox);
            shared
                .counters
                .abandoned
                .fetch_add(1 + rest, Ordering::Relaxed);
            break;
        };
        let span = tracing::info_span!("gateway.message", channel = %envelope.channel);
        shared
            .tasks
            .spawn(run_message(Arc::clone(&shared), envelope, permit).instrument(span));
    }
    tracing::debug!("gateway dispatcher stopped");
}

/// Drops everything still in the inbox, returning how many messages that was.
fn abandon_rest(inbox: &mut mpsc::Receiver<Envelope>) -> u64 {
    inbox.close();
    let mut count = 0;
    while let Ok(envelope) = inbox.try_recv() {
        // Nacked explicitly: the channel may hold a clone, so dropping ours is not enough.
        envelope.message.nack();
        count += 1;
    }
    count
}

/// The task of one message: answers it, unless the shutdown deadline passes first.
async fn run_message(shared: Arc<Shared>, envelope: Envelope, permit: OwnedSemaphorePermit) {
    let acker = envelope.message.acker().clone();
    let answered = tokio::select! {
        biased;
        () = shared.abort.cancelled() => false,
        () = answer(&shared, envelope) => true,
    };
    let counter = if answered {
        &shared.counters.completed
    } else {
        tracing::warn!("message abandoned at the shutdown deadline");
        acker.nack();
        &shared.counters.abandoned
    };
    counter.fetch_add(1, Ordering::Relaxed);
    drop(permit);
}

/// Hands the message to the target and sends the replies back to the channel and session
/// it came from. The message is acked once every reply was accepted by the channel, and
/// nacked if one was not.
async fn answer(shared: &Shared, envelope: Envelope) {
    let Envelope {
        channel,
        registration,
        session,
        mut message,
        received_at,
    } = envelope;
    metrics::counter!("switchyard_gateway_messages_total", "channel" => channel.to_string())
        .increment(1);
    reply::stamp_request(&mut message, &channel, &session);

    let result = call(shared, &channel, &message, received_at).await;
    // Measured from receipt: the wait for the inbox and for a permit is what the user felt.
    let duration = received_at.elapsed();
    metrics::histogram!("switchyard_gateway_request_duration_seconds")
        .record(duration.as_secs_f64());

    let replies = match result {
        Ok(outputs) if outputs.is_empty() => vec![reply::done()],
        Ok(outputs) => outputs,
        Err(user_error) => {
            metrics::counter!(
                "switchyard_gateway_errors_total",
                "category" => user_error.category().as_str()
            )
            .increment(1);
            vec![user_error.to_message()]
        }
    };
    let reply_to = ReplyTo {
        channel: &channel,
        session: &session,
        request_id: message.attributes().id(),
        correlation_id: message.attributes().correlation_id(),
    };
    // Replies settle nothing upstream: a handler that returns its input must not hand the
    // input's acker to the channel.
    let replies = replies
        .iter()
        .map(|reply| reply_to.stamp(reply.detached(), duration));

    if deliver(shared, &channel, registration, &session, replies).await {
        message.ack();
    } else {
        message.nack();
    }
}

/// Calls the target within the request's deadline, turning every failure (an error, a
/// panic, the deadline) into what the user is told.
///
/// A request whose deadline passed before its turn came (it waited in the inbox and for a
/// permit that long) is answered with the `timeout` error at once, without calling the
/// target, and counted in `switchyard_gateway_requests_expired_total` (by channel):
/// `timeout_at` polls its future once before it looks at the clock, so the handler would
/// begin its work (and its side effects) for a request whose user is told it timed out.
async fn call(
    shared: &Shared,
    channel: &str,
    message: &Message,
    received_at: Instant,
) -> Result<Vec<Message>, UserError> {
    if let Err(err) = shared.limits.check(message) {
        tracing::debug!(error = %err.report(), "request over the limits");
        return Err(UserError::from_error(&err));
    }
    // Saturating: a request timeout of `Duration::MAX` means no limit, not a panic.
    let answer_by = deadline(received_at, shared.request_timeout);
    if Instant::now() >= answer_by {
        metrics::counter!(
            "switchyard_gateway_requests_expired_total",
            "channel" => channel.to_owned()
        )
        .increment(1);
        if let Some(suppressed) = shared.warnings.admit() {
            tracing::warn!(
                timeout = ?shared.request_timeout,
                suppressed,
                "request timed out before its turn: not handled"
            );
        }
        return Err(UserError::generic(ErrorCategory::Timeout));
    }
    let call = AssertUnwindSafe(shared.target.call(message)).catch_unwind();
    match tokio::time::timeout_at(answer_by, call).await {
        Ok(Ok(Ok(outputs))) => Ok(outputs),
        Ok(Ok(Err(failure))) => {
            let user_error = failure.user_error();
            let report = failure.report();
            match user_error.category() {
                ErrorCategory::BadRequest => tracing::debug!(error = %report, "bad request"),
                ErrorCategory::Internal => {
                    if let Some(suppressed) = shared.warnings.admit() {
                        tracing::error!(error = %report, suppressed, "handler failed");
                    }
                }
                category => {
                    if let Some(suppressed) = shared.warnings.admit() {
                        tracing::warn!(error = %report, %category, suppressed, "handler failed");
                    }
                }
            }
            Err(user_error)
        }
        Ok(Err(_panic)) => {
            if let Some(suppressed) = shared.warnings.admit() {
                tracing::error!(suppressed, "handler panicked");
            }
            Err(UserError::generic(ErrorCategory::Internal))
        }
        Err(_elapsed) => {
            if let Some(suppressed) = shared.warnings.admit() {
                tracing::warn!(timeout = ?shared.request_timeout, suppressed, "request timed out");
            }
            Err(UserError::generic(ErrorCategory::Timeout))
        }
    }
}

/// Sends each reply through the channel, each within the send timeout. Returns whether the
/// channel accepted them all; it stops at the first refusal. Every reply not delivered (the
/// refused one and those after it) is counted, and the refusal logged (throttled).
///
/// The channel is the one of `registration`, which received the request: once it is
/// unregistered, its replies are dropped, even if another channel has taken its name since
/// (its sessions are not the request's, though they may be named alike).
async fn deliver(
    shared: &Shared,
    channel_name: &str,
    registration: u64,
    session: &str,
    mut replies: impl ExactSizeIterator<Item = Message>,
) -> bool {
    let undelivered = |count: usize| {
        metrics::counter!(
            "switchyard_gateway_replies_undelivered_total",
            "channel" => channel_name.to_owned()
        )
        .increment(count as u64);
    };
    let Some(channel) = shared.registry.get_registration(channel_name, registration) else {
        undelivered(replies.len());
        if let Some(suppressed) = shared.warnings.admit() {
            tracing::warn!(suppressed, "channel no longer registered: reply dropped");
        }
        return false;
    };
    while let Some(reply) = replies.next() {
        let outgoing = Outgoing::new(session, reply);
        let refusal = match tokio::time::timeout(shared.send_timeout, channel.send(outgoing)).await
        {
            Ok(Ok(())) => continue,
            Ok(Err(err)) => err.report(),
            Err(_elapsed) => format!("not accepted within {:?}", shared.send_timeout),
        };
        undelivered(1 + replies.len());
        if let Some(suppressed) = shared.warnings.admit() {
            tracing::warn!(
                error = %refusal,
                suppressed,
                "channel did not take a reply: reply dropped, request nacked"
            );
        }
        return false;
    }
    true
}
