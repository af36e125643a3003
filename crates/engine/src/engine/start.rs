//! `Engine::start`: from `Created` to `Running`, or to `Stopped` if wiring fails.

use std::sync::Arc;

use super::{Engine, Inner, run};
use crate::{EngineError, EngineState};

impl Engine {
    /// Starts the engine: subscribes every subscriber, merges them into the fan-in, and
    /// spawns the intake, each router's workers and a task per publisher and for the dead
    /// letter. Returns once everything runs.
    ///
    /// If this fails, the engine is `Stopped`: the subscribers already subscribed are
    /// closed, and nothing was spawned. Dropping the returned future before it completes
    /// leaves the engine `Stopped` too.
    ///
    /// # Errors
    ///
    /// [`EngineError::InvalidTransition`] unless the engine is `Created`;
    /// [`EngineError::DeadLetterUnroutable`] when no publisher prefix matches the dead-letter
    /// destination; [`EngineError::Wiring`] when the registered components do not make a
    /// valid fan-out (such as a publisher prefix named like an internal queue, `loop` or
    /// `dead-letter`); [`EngineError::Subscribe`] when a subscriber fails to subscribe.
    pub async fn start(&self) -> Result<(), EngineError> {
        let wiring = {
            let mut lifecycle = self.lifecycle();
            lifecycle.state.transition(EngineState::Starting)?;
            lifecycle.registry.take_wiring()
        };
        let mut guard = StartGuard {
            inner: &self.inner,
            armed: true,
        };
        let running = run::wire(&self.inner.config, &self.inner.counters, wiring).await?;
        let mut lifecycle = self.lifecycle();
        lifecycle.running = Some(Arc::new(running));
        lifecycle.state.transition(EngineState::Running)?;
        guard.armed = false;
        tracing::info!("engine running");
        Ok(())
    }
}

/// Moves an engine whose start did not complete to `Stopped`, aborting anything it spawned.
struct StartGuard<'a> {
    inner: &'a Inner,
    armed: bool,
}

impl Drop for StartGuard<'_> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let mut lifecycle = self.inner.lifecycle();
        if lifecycle.state == EngineState::Starting {
            lifecycle.state = EngineState::Stopped;
            if let Some(running) = &lifecycle.running {
                running.abort();
            }
        }
    }
}
