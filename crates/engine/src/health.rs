//! A point-in-time view of an engine: [`Health`], with its [`EngineCounts`], queue depths
//! and per-component errors.

use crate::{ComponentKind, EngineState};

/// What [`Engine::health`](crate::Engine::health) returns: the state, what is registered,
/// what is in flight, how full each queue is, and each component's errors.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Health {
    /// The lifecycle state.
    pub state: EngineState,
    /// How many subscribers are registered.
    pub subscribers: usize,
    /// How many routers are registered.
    pub routers: usize,
    /// How many publishers are registered (one per destination prefix).
    pub publishers: usize,
    /// Root messages taken from subscribers and not settled yet, their loop descendants and
    /// outputs included.
    pub in_flight: u64,
    /// The counters since start.
    pub counts: EngineCounts,
    /// Every queue of the running pipeline: each worker's and the loop's. Empty before
    /// start.
    pub queues: Vec<QueueHealth>,
    /// Every registered component, with its errors.
    pub components: Vec<ComponentHealth>,
    /// Why the engine stopped working as it should while its [`state`](Self::state) says
    /// otherwise, if it did: today, the intake ending with a panic in a subscriber's
    /// stream, after which the engine takes no more input although it is still `Running`. Redacted
    /// and bounded. `None` for a healthy engine, and after a normal `stop`; once set, it
    /// stays set, through `stop` too, for the record. An engine whose state is `Running`
    /// and that reports this should be stopped and replaced.
    pub degraded: Option<String>,
}

impl Health {
    /// The queue called `name`, if any.
    pub fn queue(&self, name: &str) -> Option<&QueueHealth> {
        self.queues.iter().find(|queue| queue.name == name)
    }

    /// The component of `kind` called `name`, if any.
    pub fn component(&self, kind: ComponentKind, name: &str) -> Option<&ComponentHealth> {
        self.components
            .iter()
            .find(|component| component.kind == kind && component.name == name)
    }
}

/// Counters of an engine since it started. They only grow.
///
/// *Root* messages are those taken from subscribers; loop messages and outputs are not
/// counted here, they settle their root. Once every root is settled,
/// `received == acked + nacked`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct EngineCounts {
    /// Root messages taken from subscribers.
    pub received: u64,
    /// Root messages acked: handled, with every output accepted or dead-lettered.
    pub acked: u64,
    /// Root messages nacked, so that their transport redelivers them.
    pub nacked: u64,
    /// Messages handed to the dead letter (roots, loop messages and outputs).
    pub dead_lettered: u64,
    /// Loop messages that found the loop full and went to the dead letter.
    pub loop_overflows: u64,
    /// Loop messages over the hop limit, sent to the dead letter.
    pub hop_limited: u64,
}

impl EngineCounts {
    /// Root messages received and not settled yet: `received - acked - nacked`.
    pub fn in_flight(&self) -> u64 {
        self.received
            .saturating_sub(self.acked)
            .saturating_sub(self.nacked)
    }
}

/// Which part of the pipeline a queue belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum QueueKind {
    /// A router worker's input queue.
    Worker,
    /// The internal loop.
    Loop,
}

/// How full one queue is.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct QueueHealth {
    /// The queue's name: `<source>/<n>` for the n-th worker of a router, `loop` for the
    /// internal loop.
    pub name: String,
    /// Its role.
    pub kind: QueueKind,
    /// Messages in it now.
    pub depth: usize,
    /// Its bound.
    pub capacity: usize,
}

/// One registered component and its errors.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ComponentHealth {
    /// The kind of component.
    pub kind: ComponentKind,
    /// Its name: the subscriber's name, the router's source, the publisher's prefix.
    pub name: String,
    /// Errors so far.
    pub errors: u64,
    /// The last error's report, redacted (see [`switchyard_core::report`]) and bounded.
    pub last_error: Option<String>,
}
