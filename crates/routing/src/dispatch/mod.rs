//! The dispatch engine: routes a message on a topic to every dispatcher that matches the
//! topic's category, a glob pattern and the message type, runs them concurrently, and
//! returns one [`DispatchResult`].
//!
//! It has two phases. While registering, routes and dispatchers are added; then
//! [`freeze`](DispatchEngine::freeze) validates the registry (every route points at a
//! registered dispatcher, categories and types agree, ids are unique) and makes the engine
//! immutable, ready to be shared across tasks (`Arc<DispatchEngine>`). Registering after
//! freezing is a [`DispatchError::Frozen`].
//!
//! ```
//! use switchyard_core::{Message, handler_fn};
//! use switchyard_routing::dispatch::{DispatchEngine, DispatchStatus, MessageCategory, Route};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let mut engine = DispatchEngine::new();
//! engine.register_dispatcher(
//!     "users",
//!     MessageCategory::Event,
//!     ["UserCreated"],
//!     handler_fn(|_message: Message| async { Ok(vec![Message::new("welcome mail")]) }),
//! )?;
//! engine.register_route(Route::new("user-events", "*.user.events.*", MessageCategory::Event, "users"))?;
//! engine.freeze()?;
//!
//! let message = Message::builder().message_type("UserCreated").build()?;
//! let result = engine.dispatch("dev.user.events.v1", &message).await?;
//! assert_eq!(result.status, DispatchStatus::Success);
//! assert_eq!(result.output_count, 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! Logging follows the levels of the design: `info` for a dispatch's start and end, `debug`
//! for routing decisions and each dispatcher's run, `warn` for no dispatcher or an
//! unparsable topic, `error` for a failed dispatcher.

mod category;
mod error;
mod metrics;
mod result;
mod route;

use std::{
    collections::{HashMap, HashSet},
    panic::AssertUnwindSafe,
    sync::Arc,
    time::Duration,
};

use futures::{FutureExt, future::join_all};
use switchyard_core::{Error as CoreError, Handler, Message, Throttle, panic_text, redact, report};
use tokio::{sync::Semaphore, time::Instant};
use tokio_util::task::TaskTracker;
use tracing::{debug, error, info, warn};

use self::metrics::DispatchMetrics;
pub use self::{
    category::{ConventionParser, MessageCategory, TopicParser},
    error::DispatchError,
    metrics::{DispatcherSnapshot, MetricsSnapshot},
    result::{DispatchResult, DispatchStatus, ErrorCode},
    route::Route,
};
use crate::pattern::{PatternIndex, PatternIndexBuilder};

/// A dispatcher's id, shared between the registry and its metric labels.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct DispatcherId(Arc<str>);

/// A synchronous (blocking) dispatcher.
type BlockingFn = dyn Fn(&Message) -> Result<Vec<Message>, CoreError> + Send + Sync;

enum Run {
    Async(Arc<dyn Handler>),
    Blocking(Arc<BlockingFn>),
}

struct Dispatcher {
    id: DispatcherId,
    category: MessageCategory,
    /// Empty: every type of the category.
    message_types: HashSet<String>,
    run: Run,
}

impl Dispatcher {
    fn takes(&self, message_type: Option<&str>) -> bool {
        self.message_types.is_empty()
            || message_type.is_some_and(|t| self.message_types.contains(t))
    }
}

/// The registry once frozen.
struct Frozen {
    /// Route topic patterns to route indexes; every route has the same priority, so matches
    /// come back in registration order, which makes dispatch deterministic.
    index: PatternIndex<usize>,
    /// Per route, its dispatcher's index.
    route_dispatcher: Vec<usize>,
    metrics: DispatchMetrics,
    /// One permit per blocking run outstanding, held by the run's thread until it returns,
    /// whether or not its dispatch timed out.
    blocking_permits: Arc<Semaphore>,
    /// The number of those permits: the limit in force since the freeze.
    max_blocking_runs: usize,
}

/// Routes messages to dispatchers by topic category, topic pattern and message type. See
/// the [module documentation](self).
pub struct DispatchEngine {
    parser: Arc<dyn TopicParser>,
    timeout: Duration,
    routes: Vec<Route>,
    dispatchers: Vec<Dispatcher>,
    dispatcher_index: HashMap<String, usize>,
    frozen: Option<Frozen>,
    blocking: TaskTracker,
    max_blocking_runs: usize,
    /// Lets one per-message warning or error a second into the log, with how many were left
    /// out; the metrics and each result's status count every one.
    warnings: Throttle,
}

