//! The engine's one error type, [`EngineError`]: invalid registration, configuration and
//! lifecycle transitions, and failures to wire the pipeline.

use std::fmt;

use switchyard_core::redact;
use switchyard_routing::fan::BuildError;

use crate::EngineState;

/// Longest name, prefix or destination kept in an [`EngineError`], in characters.
const MAX_SHOWN: usize = 128;

/// What kind of component a name belongs to: in [`EngineError::Duplicate`] and in
/// [`Health::components`](crate::Health::components).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ComponentKind {
    /// A subscriber, registered by name.
    Subscriber,
    /// A router, registered by source.
    Router,
    /// A publisher, registered by destination prefix.
    Publisher,
}

impl fmt::Display for ComponentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ComponentKind::Subscriber => "subscriber",
            ComponentKind::Router => "router",
            ComponentKind::Publisher => "publisher",
        })
    }
}

/// Everything that can go wrong when configuring, starting or stopping an
/// [`Engine`](crate::Engine).
///
/// Nothing here panics or is lost: every refusal is one of these variants. Names, prefixes and
/// destinations come from configuration; they are still [redacted](switchyard_core::redact)
/// and cut to a bounded length before they are stored, so a destination such as
/// `redis://user:secret@host` never reaches a log through an error.
///
/// ```
/// use std::sync::Arc;
/// use switchyard_engine::{ComponentKind, Engine, EngineError};
/// use switchyard_routing::router::Router;
///
/// let engine = Engine::new();
/// engine.add_router("orders", Router::builder().build())?;
/// let err = engine.add_router("orders", Router::builder().build()).unwrap_err();
/// assert!(matches!(err, EngineError::Duplicate { kind: ComponentKind::Router, .. }));
/// # Ok::<(), EngineError>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// A component was registered, or the engine reconfigured, after `start`.
    #[error("cannot {operation}: the engine is {state}, registration is closed once it starts")]
    AlreadyStarted {
        /// What was attempted, such as `"add a subscriber"`.
        operation: &'static str,
        /// The state the engine was in.
        state: EngineState,
    },

    /// A lifecycle call asked for a transition that the state machine does not allow, such
    /// as starting twice or stopping an engine that never started.
    #[error("invalid engine transition from {from} to {to}")]
    InvalidTransition {
        /// The state the engine was in.
        from: EngineState,
        /// The state the call would have moved it to.
        to: EngineState,
    },

    /// A second component of the same kind was registered under the same name.
    #[error("a {kind} named {name:?} is already registered")]
    Duplicate {
        /// The kind of component.
        kind: ComponentKind,
        /// The repeated name, redacted and bounded.
        name: String,
    },

    /// A name, source, topic, prefix or destination that must say something is empty.
    #[error("{what} must not be empty")]
    Empty {
        /// What is empty, such as `"subscriber name"`.
        what: &'static str,
    },

    /// A publisher prefix or the dead-letter destination is inside the loop scheme, which
    /// is reserved for the internal loop.
    #[error("{what} {value:?} is inside the reserved loop scheme {scheme:?}")]
    Reserved {
        /// What was given: `"publisher prefix"` or `"dead-letter destination"`.
        what: &'static str,
        /// The value, redacted and bounded.
        value: String,
        /// The loop scheme.
        scheme: String,
    },

    /// A configuration value is out of its valid range.
    #[error("invalid engine configuration: `{setting}` {reason}")]
    Config {
        /// The setting, as its builder method is named.
        setting: &'static str,
        /// What the valid range is.
        reason: &'static str,
    },

    /// The dead-letter destination matches no registered publisher prefix.
    #[error("dead-letter destination {destination:?} matches no publisher prefix")]
    DeadLetterUnroutable {
        /// The destination, redacted and bounded.
        destination: String,
    },

    /// `stop` was called while `start` was still subscribing or wiring: the start gave up,
    /// and the engine is stopped, with what the start had opened closed.
    #[error("the start was interrupted by a stop: the engine is stopped")]
    StartInterrupted,

    /// The shutdown that `stop` waited for panicked, so there is no report. A bug: the
    /// closes of subscribers and publishers, the only code of others it runs, are guarded.
    #[error("the engine's shutdown panicked; there is no stop report")]
    ShutdownPanicked,

    /// `start` could not subscribe a subscriber to its topic. The engine is then stopped.
    #[error("cannot subscribe {name:?}")]
    Subscribe {
        /// The subscriber's name.
        name: String,
        /// The transport's error.
        #[source]
        source: switchyard_core::Error,
    },

    /// `start` could not build the fan-in or fan-out from the registered components.
    #[error("cannot wire the engine's pipeline")]
    Wiring(#[from] BuildError),
}

/// Redacts and bounds configuration text before it is stored in an error or a label.
pub(crate) fn shown(text: &str) -> String {
    redact(text).chars().take(MAX_SHOWN).collect()
}

/// The longest prefix of `text` that is at most `max` bytes and ends on a char boundary:
/// bounds outside text before it is stored.
pub(crate) fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}
