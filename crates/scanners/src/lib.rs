//! Supervised background scanners for Switchyard: periodic work over partitioned stores,
//! owned, restarted when it fails, and stopped within a deadline.
//!
//! - **The framework.** A [`Scanner`] has a name, an interval and a partition family; the
//!   [`Supervisor`] runs each scanner in its own task, ticks it with jitter, scans every
//!   partition of its family in turn, catches errors and panics, restarts with capped
//!   exponential backoff, reports [health](TaskHealth), and shuts down within a timeout
//!   with a [`ShutdownReport`] naming whatever did not stop.
//! - **Push and reconcile.** A [`Reconcile`] pairs an event-driven fast path with a
//!   periodic reconciler that catches what the fast path missed; see
//!   [`Supervisor::spawn_push_reconcile`].
//! - **Partitions.** The [`PartitionRouter`] maps a key to a partition of a family with a
//!   stable hash ([`partition_of`]), the same on every process and every run.
//! - **The built-in scanners.** [`LeaseExpiryScanner`], [`DelayedPromoter`],
//!   [`RetentionTrimmer`] and [`AttemptTimeoutScanner`] work against the store traits
//!   ([`LeaseStore`], [`DelayedStore`], [`RetentionStore`], [`AttemptStore`]) that
//!   transports implement; [`MemoryStore`] implements them all in memory. The traits are
//!   shaped after Redis Streams: see the [`store`] module.
//!
//! This crate depends on no Switchyard crate but `switchyard-core`. It never installs a
//! tracing subscriber; it logs through `tracing`, with every outside text redacted.
//!
//! ```
//! use std::time::Duration;
//! use switchyard_core::Message;
//! use switchyard_scanners::{Clock, Config, DelayedPromoter, MemoryStore, Supervisor};
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let config = Config::builder().family("default", 4).build()?;
//! let clock = Clock::system();
//! let supervisor = Supervisor::with_clock(config, clock);
//!
//! let store = MemoryStore::builder(4).build()?;
//! let partition = supervisor.router().partition("default", "order-7")?;
//! let due = clock.after(Duration::from_secs(10));
//! store.schedule(&partition, "orders", Message::new("remind"), due)?;
//! supervisor.spawn(DelayedPromoter::builder(store.clone()).build()?)?;
//!
//! // On this paused clock, time jumps from tick to tick until the message is promoted.
//! let mut changes = supervisor.subscribe();
//! while store.len(&partition, "orders")? == 0 {
//!     changes.changed().await?;
//! }
//! assert!(clock.now() >= due, "never before it is due");
//! assert!(supervisor.shutdown().await.is_clean());
//! # Ok(())
//! # }
//! ```

pub mod attributes;
mod builtin;
mod clock;
mod config;
mod error;
mod health;
mod jitter;
mod memory;
mod partition;
mod reconcile;
mod report;
mod scanner;
mod shutdown;
pub mod store;
mod supervisor;

pub use builtin::{
    AttemptTimeoutBuilder, AttemptTimeoutScanner, DelayedPromoter, DelayedPromoterBuilder,
    LeaseExpiryBuilder, LeaseExpiryScanner, Retention, RetentionTrimmer, RetentionTrimmerBuilder,
    TopicTrim,
};
pub use clock::Clock;
pub use config::{Config, ConfigBuilder};
pub use error::Error;
pub use health::{TaskHealth, TaskKind};
pub use jitter::{Backoff, Jitter};
pub use memory::{DeadLetter, Delivery, Lease, MemoryStore, MemoryStoreBuilder};
pub use partition::{
    DEFAULT_FAMILY, DEFAULT_PARTITIONS, Partition, PartitionRouter, PartitionRouterBuilder,
    partition_of,
};
pub use reconcile::{EventSource, EventStream, Reconcile};
pub use report::ScanReport;
pub use scanner::{ScanContext, Scanner};
pub use shutdown::ShutdownReport;
pub use store::{
    AttemptStore, DeadLetterReason, DelayedStore, DueEntry, EntryId, InFlight, LeaseStore,
    PendingStore, RetentionStore, Trim,
};
pub use supervisor::Supervisor;