/// What one dispatcher's run came to.
enum Outcome {
    Outputs(Vec<Message>),
    Failed(ErrorCode, String),
    TimedOut,
    /// A blocking run refused without starting: this many runs were outstanding already.
    Refused(usize),
}

impl DispatchEngine {
    /// The timeout of each dispatcher run unless [`with_timeout`](Self::with_timeout) sets
    /// another.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

    /// The most blocking dispatcher runs outstanding at once, per engine, unless
    /// [`with_max_blocking_runs`](Self::with_max_blocking_runs) sets another: 64, an eighth
    /// of tokio's default blocking thread pool (512), so that a hung synchronous dispatcher
    /// leaves the rest of the pool to `tokio::fs`, DNS lookups and other engines.
    pub const DEFAULT_MAX_BLOCKING_RUNS: usize = 64;

    /// The largest value [`with_max_blocking_runs`](Self::with_max_blocking_runs) accepts:
    /// tokio's [`Semaphore::MAX_PERMITS`].
    pub const MAX_BLOCKING_RUNS: usize = Semaphore::MAX_PERMITS;

    /// An empty engine with the [`ConventionParser`] and the default timeout.
    pub fn new() -> Self {
        Self {
            parser: Arc::new(ConventionParser),
            timeout: Self::DEFAULT_TIMEOUT,
            routes: Vec::new(),
            dispatchers: Vec::new(),
            dispatcher_index: HashMap::new(),
            frozen: None,
            blocking: TaskTracker::new(),
            max_blocking_runs: Self::DEFAULT_MAX_BLOCKING_RUNS,
            warnings: Throttle::default(),
        }
    }

    /// Replaces the topic parser.
    pub fn with_topic_parser(mut self, parser: impl TopicParser + 'static) -> Self {
        self.parser = Arc::new(parser);
        self
    }

    /// Sets the timeout of each dispatcher run.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the most blocking dispatcher runs outstanding at once, over every blocking
    /// dispatcher of the engine (by default
    /// [`DEFAULT_MAX_BLOCKING_RUNS`](Self::DEFAULT_MAX_BLOCKING_RUNS)).
    ///
    /// A run is outstanding from its start until its thread returns, which for a run that
    /// timed out is later than its dispatch: a thread cannot be interrupted. Past the limit,
    /// a blocking dispatcher is not started: its part of the dispatch fails at once with
    /// [`ErrorCode::TooManyBlockingRuns`] and, like a timeout, the transient
    /// [`DispatchStatus::Timeout`] (unless another dispatcher failed otherwise), so that
    /// the message is retried later instead of a hung dispatcher taking every thread of
    /// tokio's blocking pool. Must be between 1 and
    /// [`MAX_BLOCKING_RUNS`](Self::MAX_BLOCKING_RUNS), checked by [`freeze`](Self::freeze),
    /// which puts it in force: set after the freeze, it changes nothing, and a warning says
    /// so.
    pub fn with_max_blocking_runs(mut self, max: usize) -> Self {
        if self.frozen.is_some() {
            warn!(
                ignored = max,
                in_force = self.max_blocking_runs,
                "max_blocking_runs set after freeze: the limit in force stays"
            );
            return self;
        }
        self.max_blocking_runs = max;
        self
    }

    /// Registers a route.
    pub fn register_route(&mut self, route: Route) -> Result<(), DispatchError> {
        self.check_not_frozen()?;
        if self.routes.iter().any(|existing| existing.id == route.id) {
            return Err(DispatchError::DuplicateRoute(route.id));
        }
        self.routes.push(route);
        Ok(())
    }

    /// Registers an async dispatcher for `category`, restricted to `message_types` unless
    /// that is empty.
    pub fn register_dispatcher<T: Into<String>>(
        &mut self,
        id: &str,
        category: MessageCategory,
        message_types: impl IntoIterator<Item = T>,
        handler: impl Handler + 'static,
    ) -> Result<(), DispatchError> {
        self.add_dispatcher(id, category, message_types, Run::Async(Arc::new(handler)))
    }

    /// Registers a synchronous dispatcher. Each run goes to tokio's blocking thread pool
    /// (`spawn_blocking`), so it cannot stall the async runtime; a run that times out keeps
    /// its thread until it returns, because a thread cannot be interrupted. How many runs
    /// may be outstanding at once is bounded by
    /// [`with_max_blocking_runs`](Self::with_max_blocking_runs).
    pub fn register_blocking_dispatcher<T: Into<String>>(
        &mut self,
        id: &str,
        category: MessageCategory,
        message_types: impl IntoIterator<Item = T>,
        dispatcher: impl Fn(&Message) -> Result<Vec<Message>, CoreError> + Send + Sync + 'static,
    ) -> Result<(), DispatchError> {
        self.add_dispatcher(
            id,
            category,
            message_types,
            Run::Blocking(Arc::new(dispatcher)),
        )
    }

