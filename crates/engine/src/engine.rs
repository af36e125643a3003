//! [`Engine`]: the handle through which components are registered, and the engine started,
//! observed and stopped.

mod registry;
mod run;
mod start;
mod stop;

use std::{
    fmt,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
};

use switchyard_core::{Publisher, Subscriber};
use switchyard_routing::router::{Router, SourceMatcher};
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use self::{
    registry::{PublisherEntry, Registry, SubscriberEntry},
    run::Running,
};
use crate::{
    ComponentKind, EngineBuilder, EngineError, EngineState, Health, RouterOptions, StopReport,
    config::Config,
    handle::{Abandon, LastHandle},
    health::QueueHealth,
    stats::Counters,
};

/// Wires subscribers, routers and publishers declaratively, and runs them with an internal
/// loop that cannot deadlock.
///
/// Register everything first, then [`start`](Self::start):
///
/// - **subscribers** by name, each with the topic it subscribes to; their streams are merged
///   by routing's [`FanIn`](switchyard_routing::fan::FanIn);
/// - **routers** by source: a message goes to the router registered under the key that the
///   [`SourceMatcher`] gives it ([`TypePrefix`](switchyard_routing::router::TypePrefix) by
///   default: `orders.created` goes to the router `orders`);
/// - **publishers** by destination prefix: each output of a handler goes, through routing's
///   [`FanOut`](switchyard_routing::fan::FanOut), to the publisher with the longest prefix of
///   its `destination`, and is published to the destination without its scheme
///   ([`topic_of`](crate::topic_of): `mem://orders` goes to topic `orders`);
/// - a **dead-letter destination**, routed like any destination, where unroutable and
///   failed messages go with a [reason](crate::reason).
///
/// Outputs whose destination uses the loop scheme (`loop://` by default) re-enter the engine
/// through the internal loop, with priority over new input, and are routed again by the
/// source matcher like a subscribed message (what follows the scheme is informational);
/// see the [crate documentation](crate#the-internal-loop) for why that cannot deadlock.
///
/// # Acknowledgement
///
/// A subscribed message is acked only after its handler succeeded **and** every output was
/// accepted: published (the publisher returned `Ok`), or, for a loop output, handled in turn
/// with all of its own outputs accepted. A transient handler error (after the router's own
/// middleware, such as retry) nacks it for redelivery; a permanent one, a missing handler
/// or router, a full loop and an exceeded hop limit send it to the dead letter and ack it
/// once the dead letter has accepted it. If the dead letter fails, it is nacked: nothing is
/// acked without having gone somewhere.
///
/// # Lifecycle
///
/// [`EngineState`] moves from `Created` through `Starting` and `Running` to `Stopping` and
/// `Stopped`; anything else is an [`EngineError::InvalidTransition`].
/// [`stop`](Self::stop) stops taking input, drains what is in flight (the loop included),
/// nacks what is left at the timeout, closes the subscribers and publishers and returns a
/// [`StopReport`]. A start that fails, is given up by dropping its future (a timeout
/// around it, a `select!`) or is interrupted by a `stop` (a Ctrl-C while a transport is
/// still connecting), leaves the engine `Stopped` with nothing running, and closes the
/// subscribers it had subscribed; see [`start`](Self::start). The handle is cheap to
/// clone: give a clone to the task that waits for Ctrl-C. Dropping every handle without
/// `stop`, or while a `stop` given up by its caller still runs, shuts the pipeline down
/// abruptly, nacking everything in flight.
///
/// ```
/// use std::{sync::{Arc, Mutex}, time::Duration};
///
/// use async_trait::async_trait;
/// use switchyard_core::{Message, Publisher, Result, handler_fn};
/// use switchyard_engine::{Engine, TickerSubscriber};
/// use switchyard_routing::router::Router;
///
/// /// Collects what is published.
/// #[derive(Default)]
/// struct Collect(Mutex<Vec<(String, Message)>>);
///
/// #[async_trait]
/// impl Publisher for Collect {
///     async fn publish(&self, topic: &str, message: Message) -> Result<()> {
///         self.0.lock().unwrap().push((topic.to_owned(), message));
///         Ok(())
///     }
///     async fn close(&self) -> Result<()> {
///         Ok(())
///     }
/// }
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build()?.block_on(async {
/// let ticker = TickerSubscriber::new(Duration::from_secs(60), |_tick| async {
///     Ok(vec![Message::builder().message_type("orders.timeout.check").build()?])
/// })?;
/// let orders = Router::builder()
///     .handle("orders.timeout.check", handler_fn(|_check: Message| async {
///         // A follow-up through the internal loop, handled by the same router.
///         Ok(vec![Message::builder().message_type("orders.expired").destination("loop://orders").build()?])
///     }))?
///     .handle("orders.expired", handler_fn(|_expired: Message| async {
///         Ok(vec![Message::builder().message_type("orders.expired").destination("mem://audit").build()?])
///     }))?
///     .build();
/// let audit = Arc::new(Collect::default());
///
/// let engine = Engine::new();
/// engine.add_subscriber("scheduler", Arc::new(ticker), "ticks")?;
/// engine.add_router("orders", orders)?;
/// engine.add_publisher("mem://", audit.clone())?;
/// engine.set_dead_letter("mem://dead-letter")?;
/// engine.start().await?;
///
/// tokio::time::sleep(Duration::from_secs(150)).await; // two ticks, on tokio's paused clock
/// let report = engine.stop(Duration::from_secs(5)).await?;
/// assert!(report.quiescent);
/// assert_eq!(report.totals.acked, 2);
/// assert_eq!(audit.0.lock().unwrap()[0].0, "audit");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
    /// Shared by the handles the application holds, not by the engine's own tasks, which
    /// use [`Engine::internal`]: dropped with the last of them, it ends the engine's tasks
    /// whatever those still hold.
    _last: Option<Arc<LastHandle<Inner>>>,
}

struct Inner {
    config: Config,
    lifecycle: Mutex<Lifecycle>,
    counters: Arc<Counters>,
    /// The report of the one shutdown, set by the task that ran it.
    report: std::sync::OnceLock<StopReport>,
    /// Set by whichever starts the one shutdown first: a `stop`, or the rollback of a start
    /// that failed or was given up.
    shutdown_started: std::sync::atomic::AtomicBool,
    /// Cancelled once the shutdown's task has ended, with `report` set unless it panicked.
    shutdown_done: CancellationToken,
    /// Owns the tasks that must not depend on a caller's future: the rollback of a start
    /// whose future was dropped, which closes what the start had opened, and the shutdown,
    /// which a `stop` given up part-way must neither cancel nor leave to be redone.
    lifecycle_tasks: TaskTracker,
    /// Cancelled by a `stop` that finds the engine `Starting`: the start gives up.
    start_abort: CancellationToken,
    /// Cancelled once `start` has left `Starting` (for `Running`, or for `Stopped` with
    /// what it had opened handed to the shutdown), whatever way it ended.
    start_settled: CancellationToken,
}

/// Everything that changes with the lifecycle, under one lock so that a registration can
/// never slip in while `start` takes the registry.
struct Lifecycle {
    state: EngineState,
    registry: Registry,
    running: Option<Arc<Running>>,
    /// The subscribers that a start which failed or was given up had subscribed, or was
    /// subscribing: no pipeline holds them, and the shutdown closes them.
    opened: Vec<SubscriberEntry>,
    /// The publishers that a start took out of the registry, for the shutdown to close if
    /// the start does not complete; a running pipeline holds its own.
    publishers: Vec<PublisherEntry>,
}

impl Engine {
    /// An engine with the default settings; see [`EngineBuilder`] for them.
    pub fn new() -> Self {
        Self::with_config(EngineBuilder::default().into_config())
    }

    /// A builder for an engine with other settings.
    pub fn builder() -> EngineBuilder {
        EngineBuilder::default()
    }

    pub(crate) fn with_config(config: Config) -> Self {
        let inner = Arc::new(Inner {
            config,
            lifecycle: Mutex::new(Lifecycle {
                state: EngineState::Created,
                registry: Registry::default(),
                running: None,
                opened: Vec::new(),
                publishers: Vec::new(),
            }),
            counters: Arc::new(Counters::default()),
            report: std::sync::OnceLock::new(),
            shutdown_started: std::sync::atomic::AtomicBool::new(false),
            shutdown_done: CancellationToken::new(),
            lifecycle_tasks: TaskTracker::new(),
            start_abort: CancellationToken::new(),
            start_settled: CancellationToken::new(),
        });
        Self {
            _last: Some(LastHandle::new(&inner)),
            inner,
        }
    }

    /// A handle for a task of the engine's own (its shutdown, the rollback of a start):
    /// it keeps the engine's insides alive, but not the engine, which the application's
    /// handles alone keep running.
    pub(crate) fn internal(&self) -> Engine {
        Engine {
            inner: Arc::clone(&self.inner),
            _last: None,
        }
    }

    fn lifecycle(&self) -> MutexGuard<'_, Lifecycle> {
        self.inner.lifecycle()
    }

    /// Runs `register` on the registry if the engine has not started.
    fn register(
        &self,
        operation: &'static str,
        register: impl FnOnce(&mut Registry, &Config) -> Result<(), EngineError>,
    ) -> Result<(), EngineError> {
        let mut lifecycle = self.lifecycle();
        if lifecycle.state != EngineState::Created {
            return Err(EngineError::AlreadyStarted {
                operation,
                state: lifecycle.state,
            });
        }
        register(&mut lifecycle.registry, &self.inner.config)
    }

    /// Registers `subscriber` under `name`, to be subscribed to `topic` on start.
    ///
    /// # Errors
    ///
    /// [`EngineError::Empty`] for an empty name, [`EngineError::Duplicate`] for a name
    /// already taken, [`EngineError::AlreadyStarted`] after start.
    pub fn add_subscriber(
        &self,
        name: impl Into<String>,
        subscriber: Arc<dyn Subscriber>,
        topic: impl Into<String>,
    ) -> Result<(), EngineError> {
        let (name, topic) = (name.into(), topic.into());
        self.register("add a subscriber", |registry, _| {
            registry.add_subscriber(name, subscriber, topic)
        })
    }

    /// Registers `router` for the messages whose source (see
    /// [`set_source_matcher`](Self::set_source_matcher)) is `source`, with the engine's
    /// default number of workers, ordered by partition key.
    ///
    /// # Errors
    ///
    /// As [`add_router_with`](Self::add_router_with).
    pub fn add_router(&self, source: impl Into<String>, router: Router) -> Result<(), EngineError> {
        self.add_router_with(source, router, RouterOptions::new())
    }

    /// Registers `router` for `source`, run as `options` say.
    ///
    /// # Errors
    ///
    /// [`EngineError::Empty`] for an empty source, [`EngineError::Duplicate`] for a source
    /// already taken, [`EngineError::Config`] for a number of workers out of range,
    /// [`EngineError::AlreadyStarted`] after start.
    pub fn add_router_with(
        &self,
        source: impl Into<String>,
        router: Router,
        options: RouterOptions,
    ) -> Result<(), EngineError> {
        let source = source.into();
        self.register("add a router", |registry, config| {
            let (workers, ordering) = options.resolve(config.workers)?;
            registry.add_router(source, router, workers, ordering)
        })
    }

    /// Registers `publisher` for the destinations that start with `prefix`, such as
    /// `kafka://` or `mem://audit`. The longest matching prefix wins, and each message is
    /// published to its destination without the scheme ([`topic_of`](crate::topic_of)).
    ///
    /// # Errors
    ///
    /// [`EngineError::Empty`] for an empty prefix, [`EngineError::Reserved`] for a prefix
    /// inside the loop scheme, [`EngineError::Duplicate`] for a prefix already taken,
    /// [`EngineError::AlreadyStarted`] after start.
    pub fn add_publisher(
        &self,
        prefix: impl Into<String>,
        publisher: Arc<dyn Publisher>,
    ) -> Result<(), EngineError> {
        let prefix = prefix.into();
        self.register("add a publisher", |registry, config| {
            registry.add_publisher(prefix, publisher, &config.loop_scheme)
        })
    }

    /// Replaces the [`SourceMatcher`] that picks each message's router;
    /// [`TypePrefix`](switchyard_routing::router::TypePrefix) by default.
    ///
    /// # Errors
    ///
    /// [`EngineError::AlreadyStarted`] after start.
    pub fn set_source_matcher(
        &self,
        matcher: impl SourceMatcher + 'static,
    ) -> Result<(), EngineError> {
        self.register("set the source matcher", |registry, _| {
            registry.set_matcher(matcher);
            Ok(())
        })
    }

    /// Sets the destination of the dead letter, such as `mem://dead-letter`. It is routed
    /// like any destination, so a publisher must be registered for it by start.
    ///
    /// Without a dead letter, every message that would go there is nacked instead, so that
    /// its transport redelivers it (or dead-letters it on its own terms).
    ///
    /// # Errors
    ///
    /// [`EngineError::Empty`] for an empty destination, [`EngineError::Reserved`] for one in
    /// the loop scheme, [`EngineError::AlreadyStarted`] after start.
    pub fn set_dead_letter(&self, destination: impl Into<String>) -> Result<(), EngineError> {
        let destination = destination.into();
        self.register("set the dead letter", |registry, config| {
            registry.set_dead_letter(destination, &config.loop_scheme)
        })
    }

    /// The lifecycle state.
    pub fn state(&self) -> EngineState {
        self.lifecycle().state
    }

    /// The state, what is registered, what is in flight, the queue depths, each
    /// component's error count and last error (redacted), and, should a task of the running
    /// pipeline have ended unexpectedly, why the engine is [degraded](Health::degraded).
    pub fn health(&self) -> Health {
        let (state, components, running) = {
            let lifecycle = self.lifecycle();
            (
                lifecycle.state,
                lifecycle.registry.components().to_vec(),
                lifecycle.running.clone(),
            )
        };
        let count = |kind: ComponentKind| components.iter().filter(|c| c.kind() == kind).count();
        let (queues, degraded): (Vec<QueueHealth>, _) = match running {
            Some(running) => (running.queues(), running.degraded()),
            None => (Vec::new(), None),
        };
        Health {
            state,
            subscribers: count(ComponentKind::Subscriber),
            routers: count(ComponentKind::Router),
            publishers: count(ComponentKind::Publisher),
            in_flight: self.inner.counters.in_flight(),
            counts: self.inner.counters.snapshot(),
            queues,
            components: components.iter().map(|c| c.snapshot()).collect(),
            degraded,
        }
    }
}

impl Default for Engine {
    fn default() -> Self {
        Self::new()
    }
}

impl Inner {
    fn lifecycle(&self) -> MutexGuard<'_, Lifecycle> {
        // Every critical section is a few assignments that cannot panic half-way; should
        // one ever have, the data is still consistent, so poisoning is ignored.
        self.lifecycle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Abandon for Inner {
    /// The last handle is gone without `stop`, or while a `stop` that its caller gave up
    /// still runs: end the tasks, which nack what they hold, rather than leave them running
    /// with no way to stop them.
    fn abandon(&self) {
        if let Some(running) = &self.lifecycle().running {
            running.abort();
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.abandon();
    }
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("state", &self.state())
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}
