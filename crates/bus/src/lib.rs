//! Switchyard's in-memory bus, its embedded default transport.
//!
//! - [`pubsub`]: [`MemoryPubSub`](pubsub::MemoryPubSub), which implements `core`'s
//!   `Publisher` and `Subscriber` with exact and pattern subscriptions, consumer groups, the
//!   ack contract with delayed redelivery, bounded queues and slow-consumer policies.
//! - [`request`]: request/reply correlation that never leaks.
//! - [`endpoint`]: the endpoint registry, with load balancing, failover, health checks and
//!   per-endpoint circuit breakers.
//! - [`batch`]: a batching wrapper around any `Publisher`.
//! - [`Bus`] puts them behind one handle, telling requests, responses, notifications and
//!   events apart by their [`kind`].
//!
//! It depends on `switchyard-core` and `switchyard-routing`.

pub mod batch;
mod bus;
mod config;
pub mod endpoint;
pub mod kind;
pub mod pubsub;
pub mod request;

pub use self::{
    bus::{Bus, REPLY_INBOX},
    config::{BusConfig, BusConfigBuilder, BusConfigError},
};