    fn add_dispatcher<T: Into<String>>(
        &mut self,
        id: &str,
        category: MessageCategory,
        message_types: impl IntoIterator<Item = T>,
        run: Run,
    ) -> Result<(), DispatchError> {
        self.check_not_frozen()?;
        if self.dispatcher_index.contains_key(id) {
            return Err(DispatchError::DuplicateDispatcher(id.to_owned()));
        }
        self.dispatcher_index
            .insert(id.to_owned(), self.dispatchers.len());
        self.dispatchers.push(Dispatcher {
            id: DispatcherId(id.into()),
            category,
            message_types: message_types.into_iter().map(Into::into).collect(),
            run,
        });
        Ok(())
    }

    fn check_not_frozen(&self) -> Result<(), DispatchError> {
        if self.frozen.is_some() {
            Err(DispatchError::Frozen)
        } else {
            Ok(())
        }
    }

    /// Validates the registry and makes the engine immutable.
    ///
    /// Every route must point at a registered dispatcher of the same category, and a route's
    /// message type must be one its dispatcher takes. Freezing twice is
    /// [`DispatchError::Frozen`]; a [`with_max_blocking_runs`](Self::with_max_blocking_runs)
    /// of zero or above [`MAX_BLOCKING_RUNS`](Self::MAX_BLOCKING_RUNS) is
    /// [`DispatchError::OutOfRange`].
    pub fn freeze(&mut self) -> Result<(), DispatchError> {
        self.check_not_frozen()?;
        if !(1..=Self::MAX_BLOCKING_RUNS).contains(&self.max_blocking_runs) {
            return Err(DispatchError::OutOfRange {
                setting: "max_blocking_runs",
                reason: "must be at least 1 and at most DispatchEngine::MAX_BLOCKING_RUNS",
            });
        }
        let mut index = PatternIndexBuilder::default();
        let mut route_dispatcher = Vec::with_capacity(self.routes.len());
        for (position, route) in self.routes.iter().enumerate() {
            let Some(&dispatcher_at) = self.dispatcher_index.get(&route.dispatcher_id) else {
                return Err(DispatchError::UnknownDispatcher {
                    route: route.id.clone(),
                    dispatcher: route.dispatcher_id.clone(),
                });
            };
            let dispatcher = &self.dispatchers[dispatcher_at];
            if dispatcher.category != route.category {
                return Err(DispatchError::CategoryMismatch {
                    route: route.id.clone(),
                    route_category: route.category,
                    dispatcher: route.dispatcher_id.clone(),
                    dispatcher_category: dispatcher.category,
                });
            }
            if let Some(message_type) = &route.message_type
                && !dispatcher.takes(Some(message_type))
            {
                return Err(DispatchError::TypeMismatch {
                    route: route.id.clone(),
                    message_type: message_type.clone(),
                    dispatcher: route.dispatcher_id.clone(),
                });
            }
            index
                .insert(&route.topic_pattern, 0, position)
                .map_err(|source| DispatchError::InvalidPattern {
                    route: route.id.clone(),
                    source,
                })?;
            route_dispatcher.push(dispatcher_at);
        }
        let metrics = DispatchMetrics::new(self.dispatchers.iter().map(|d| d.id.clone()));
        self.frozen = Some(Frozen {
            index: index.build(),
            route_dispatcher,
            metrics,
            blocking_permits: Arc::new(Semaphore::new(self.max_blocking_runs)),
            max_blocking_runs: self.max_blocking_runs,
        });
        self.blocking.close();
        Ok(())
    }

    /// Whether [`freeze`](Self::freeze) has succeeded.
    pub fn is_frozen(&self) -> bool {
        self.frozen.is_some()
    }

