//! The channel gateway: many channels (a TCP socket, a chat bot, an in-process handle) feed
//! one bounded inbox; each message is handled in its own task under a concurrency limit,
//! and every reply goes back through the channel and session that the message came from.
//!
//! ```text
//!  ┌─────────────┐ ┌─────────────┐ ┌─────────────┐
//!  │ TcpJson     │ │ InProcess   │ │ your channel│   each channel receives on its own task
//!  └──────┬──────┘ └──────┬──────┘ └──────┬──────┘   and pushes with its InboxSender
//!         └───────────────┼───────────────┘
//!                ┌────────▼────────┐
//!                │  inbox (bounded)│                 full: channels wait (backpressure)
//!                └────────┬────────┘
//!                ┌────────▼────────┐
//!                │   dispatcher    │                 takes a permit, THEN spawns the task
//!                └────────┬────────┘
//!            ┌────────────┼────────────┐
//!            ▼            ▼            ▼             at most `max_in_flight` tasks,
//!         handler      handler      handler          owned by a TaskTracker
//!            └────────────┼────────────┘
//!                 channel.send(session, reply)       replies stamped with channel,
//!                                                    session and duration
//! ```
//!
//! # Requests and replies
//!
//! Before the handler sees a message, the gateway sets its [`reply::attr::CHANNEL`] and
//! [`reply::attr::SESSION`] attributes to where it came from, replacing whatever the sender put
//! there. Each message the handler returns is a reply; a handler that returns nothing gets
//! one empty [`reply::DONE_TYPE`] reply, so every request is answered. A failure (an error,
//! a panic, the [request timeout](GatewayBuilder::request_timeout), a message over the
//! limits) gets one [`reply::ERROR_TYPE`] reply whose [`ErrorCategory`] tells the user what
//! kind of failure it was, with a message that never carries internals (see
//! [`UserError`]).
//!
//! Every reply carries the channel, the session, and [`reply::attr::DURATION_MS`]: the time from
//! the moment the channel received the request to the moment the handler returned,
//! including the wait for a permit, which is what the user feels. A reply's
//! `causationid` is the request's `id`, and its `correlationid` the request's own (or its
//! `id`), unless the handler set them.
//!
//! The request's [ack](switchyard_core::ack) is settled once its replies are out: acked when
//! the channel accepted every reply (an error reply included), nacked when it did not (the
//! session or the channel is gone, the channel refused the reply or did not take it within
//! the [send timeout](GatewayBuilder::send_timeout)), or when the message was abandoned at
//! shutdown. A reply that was not delivered is never dropped silently: each one counts in
//! `switchyard_gateway_replies_undelivered_total` (by channel), and the refusal is logged,
//! at most one warning a second.
//!
//! A message keeps its permit of the concurrency limit until its replies are out, so a
//! channel should not make the gateway wait on one slow session: the
//! [TCP channel](tcp#slow-readers) closes a connection whose client does not read its
//! replies rather than wait for it.
//!
//! # Example
//!
//! ```
//! use std::time::Duration;
//!
//! use switchyard_core::{Message, handler_fn};
//! use switchyard_engine::gateway::{Gateway, InProcessChannel, reply::attr};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let gateway = Gateway::builder()
//!     .handler(handler_fn(|request: Message| async move {
//!         let pong = Message::builder().message_type("pong").payload(request.payload().clone()).build()?;
//!         Ok(vec![pong])
//!     }))
//!     .build()?;
//!
//! let (channel, mut handle) = InProcessChannel::new("local", 16)?;
//! gateway.register(channel).await?;
//!
//! handle.send("alice", Message::builder().message_type("ping").payload("hi").build()?).await?;
//! let reply = handle.recv().await.expect("a reply");
//! assert_eq!(reply.session(), "alice");
//! assert_eq!(reply.message().payload(), "hi");
//! assert_eq!(reply.message().attributes().get(attr::CHANNEL), Some("local"));
//! assert!(reply.message().attributes().get(attr::DURATION_MS).is_some());
//!
//! let report = gateway.shutdown(Duration::from_secs(5)).await;
//! assert!(report.is_clean(), "{report:?}");
//! # Ok(())
//! # }
//! ```

mod builder;
mod channel;
mod classify;
mod dispatch;
mod error;
mod in_process;
mod inbox;
mod registry;
pub mod reply;
mod shutdown;
pub mod tcp;

