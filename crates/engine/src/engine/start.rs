//! `Engine::start`: from `Created` to `Running`, or to `Stopped` if wiring fails or the
//! start is given up, with what it had opened closed.

use std::{mem, sync::Arc, time::Duration};

use tokio::runtime::Handle;

use super::{Engine, registry::SubscriberEntry, run};
use crate::{EngineError, EngineState};

impl Engine {
    /// Starts the engine: subscribes every subscriber, merges them into the fan-in, and
    /// spawns the intake and each router's workers. Returns once everything runs.
    ///
    /// # A start that does not complete
    ///
    /// If this fails, the engine is `Stopped`, nothing was spawned, and the subscribers
    /// already subscribed and the publishers are closed before it returns.
    ///
    /// Dropping the returned future before it completes (a `tokio::time::timeout` around
    /// it that elapses, a `select!` that takes another branch) gives the start up the same
    /// way, since a subscriber may block in `subscribe` for as long as its transport does.
    /// The engine is `Stopped` at once: no task was spawned (tasks are spawned only once
    /// every subscriber has subscribed, with no wait between that and `Running`), and the
    /// streams already returned are dropped with the future. Every subscriber whose
    /// `subscribe` was called, the one that was interrupted included, is then closed by a
    /// task that the engine owns, each close within the engine's
    /// [close timeout](crate::EngineBuilder::close_timeout), and so is every publisher, as
    /// `stop` closes them. Subscribers never reached are not touched. [`stop`](Self::stop)
    /// waits for those closes and reports their failures in
    /// [`StopReport::close_failures`](crate::StopReport::close_failures); call it to be sure
    /// they are done. (Were the future dropped outside a tokio runtime, where nothing can
    /// be spawned, `stop` closes them.)
    ///
    /// A [`stop`](Self::stop) called meanwhile interrupts the start in the same way: it
    /// returns [`EngineError::StartInterrupted`], and `stop` returns once what the start
    /// had opened is closed.
    ///
    /// A stopped engine cannot start again: build another.
    ///
    /// # Errors
    ///
    /// [`EngineError::InvalidTransition`] unless the engine is `Created`;
    /// [`EngineError::DeadLetterUnroutable`] when no publisher prefix matches the dead-letter
    /// destination; [`EngineError::Wiring`] when the registered components do not make a
    /// valid fan-out (such as a publisher prefix named like an internal queue, `loop` or
    /// `dead-letter`); [`EngineError::Subscribe`] when a subscriber fails to subscribe;
    /// [`EngineError::StartInterrupted`] when `stop` was called before the start completed.
    pub async fn start(&self) -> Result<(), EngineError> {
        let wiring = {
            let mut lifecycle = self.lifecycle();
            lifecycle.state.transition(EngineState::Starting)?;
            let wiring = lifecycle.registry.take_wiring();
            // Kept for a rollback: the engine owns its publishers from registration on, and
            // a start that does not complete closes them as `stop` would.
            lifecycle.publishers = wiring.publishers.clone();
            wiring
        };
        let mut guard = StartGuard {
            engine: self,
            opened: Vec::new(),
            armed: true,
        };
        let wire = run::wire(
            &self.inner.config,
            &self.inner.counters,
            wiring,
            &mut guard.opened,
        );
        let wired = tokio::select! {
            biased;
            // A `stop` came first. Dropping `wire` drops it between two awaits of its own,
            // as a dropped start future would: it spawns its tasks in its last poll only,
            // so nothing was spawned.
            () = self.inner.start_abort.cancelled() => Err(EngineError::StartInterrupted),
            wired = wire => wired,
        };
        match wired {
            Ok(running) => {
                let mut lifecycle = self.lifecycle();
                // Set before the transition, so that a refused one (impossible: only `start`
                // leaves `Starting`) still has the guard's rollback stop the tasks.
                lifecycle.running = Some(Arc::new(running));
                // The pipeline holds the publishers now, and `stop` closes them from there.
                lifecycle.publishers.clear();
                lifecycle.state.transition(EngineState::Running)?;
                guard.armed = false;
                tracing::info!("engine running");
                Ok(())
            }
            Err(err) => {
                drop(guard);
                // The rollback closes what was opened; a failed start returns once it has.
                self.rolled_back().await;
                Err(err)
            }
        }
    }

    /// The one shutdown, run by whichever comes first: a rollback or a `stop`.
    async fn rolled_back(&self) {
        self.shut_down_once(Duration::ZERO).await;
    }
}

/// Rolls back a start that did not complete, when it failed or its future was dropped:
/// the engine moves to `Stopped`, and what the start had opened is handed to the shutdown,
/// which an owned task runs.
struct StartGuard<'a> {
    engine: &'a Engine,
    /// The subscribers whose `subscribe` was called and did not fail.
    opened: Vec<SubscriberEntry>,
    armed: bool,
}

impl Drop for StartGuard<'_> {
    fn drop(&mut self) {
        if !self.armed {
            self.engine.inner.start_settled.cancel();
            return;
        }
        let inner = &self.engine.inner;
        {
            let mut lifecycle = inner.lifecycle();
            if lifecycle.state == EngineState::Starting {
                lifecycle.state = EngineState::Stopped;
            }
            lifecycle.opened.append(&mut mem::take(&mut self.opened));
        }
        // Closing is async and `drop` is not: a task does it. It ends within the close
        // timeout, and `stop` waits for it through the report that it sets.
        match Handle::try_current() {
            Ok(runtime) => {
                let engine = self.engine.internal();
                inner
                    .lifecycle_tasks
                    .spawn_on(async move { engine.rolled_back().await }, &runtime);
            }
            Err(_) => tracing::warn!(
                "engine start given up outside a tokio runtime: \
                 the subscribers it opened are closed by `stop`"
            ),
        }
        // Last: a `stop` waiting for this finds what the start had opened handed over.
        inner.start_settled.cancel();
    }
}