    /// Dispatches `message`, received on `topic`, to every matching dispatcher concurrently,
    /// each under the engine's timeout. One dispatcher failing does not stop the others.
    ///
    /// The status is `Success` when every dispatcher succeeded, `Timeout` when the only
    /// failures were timeouts, `DispatcherError` when any failed otherwise (the outputs of
    /// those that succeeded are still returned), `NoDispatcher` when nothing matched, and
    /// `InvalidMessage` when the topic's category cannot be parsed.
    pub async fn dispatch(
        &self,
        topic: &str,
        message: &Message,
    ) -> Result<DispatchResult, DispatchError> {
        let frozen = self.frozen.as_ref().ok_or(DispatchError::NotFrozen)?;
        let started = Instant::now();
        let attributes = message.attributes();
        let message_type = attributes.message_type();
        let mut result = DispatchResult {
            dispatch_id: uuid::Uuid::now_v7().to_string(),
            status: DispatchStatus::Success,
            topic: topic.to_owned(),
            category: self.parser.category(topic),
            message_type: message_type.map(str::to_owned),
            duration: Duration::ZERO,
            outputs: Vec::new(),
            output_count: 0,
            error_message: None,
            error_code: None,
            correlation_id: attributes.correlation_id().map(str::to_owned),
            trace_id: attributes
                .get("traceparent")
                .and_then(trace_id_of)
                .map(str::to_owned),
        };

        let Some(category) = result.category else {
            if let Some(suppressed) = self.warnings.admit() {
                warn!(
                    topic = %redact(topic),
                    suppressed,
                    "topic has no category that the parser recognises"
                );
            }
            result.status = DispatchStatus::InvalidMessage;
            result.error_code = Some(ErrorCode::UnparsableTopic);
            result.error_message = Some(format!(
                "cannot parse a category from topic {}",
                redact(topic)
            ));
            return Ok(self.finish(frozen, result, started));
        };

        let chosen = self.matching(frozen, topic, category, message_type);
        info!(topic = %redact(topic), %category, dispatchers = chosen.len(), "dispatch started");
        if chosen.is_empty() {
            if let Some(suppressed) = self.warnings.admit() {
                warn!(topic = %redact(topic), %category, suppressed, "no dispatcher matches");
            }
            result.status = DispatchStatus::NoDispatcher;
            result.error_code = Some(ErrorCode::NoDispatcher);
            result.error_message = Some(format!(
                "no dispatcher for {category} of type {}",
                message_type.unwrap_or("(none)")
            ));
            return Ok(self.finish(frozen, result, started));
        }

        let runs = chosen.iter().map(|&at| self.run(frozen, at, message));
        let outcomes = join_all(runs).await;
        let mut errors = Vec::new();
        let mut only_timeouts = true;
        for (&at, outcome) in chosen.iter().zip(outcomes) {
            let id = &self.dispatchers[at].id.0;
            match outcome {
                Outcome::Outputs(outputs) => {
                    frozen.metrics.record_execution(at, false);
                    debug!(dispatcher = %id, outputs = outputs.len(), "dispatcher succeeded");
                    result.outputs.extend(outputs);
                }
                Outcome::TimedOut => {
                    frozen.metrics.record_execution(at, true);
                    if let Some(suppressed) = self.warnings.admit() {
                        error!(
                            dispatcher = %id,
                            timeout = ?self.timeout,
                            suppressed,
                            "dispatcher timed out"
                        );
                    }
                    result
                        .error_code
                        .get_or_insert(ErrorCode::DispatcherTimeout);
                    errors.push(format!("{id}: timed out after {:?}", self.timeout));
                }
                Outcome::Refused(outstanding) => {
                    frozen.metrics.record_execution(at, true);
                    ::metrics::counter!("switchyard_dispatch_blocking_refused_total").increment(1);
                    if let Some(suppressed) = self.warnings.admit() {
                        warn!(
                            dispatcher = %id,
                            outstanding,
                            suppressed,
                            "blocking dispatcher not started: too many blocking runs outstanding"
                        );
                    }
                    // Transient, like the timeouts that usually cause it: `only_timeouts`
                    // stays as it is.
                    result
                        .error_code
                        .get_or_insert(ErrorCode::TooManyBlockingRuns);
                    errors.push(format!(
                        "{id}: not started: {outstanding} blocking runs are outstanding, the \
                         limit (earlier runs still running, or timed out and not returned)"
                    ));
                }
                Outcome::Failed(code, text) => {
                    frozen.metrics.record_execution(at, true);
                    if let Some(suppressed) = self.warnings.admit() {
                        error!(dispatcher = %id, error = %text, suppressed, "dispatcher failed");
                    }
                    only_timeouts = false;
                    result.error_code.get_or_insert(code);
                    errors.push(format!("{id}: {text}"));
                }
            }
        }
        if !errors.is_empty() {
            result.status = if only_timeouts {
                DispatchStatus::Timeout
            } else {
                DispatchStatus::DispatcherError
            };
            result.error_message = Some(errors.join("; "));
        }
        Ok(self.finish(frozen, result, started))
    }

