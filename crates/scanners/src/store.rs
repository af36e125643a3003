//! The store traits that the built-in scanners work against, designed so that a Redis
//! Streams transport can implement them, and the in-memory store implements them here.
//!
//! | trait | what it holds | Redis Streams |
//! | --- | --- | --- |
//! | [`LeaseStore`] | deliveries in flight, each with a lease | the consumer group's pending entries list: `XPENDING … IDLE`, reclaimed with `XCLAIM`/`XAUTOCLAIM` |
//! | [`AttemptStore`] | deliveries in flight, each with an attempt deadline | a sorted set of attempt deadlines beside the pending entries list |
//! | [`DelayedStore`] | messages scheduled for later | a sorted set scored by due time, promoted into the stream with `XADD` |
//! | [`RetentionStore`] | each topic's log | the stream, trimmed with `XTRIM MAXLEN` or `XTRIM MINID` |
//!
//! Every method takes the [`Partition`](crate::Partition) it works on (a Redis transport
//! puts a partition's keys in one hash slot) and, where time matters, the scanner's
//! `now`, so that every store reads the same clock. The scanners read first and act
//! second; every act is conditional on what was read being still true (a compare-and-set,
//! in Redis a script or a `MIN-IDLE-TIME`), so a store may be scanned by several
//! processes at once.

mod attempt;
mod delayed;
mod entry;
mod lease;
mod pending;
mod retention;

pub use attempt::AttemptStore;
pub use delayed::{DelayedStore, DueEntry};
pub use entry::EntryId;
pub use lease::LeaseStore;
pub use pending::{DeadLetterReason, InFlight, PendingStore};
pub use retention::{RetentionStore, Trim};