use std::{
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use futures::{
    FutureExt,
    future::{BoxFuture, Shared as SharedFuture},
};
use switchyard_core::{Throttle, deadline::deadline};
use tokio::{
    runtime::Handle,
    sync::{Semaphore, mpsc},
    task::JoinHandle,
    time::Instant,
};
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use self::{
    builder::Config,
    dispatch::{Counters, Shared},
    inbox::Envelope,
    registry::Registry,
};
pub use self::{
    builder::GatewayBuilder,
    channel::{Channel, ChannelTask, Outgoing},
    classify::{ErrorCategory, MAX_USER_MESSAGE_CHARS, UserError},
    error::{GatewayError, InboxClosed},
    in_process::{InProcessChannel, InProcessHandle},
    inbox::InboxSender,
    registry::{ChannelStop, MAX_CHANNEL_NAME_LEN},
    shutdown::ShutdownReport,
    tcp::{TcpJsonChannel, TcpJsonChannelBuilder},
};
use crate::handle::{Abandon, LastHandle};

/// Routes messages between channels and a handler; see the [module documentation](self).
///
/// A cheap handle: clones share one gateway. Call [`shutdown`](Self::shutdown) to stop it
/// gracefully; dropping the last handle without it, or while a shutdown given up by its
/// caller still runs, stops everything abruptly (messages in flight are abandoned and
/// nacked, channels are cancelled).
#[derive(Clone)]
pub struct Gateway {
    inner: Arc<Inner>,
    /// Shared by the handles the application holds, not by the shutdown's task: dropped
    /// with the last of them, it ends the gateway's tasks whatever that task still holds.
    _last: Arc<LastHandle<Inner>>,
}

struct Inner {
    shared: Arc<Shared>,
    /// The sending side of the inbox; each channel gets a clone inside its [`InboxSender`].
    inbox: mpsc::Sender<Envelope>,
    /// Cancelled at shutdown: the dispatcher closes the inbox and drains it.
    intake: CancellationToken,
    /// The parent of every channel's own shutdown token.
    channels_root: CancellationToken,
    /// Owns every channel's task.
    channel_tasks: TaskTracker,
    /// Counts the registrations in progress (each holds a token while its channel starts),
    /// so that the shutdown can wait for them within its deadline.
    starting: TaskTracker,
    /// Cancelled when the shutdown stops waiting for channels still starting: their
    /// registrations then drop the start and fail.
    abandon_starts: CancellationToken,
    dispatcher: Mutex<Option<JoinHandle<()>>>,
    /// The runtime the gateway was built on, where its shutdown runs.
    runtime: Handle,
    /// The one shutdown, started by the first call: every call awaits this same task, so
    /// that a call given up part-way neither cancels it half-done nor leaves the next call
    /// to redo it from the middle. `None` if the task did not complete.
    shutdown: Mutex<Option<SharedFuture<BoxFuture<'static, Option<ShutdownReport>>>>>,
}

impl Gateway {
    /// A builder for a gateway.
    pub fn builder() -> GatewayBuilder {
        GatewayBuilder::default()
    }

    fn start(config: Config) -> Result<Self, GatewayError> {
        let runtime = Handle::try_current().map_err(|_| GatewayError::NoRuntime)?;
        let (inbox, receiver) = mpsc::channel(config.inbox_capacity);
        let shared = Arc::new(Shared {
            target: config.target,
            registry: Registry::new(config.max_channels),
            permits: Arc::new(Semaphore::new(config.max_in_flight)),
            max_in_flight: config.max_in_flight,
            tasks: TaskTracker::new(),
            abort: CancellationToken::new(),
            request_timeout: config.request_timeout,
            send_timeout: config.send_timeout,
            limits: config.limits,
            counters: Counters::default(),
            warnings: Throttle::default(),
        });
        let intake = CancellationToken::new();
        let dispatcher =
            runtime.spawn(dispatch::run(Arc::clone(&shared), receiver, intake.clone()));
        let inner = Arc::new(Inner {
            shared,
            inbox,
            intake,
            channels_root: CancellationToken::new(),
            channel_tasks: TaskTracker::new(),
            starting: TaskTracker::new(),
            abandon_starts: CancellationToken::new(),
            dispatcher: Mutex::new(Some(dispatcher)),
            runtime,
            shutdown: Mutex::new(None),
        });
        Ok(Self {
            _last: LastHandle::new(&inner),
            inner,
        })
    }

    /// Registers `channel` and starts it: from now on its messages are handled and its
    /// replies sent through it.
    ///
    /// The name is reserved while the channel starts, so a second registration of it fails
    /// at once; nothing else waits for the start. A [`shutdown`](Self::shutdown) that
    /// begins meanwhile cancels the start's token and waits for it within its own deadline;
    /// the registration then fails with [`GatewayError::ShuttingDown`], and a channel that
    /// started anyway is dropped, never registered. Dropping this future gives up the
    /// registration the same way.
    ///
    /// Fails with [`GatewayError::InvalidChannelName`], [`GatewayError::DuplicateChannel`],
    /// [`GatewayError::TooManyChannels`], [`GatewayError::ShuttingDown`], or
    /// [`GatewayError::ChannelStart`] if the channel's own start failed.
    pub async fn register(&self, channel: impl Channel + 'static) -> Result<(), GatewayError> {
        self.register_arc(Arc::new(channel)).await
    }

    /// [`register`](Self::register) for a channel that is already shared.
    pub async fn register_arc(&self, channel: Arc<dyn Channel>) -> Result<(), GatewayError> {
        let name: Arc<str> = Arc::from(channel.name());
        registry::validate_name(&name)?;
        let inner = &self.inner;
        let shutdown = inner.channels_root.child_token();
        // The tracker token is taken before the reservation, so that a shutdown that
        // closes the registry after the reservation also finds the token and waits for it.
        let mut reservation = inner.shared.registry.reserve(
            Arc::clone(&name),
            shutdown.clone(),
            inner.starting.token(),
        )?;
        let inbox = InboxSender::new(
            Arc::clone(&name),
            reservation.registration(),
            inner.inbox.clone(),
            shutdown.clone(),
            inner.intake.clone(),
        );
        // No lock is held while the channel starts. The shutdown cancels `shutdown` to tell
        // the start to stop, and, past its deadline, `abandon_starts` to have it dropped.
        let started = tokio::select! {
            biased;
            () = inner.abandon_starts.cancelled() => None,
            started = channel.start(inbox, shutdown) => Some(started),
        };
        let refused = || {
            tracing::info!(channel = %name, "channel start ended by the gateway's shutdown");
            Err(GatewayError::ShuttingDown)
        };
        let task = match started {
            None => return refused(),
            Some(Ok(task)) => task,
            Some(Err(source)) if inner.shared.registry.is_closed() => {
                tracing::debug!(channel = %name, error = %source.report(), "channel start failed");
                return refused();
            }
            Some(Err(source)) => {
                return Err(GatewayError::ChannelStart {
                    channel: name.to_string(),
                    source,
                });
            }
        };
        match reservation.complete(channel, task, &inner.channel_tasks) {
            Ok(()) => {
                tracing::info!(channel = %name, "channel registered");
                Ok(())
            }
            Err(_shutting_down) => refused(),
        }
    }

    /// Stops the channel called `name` alone, waiting up to `timeout` for its task, which
    /// is aborted past that. Other channels keep running. `Duration::MAX` waits without
    /// limit.
    ///
    /// Replies still on their way to this channel are dropped (and their requests nacked),
    /// even once another channel is registered under the same name. Dropping this future
    /// before it returns (a `timeout` around it) aborts the channel's task, as the timeout
    /// would: the channel is unregistered from the first poll on, and nothing else would
    /// stop it.
    ///
    /// Fails with [`GatewayError::UnknownChannel`] if no such channel is registered; a
    /// channel whose [`register`](Self::register) has not returned is not registered yet.
    pub async fn unregister(
        &self,
        name: &str,
        timeout: Duration,
    ) -> Result<ChannelStop, GatewayError> {
        let Some(entry) = self.inner.shared.registry.remove(name) else {
            return Err(GatewayError::UnknownChannel {
                channel: registry::shown(name),
            });
        };
        let stop = entry.stop(deadline(Instant::now(), timeout)).await;
        tracing::info!(channel = %name, ?stop, "channel unregistered");
        Ok(stop)
    }

    /// Sends `outgoing` through the channel called `channel`, as a push that answers no
    /// request, waiting at most the [send timeout](GatewayBuilder::send_timeout).
    ///
    /// Fails with [`GatewayError::UnknownChannel`] if no such channel is registered,
    /// [`GatewayError::Send`] if the channel refused it, and [`GatewayError::SendTimeout`]
    /// if it did not accept it in time.
    pub async fn send_to(&self, channel: &str, outgoing: Outgoing) -> Result<(), GatewayError> {
        let Some(target) = self.inner.shared.registry.get(channel) else {
            return Err(GatewayError::UnknownChannel {
                channel: registry::shown(channel),
            });
        };
        let after = self.inner.shared.send_timeout;
        match tokio::time::timeout(after, target.send(outgoing)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(source)) => Err(GatewayError::Send {
                channel: channel.to_owned(),
                source,
            }),
            Err(_elapsed) => Err(GatewayError::SendTimeout {
                channel: channel.to_owned(),
                after,
            }),
        }
    }

    /// The names of the registered channels, sorted.
    pub fn channel_names(&self) -> Vec<String> {
        self.inner.shared.registry.names()
    }

    /// How many messages are being handled right now.
    pub fn in_flight(&self) -> usize {
        self.inner.shared.in_flight()
    }

    /// Whether [`shutdown`](Self::shutdown) has begun.
    pub fn is_shutting_down(&self) -> bool {
        self.inner.shared.registry.is_closed()
    }

    /// Stops the gateway within `timeout` and reports what did not stop.
    ///
    /// 1. No channel can register any more, and a channel still starting (its
    ///    [`register`](Self::register) has not returned) is told to stop: its token is
    ///    cancelled. The inbox is closed: channels can push no new message (their
    ///    [`InboxSender::send`] fails), but keep running.
    /// 2. Messages already received are handled and answered, until the deadline. Past
    ///    it, what is left is abandoned: dropped and nacked.
    /// 3. Every channel is cancelled and given the rest of the time (at least
    ///    [`ShutdownReport::GRACE`]) to stop; a channel that does not is aborted. A start
    ///    still in progress by then is abandoned (its registration drops it and fails) and
    ///    reported as [`ChannelStop::TimedOut`].
    ///
    /// The timeout covers all of it: nothing a channel does makes the shutdown wait
    /// longer (but see [`ShutdownReport::GRACE`]). `Duration::MAX` waits without limit.
    /// Calling it again, or concurrently, returns the first call's report.
    ///
    /// The shutdown runs in a task of the gateway's own, not in the caller's future: a call
    /// given up part-way (a `timeout` or a `select!` around it) does not interrupt it, and
    /// the next call waits for the same shutdown, with the first call's timeout.
    pub async fn shutdown(&self, timeout: Duration) -> ShutdownReport {
        let started = Instant::now();
        let running = {
            let mut slot = self
                .inner
                .shutdown
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            slot.get_or_insert_with(|| {
                // Begun here, so that once this call was first polled, the gateway takes
                // nothing more, whenever its task gets to run.
                let begun = shutdown::begin(&self.inner, timeout);
                let inner = Arc::clone(&self.inner);
                let task = self
                    .inner
                    .runtime
                    .spawn(async move { shutdown::run(&inner, begun).await });
                // The task holds the gateway until it ends, and nothing else does: this
                // future holds only the task's handle, so the gateway is not kept alive by
                // itself.
                async move { task.await.ok() }.boxed().shared()
            })
            .clone()
        };
        match running.await {
            Some(report) => report,
            // A bug, or a runtime shutting down: report what is known, as not clean.
            None => {
                tracing::error!("the gateway's shutdown task did not complete");
                shutdown::interrupted(&self.inner, started)
            }
        }
    }
}

impl Inner {
    fn take_dispatcher(&self) -> Option<JoinHandle<()>> {
        self.dispatcher
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

impl Abandon for Inner {
    /// The last handle is gone without a shutdown, or while a shutdown that its caller gave
    /// up still runs (or after one, when this changes nothing): stop every task the gateway
    /// owns rather than leave them running unowned.
    fn abandon(&self) {
        self.intake.cancel();
        self.shared.abort.cancel();
        self.channels_root.cancel();
        self.abandon_starts.cancel();
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.abandon();
    }
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("channels", &self.channel_names())
            .field("in_flight", &self.in_flight())
            .field("shutting_down", &self.is_shutting_down())
            .finish()
    }
}