    /// The dispatchers for a message, each once, in the order of their first matching route.
    fn matching(
        &self,
        frozen: &Frozen,
        topic: &str,
        category: MessageCategory,
        message_type: Option<&str>,
    ) -> Vec<usize> {
        let mut chosen: Vec<usize> = Vec::new();
        for found in frozen.index.find_all(topic) {
            let route = &self.routes[*found.value];
            let at = frozen.route_dispatcher[*found.value];
            let type_matches = route
                .message_type
                .as_deref()
                .is_none_or(|t| Some(t) == message_type);
            if route.enabled
                && route.category == category
                && type_matches
                && self.dispatchers[at].takes(message_type)
                && !chosen.contains(&at)
            {
                debug!(route = %route.id, dispatcher = %route.dispatcher_id, "route matches");
                chosen.push(at);
            }
        }
        chosen
    }

    async fn run(&self, frozen: &Frozen, at: usize, message: &Message) -> Outcome {
        let dispatcher = &self.dispatchers[at];
        // A blocking run takes its permit before it starts, and holds it on its thread
        // until it returns, past its timeout if it hangs: the permits bound the threads.
        let permit = match &dispatcher.run {
            Run::Async(_) => None,
            Run::Blocking(_) => match frozen.blocking_permits.clone().try_acquire_owned() {
                Ok(permit) => Some(permit),
                Err(_) => return Outcome::Refused(frozen.max_blocking_runs),
            },
        };
        let run = async {
            match &dispatcher.run {
                Run::Async(handler) => match AssertUnwindSafe(handler.handle(message))
                    .catch_unwind()
                    .await
                {
                    Ok(Ok(outputs)) => Outcome::Outputs(outputs),
                    Ok(Err(err)) => Outcome::Failed(ErrorCode::DispatcherFailed, report(&err)),
                    Err(panic) => {
                        Outcome::Failed(ErrorCode::DispatcherPanicked, panic_text(&*panic))
                    }
                },
                Run::Blocking(f) => {
                    let f = f.clone();
                    let message = message.clone();
                    let run = move || {
                        let _permit = permit;
                        f(&message)
                    };
                    match self.blocking.spawn_blocking(run).await {
                        Ok(Ok(outputs)) => Outcome::Outputs(outputs),
                        Ok(Err(err)) => Outcome::Failed(ErrorCode::DispatcherFailed, report(&err)),
                        Err(join) if join.is_panic() => Outcome::Failed(
                            ErrorCode::DispatcherPanicked,
                            panic_text(&*join.into_panic()),
                        ),
                        Err(join) => Outcome::Failed(ErrorCode::DispatcherFailed, join.to_string()),
                    }
                }
            }
        };
        tokio::time::timeout(self.timeout, run)
            .await
            .unwrap_or(Outcome::TimedOut)
    }

    fn finish(
        &self,
        frozen: &Frozen,
        mut result: DispatchResult,
        started: Instant,
    ) -> DispatchResult {
        result.duration = started.elapsed();
        result.output_count = result.outputs.len();
        frozen
            .metrics
            .record_dispatch(result.status, result.duration);
        info!(
            status = %result.status,
            duration_us = u64::try_from(result.duration.as_micros()).unwrap_or(u64::MAX),
            outputs = result.output_count,
            "dispatch complete"
        );
        result
    }

    /// The engine's metrics so far: empty before [`freeze`](Self::freeze).
    pub fn metrics(&self) -> Option<MetricsSnapshot> {
        self.frozen.as_ref().map(|frozen| frozen.metrics.snapshot())
    }

    /// Waits up to `timeout` for blocking dispatcher runs that outlived their dispatch (they
    /// timed out, but a thread cannot be interrupted). Returns whether all of them finished.
    pub async fn shutdown(&self, timeout: Duration) -> bool {
        self.blocking.close();
        tokio::time::timeout(timeout, self.blocking.wait())
            .await
            .is_ok()
    }
}

impl Default for DispatchEngine {
    fn default() -> Self {
        Self::new()
    }
}

/// The trace id of a W3C `traceparent` value: `00-<trace id>-<span id>-<flags>`.
fn trace_id_of(traceparent: &str) -> Option<&str> {
    let trace_id = traceparent.split('-').nth(1)?;
    (trace_id.len() == 32 && trace_id.bytes().all(|b| b.is_ascii_hexdigit())).then_some(trace_id)
}

#[cfg(test)]
mod tests;
