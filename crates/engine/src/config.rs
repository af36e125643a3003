//! The engine's settings: [`EngineBuilder`] for the engine as a whole, validated on `build`,
//! and [`RouterOptions`] for one router's workers and ordering.

use std::{fmt, sync::Arc, time::Duration};

use switchyard_routing::fan::{DEFAULT_LOOP_SCHEME, Output};

use crate::{Engine, EngineError, EngineObserver, observer::NoopObserver};

/// The most workers one router may have: a bound on tasks, not a target.
pub const MAX_WORKERS: usize = 1024;

/// The validated settings of an engine.
#[derive(Clone)]
pub(crate) struct Config {
    pub(crate) workers: usize,
    pub(crate) worker_queue: usize,
    pub(crate) loop_buffer: usize,
    pub(crate) max_hops: u32,
    pub(crate) loop_scheme: String,
    pub(crate) close_timeout: Duration,
    pub(crate) observer: Arc<dyn EngineObserver>,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("workers", &self.workers)
            .field("worker_queue", &self.worker_queue)
            .field("loop_buffer", &self.loop_buffer)
            .field("max_hops", &self.max_hops)
            .field("loop_scheme", &self.loop_scheme)
            .field("close_timeout", &self.close_timeout)
            .finish_non_exhaustive()
    }
}

/// Builds an [`Engine`]; created by [`Engine::builder`]. Every setting has a production
/// default, and nothing is checked until [`build`](Self::build).
///
/// Every queue is bounded; the sizes below are in messages.
///
/// ```
/// use std::time::Duration;
/// use switchyard_engine::Engine;
///
/// let engine = Engine::builder()
///     .workers(2)
///     .loop_buffer(256)
///     .max_hops(8)
///     .close_timeout(Duration::from_secs(2))
///     .build()?;
/// # let _ = engine;
/// # Ok::<(), switchyard_engine::EngineError>(())
/// ```
#[must_use = "a builder does nothing until `build` is called"]
#[derive(Debug, Clone)]
pub struct EngineBuilder {
    config: Config,
}

impl EngineBuilder {
    /// Default workers per router: 1, which handles a router's messages in order and, for
    /// handlers that do not wait, is also the fastest (a hand-off between tasks costs more
    /// than such a handler). Raise it for handlers that wait on I/O.
    pub const DEFAULT_WORKERS: usize = 1;
    /// Default size of each worker's queue: 64.
    pub const DEFAULT_WORKER_QUEUE: usize = 64;
    /// Default size of the internal loop's queue: 1024.
    pub const DEFAULT_LOOP_BUFFER: usize = 1024;
    /// Default hop limit of the internal loop: 16.
    pub const DEFAULT_MAX_HOPS: u32 = 16;
    /// Default time that `stop` gives tasks, and then subscribers and publishers, to close
    /// after the drain: 5 s.
    pub const DEFAULT_CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

    /// Workers per router unless [`RouterOptions::workers`] says otherwise: from 1 to
    /// [`MAX_WORKERS`].
    pub fn workers(mut self, workers: usize) -> Self {
        self.config.workers = workers;
        self
    }

    /// The size of each worker's queue, where the intake waits for room (backpressure on
    /// the subscribers): from 1 to [`Output::MAX_BUFFER`].
    pub fn worker_queue(mut self, size: usize) -> Self {
        self.config.worker_queue = size;
        self
    }

    /// The size of the internal loop's queue. A loop message that finds it full is
    /// dead-lettered with the reason [`LOOP_OVERFLOW`](crate::reason::LOOP_OVERFLOW)
    /// instead of waiting: from 1 to [`Output::MAX_BUFFER`].
    pub fn loop_buffer(mut self, size: usize) -> Self {
        self.config.loop_buffer = size;
        self
    }

    /// How many times a message may go around the internal loop. A root message has 0
    /// hops and each pass through the loop adds one; an output that would exceed the limit
    /// is dead-lettered with the reason [`HOP_LIMIT`](crate::reason::HOP_LIMIT), so that
    /// cycles end. At least 1.
    pub fn max_hops(mut self, hops: u32) -> Self {
        self.config.max_hops = hops;
        self
    }

    /// The destination scheme of the internal loop; `loop://` by default. Must not be empty.
    pub fn loop_scheme(mut self, scheme: impl Into<String>) -> Self {
        self.config.loop_scheme = scheme.into();
        self
    }

