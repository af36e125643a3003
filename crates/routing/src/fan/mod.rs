//! Fan-in and fan-out: [`FanIn`] merges named input streams into one, and [`FanOut`] routes
//! each message by its `destination` to bounded outputs, the internal loop, or the dead
//! letter.
//!
//! These are the two ends of the engine's pipeline: subscribers → `FanIn` → routers →
//! `FanOut` → publishers, with the loop output feeding messages back in.
//!
//! - [`FanIn`] is a plain [`Stream`](futures::Stream) that polls its inputs, concurrently
//!   or in fair round-robin. It spawns nothing and buffers nothing, so backpressure reaches
//!   every input exactly; see its documentation for why.
//! - [`FanOut`] picks the output with the longest matching destination prefix, and applies
//!   that output's [`SlowConsumerPolicy`] when its bounded buffer is full. No message is
//!   ever dropped silently: it is queued, dead-lettered with a [`DeadLetterReason`], handed
//!   back in a [`FanOutError`], or dropped with a hook and a counter.
//!
//! # Avoiding a loop deadlock
//!
//! When the loop output's consumer feeds the same workers that call [`FanOut::route`], a
//! blocking loop can deadlock once every buffer on the cycle is full. Give the loop output a
//! policy that never waits, [`SlowConsumerPolicy::DeadLetter`] (or `Fail`, and handle the
//! error), and drain the loop with priority.
//!
//! Each output's counters are also reported through the `metrics` facade
//! (`switchyard_fanout_{routed,dropped,failed,overflow}_total{output}`). They are registered
//! once, when the fan-out is built, so that routing a message costs no label lookup: install
//! the metrics recorder before building the fan-out.

mod dead_letter;
mod error;
mod fan_in;
mod fan_out;
mod observer;
mod output;
mod policy;
mod prefix;
mod stats;

pub use dead_letter::{DEAD_LETTER_REASON, DeadLetterReason};
pub use error::{BuildError, FanOutError};
pub use fan_in::{FanIn, FanInBuilder, FanInMode, Tagged};
pub use fan_out::{DEFAULT_LOOP_SCHEME, Delivery, FanOut, FanOutBuilder, FanOutReceivers, Routed};
pub use observer::FanOutObserver;
pub use output::Output;
pub use policy::SlowConsumerPolicy;
pub use stats::{FanOutStats, OutputKind, OutputStats};
