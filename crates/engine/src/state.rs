//! The engine's lifecycle: [`EngineState`] and the transitions between its states.

use std::fmt;

use crate::EngineError;

/// Where an [`Engine`](crate::Engine) is in its lifecycle.
///
/// ```text
/// Created ──start──▶ Starting ──▶ Running ──stop──▶ Stopping ──▶ Stopped
///                       │                                          ▲
///                       └── start failed, given up or stopped ─────┘
/// ```
///
/// Components are registered only while `Created`. Any other move is refused with
/// [`EngineError::InvalidTransition`], never a panic; [`EngineState::can_transition_to`]
/// is the whole table.
///
/// ```
/// use switchyard_engine::EngineState;
///
/// assert!(EngineState::Created.can_transition_to(EngineState::Starting));
/// assert!(!EngineState::Stopped.can_transition_to(EngineState::Starting));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EngineState {
    /// Built; components may be registered.
    Created,
    /// `start` is subscribing and wiring.
    Starting,
    /// Taking and processing messages.
    Running,
    /// `stop` is draining what is in flight.
    Stopping,
    /// Stopped, after `stop`, or after a `start` that failed, was given up (its future
    /// dropped) or was interrupted by `stop`. Final.
    Stopped,
}

impl EngineState {
    /// Whether the lifecycle allows moving from `self` to `next`.
    pub fn can_transition_to(self, next: EngineState) -> bool {
        use EngineState::{Created, Running, Starting, Stopped, Stopping};
        matches!(
            (self, next),
            (Created, Starting)
                | (Starting, Running)
                | (Starting, Stopped)
                | (Running, Stopping)
                | (Stopping, Stopped)
        )
    }

    /// Moves to `next` if the lifecycle allows it.
    pub(crate) fn transition(&mut self, next: EngineState) -> Result<(), EngineError> {
        if self.can_transition_to(next) {
            *self = next;
            Ok(())
        } else {
            Err(EngineError::InvalidTransition {
                from: *self,
                to: next,
            })
        }
    }

    /// The state as a short lowercase word, as in logs.
    pub fn as_str(self) -> &'static str {
        match self {
            EngineState::Created => "created",
            EngineState::Starting => "starting",
            EngineState::Running => "running",
            EngineState::Stopping => "stopping",
            EngineState::Stopped => "stopped",
        }
    }
}

impl fmt::Display for EngineState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests;