    /// How long `stop` waits, after the drain, for the engine's tasks to end, and then for
    /// the subscribers and publishers to close. Not zero; `Duration::MAX` means no limit.
    pub fn close_timeout(mut self, timeout: Duration) -> Self {
        self.config.close_timeout = timeout;
        self
    }

    /// Sets the observer whose hooks fire on errors, loop overflows and dead letters.
    pub fn observer(mut self, observer: impl EngineObserver + 'static) -> Self {
        self.config.observer = Arc::new(observer);
        self
    }

    /// Checks the settings and builds the engine, in the `Created` state.
    ///
    /// # Errors
    ///
    /// [`EngineError::Config`] for a setting out of its range, [`EngineError::Empty`] for
    /// an empty loop scheme.
    pub fn build(self) -> Result<Engine, EngineError> {
        let c = &self.config;
        in_range("workers", c.workers, MAX_WORKERS, "must be from 1 to 1024")?;
        let buffer = "must be from 1 to 1048576";
        in_range("worker_queue", c.worker_queue, Output::MAX_BUFFER, buffer)?;
        in_range("loop_buffer", c.loop_buffer, Output::MAX_BUFFER, buffer)?;
        if c.max_hops == 0 {
            return Err(EngineError::Config {
                setting: "max_hops",
                reason: "must be at least 1",
            });
        }
        if c.loop_scheme.is_empty() {
            return Err(EngineError::Empty {
                what: "loop scheme",
            });
        }
        if c.close_timeout.is_zero() {
            return Err(EngineError::Config {
                setting: "close_timeout",
                reason: "must not be zero",
            });
        }
        Ok(Engine::with_config(self.config))
    }

    /// The settings, unchecked: only for the defaults, which are valid.
    pub(crate) fn into_config(self) -> Config {
        self.config
    }
}

impl Default for EngineBuilder {
    fn default() -> Self {
        Self {
            config: Config {
                workers: Self::DEFAULT_WORKERS,
                worker_queue: Self::DEFAULT_WORKER_QUEUE,
                loop_buffer: Self::DEFAULT_LOOP_BUFFER,
                max_hops: Self::DEFAULT_MAX_HOPS,
                loop_scheme: DEFAULT_LOOP_SCHEME.to_owned(),
                close_timeout: Self::DEFAULT_CLOSE_TIMEOUT,
                observer: Arc::new(NoopObserver),
            },
        }
    }
}

fn in_range(
    setting: &'static str,
    value: usize,
    max: usize,
    reason: &'static str,
) -> Result<(), EngineError> {
    if (1..=max).contains(&value) {
        Ok(())
    } else {
        Err(EngineError::Config { setting, reason })
    }
}

/// Whether messages with the same `partitionkey` are handled in order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyOrdering {
    /// Messages with the same `partitionkey` go to the same worker, in the order they
    /// arrived, while different keys run in parallel on different workers. Messages
    /// without a key, or with an empty one, are spread over the workers. The default.
    ///
    /// The order is that of arrival: a message nacked for redelivery (a transient error)
    /// comes back after those of its key that arrived meanwhile, as the subscriber
    /// redelivers it.
    #[default]
    PerPartitionKey,
    /// Every message goes to the next worker with room, whatever its key.
    Unordered,
}

/// How one router runs: its number of workers and its [`KeyOrdering`]. Given to
/// [`Engine::add_router_with`].
///
/// ```
/// use switchyard_engine::{KeyOrdering, RouterOptions};
///
/// let options = RouterOptions::new().workers(8).ordering(KeyOrdering::Unordered);
/// # let _ = options;
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[must_use = "options do nothing until given to `add_router_with`"]
pub struct RouterOptions {
    /// `None`: the engine's default, [`EngineBuilder::workers`].
    workers: Option<usize>,
    ordering: KeyOrdering,
}

impl RouterOptions {
    /// The engine's default number of workers, ordered by partition key.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the number of workers of this router: from 1 to [`MAX_WORKERS`].
    pub fn workers(mut self, workers: usize) -> Self {
        self.workers = Some(workers);
        self
    }

    /// Sets the ordering.
    pub fn ordering(mut self, ordering: KeyOrdering) -> Self {
        self.ordering = ordering;
        self
    }

    /// The number of workers, `default` where none was set; checked against the range.
    pub(crate) fn resolve(&self, default: usize) -> Result<(usize, KeyOrdering), EngineError> {
        let workers = self.workers.unwrap_or(default);
        in_range("workers", workers, MAX_WORKERS, "must be from 1 to 1024")?;
        Ok((workers, self.ordering))
    }
}

#[cfg(test)]
mod tests;
