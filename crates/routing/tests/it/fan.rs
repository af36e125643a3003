//! Integration tests of `fan`: delivery counts against a reference model (proptest),
//! backpressure from a `FanIn` consumer to a producer, and a FanIn → FanOut pipeline whose
//! internal loop cannot deadlock with every buffer at 1.

use std::time::Duration;

mod backpressure;
mod delivery;
mod pipeline;

/// Deadline for anything that could hang: a hang fails the test instead.
const DEADLINE: Duration = Duration::from_secs(10);
