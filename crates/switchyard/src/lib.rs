//! Switchyard is a message dispatch engine: it receives messages from many sources, routes
//! them by type, topic pattern and destination to handlers, and sends what the handlers
//! produce on to a broker or back into itself, with request/reply, pub/sub, supervised
//! background scanners, and an in-memory default that needs no server at all.
//!
//! This crate re-exports the layers, each of which is also a crate of its own that can be
//! depended on alone:
//!
//! | module | crate | what it holds |
//! |---|---|---|
//! | [`core`] | `switchyard-core` | `Message`, `Attributes`, the ack contract, `Error`, `redact`, and the `Publisher`, `Subscriber` and `Handler` traits |
//! | [`routing`] | `switchyard-routing` | topic patterns and the pattern index, `FanIn`/`FanOut`, the type `Router` and its middleware, the dispatch engine |
//! | [`bus`] | `switchyard-bus` | the in-memory pub/sub (the embedded default transport), request/reply, endpoints with health and circuit breakers, batching |
//! | [`engine`] | `switchyard-engine` | the engine that wires subscribers, routers and publishers, with a deadlock-free internal loop, and the channel gateway |
//! | [`scanners`] | `switchyard-scanners` | supervised background scanners: lease expiry, delayed delivery, retention, attempt timeouts |
//!
//! The most used types are also re-exported at the top level.
//!
//! # Feature flags
//!
//! None yet. The Kafka and Redis transports will arrive behind the `kafka` and `redis`
//! features, each enabling its transport crate; a feature is added with the transport it
//! enables, never empty.

pub use switchyard_bus as bus;
pub use switchyard_core as core;
pub use switchyard_core::{
    Acker, Attributes, Error, Handler, Limits, Message, Publisher, Result, Subscriber, handler_fn,
    redact,
};
pub use switchyard_engine as engine;
pub use switchyard_routing as routing;
pub use switchyard_scanners as scanners;
