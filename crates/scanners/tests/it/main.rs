//! Integration tests of `switchyard-scanners`: the supervisor, push and reconcile, and the
//! built-in scanners over the in-memory store, all on Tokio's paused clock.

mod attempt;
mod delayed;
mod lease;
mod reconcile;
mod retention;
mod supervisor;
mod support;
