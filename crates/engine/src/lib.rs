//! Switchyard's engine: it wires subscribers, routers and publishers declaratively, runs
//! the internal loop without deadlock, and hosts the channel [`gateway`].
//!
//! It depends on `switchyard-core` and `switchyard-routing`.
//!
//! # The engine
//!
//! An [`Engine`] takes subscribers by name, routers by source and publishers by destination
//! prefix, then [`start`](Engine::start)s a pipeline:
//!
//! ```text
//! subscribers ─▶ FanIn ─▶ intake ─▶ router workers ─▶ FanOut ─┬─▶ publishers
//!                           ▲                                 ├─▶ dead letter
//!                           └──────── internal loop ◀─────────┘
//! ```
//!
//! A subscribed message is acked only once its handler succeeded and every output was
//! published or handled through the loop; see [`Engine`] for the whole contract, and
//! [`Engine::stop`] for the graceful shutdown and its [`StopReport`].
//!
//! # The internal loop
//!
//! An output whose destination uses the loop scheme (`loop://` by default) re-enters the
//! engine and is routed again, like the seed's `gopipe://`. The seed's project removed its
//! loop because merger → router → distributor → loop → merger deadlocked once every buffer
//! was full. Here that cannot happen, by construction:
//!
//! - waiting only ever goes downstream: the intake waits on a worker's queue, and a worker
//!   on its publishers, which do not wait on the engine (see the `pipeline` module's
//!   documentation in the source for the whole argument);
//! - a worker never waits on the loop's bounded queue: a loop output that finds it full
//!   goes to the dead letter with the reason [`reason::LOOP_OVERFLOW`], and the
//!   [`EngineObserver::on_loop_overflow`] hook fires;
//! - the intake drains the loop before it takes new input, so loop traffic finishes first;
//! - every message carries its hop count ([`HOPS_ATTRIBUTE`]); an output past
//!   [`EngineBuilder::max_hops`] is dead-lettered ([`reason::HOP_LIMIT`]), so cycles end.
//!
//! # Simple mode
//!
//! Routing's [`Router`](switchyard_routing::router::Router) and its
//! [middleware](switchyard_routing::middleware) work on their own, without an engine: a
//! router is a handler lookup that returns the outputs, which the caller sends wherever it
//! likes and settles the input itself.
//!
//! ```
//! use std::time::Duration;
//!
//! use switchyard_core::{Error, Message, handler_fn};
//! use switchyard_routing::{
//!     middleware::{retry::RetryLayer, timeout::TimeoutLayer},
//!     router::Router,
//! };
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build()?.block_on(async {
//! let router = Router::builder()
//!     .handle("orders.created", handler_fn(|order: Message| async move {
//!         let reserved = Message::builder()
//!             .message_type("stock.reserved")
//!             .destination("kafka://stock")
//!             .causation_id(order.attributes().id().unwrap_or_default())
//!             .build()?;
//!         Ok(vec![reserved])
//!     }))?
//!     .handle("orders.flaky", handler_fn(|_order: Message| async {
//!         Err::<Vec<Message>, _>(Error::transient_handler("stock service unavailable"))
//!     }))?
//!     // Router-wide middleware: each attempt gets 5 s, and transient errors are retried.
//!     .layer(TimeoutLayer::new(Duration::from_secs(5))?)
//!     .layer(RetryLayer::builder().max_attempts(3).build()?)
//!     .build();
//!
//! let order = Message::builder().message_type("orders.created").build()?;
//! let outputs = router.handle(&order).await?;
//! assert_eq!(outputs[0].attributes().destination(), Some("kafka://stock"));
//! order.ack(); // the caller settles the input once the outputs are sent
//!
//! let flaky = Message::builder().message_type("orders.flaky").build()?;
//! let err = router.handle(&flaky).await.unwrap_err();
//! assert!(err.is_transient(), "retried three times, then left for redelivery");
//! flaky.nack();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod ack;
mod config;
mod engine;
mod error;
pub mod gateway;
mod handle;
mod health;
mod observer;
mod pipeline;
pub mod reason;
mod report;
mod state;
mod stats;
mod ticker;

pub use config::{EngineBuilder, KeyOrdering, MAX_WORKERS, RouterOptions};
pub use engine::Engine;
pub use error::{ComponentKind, EngineError};
pub use health::{ComponentHealth, EngineCounts, Health, QueueHealth, QueueKind};
pub use observer::{EngineObserver, ObserverFns};
pub use pipeline::publish::topic_of;
pub use reason::HOPS_ATTRIBUTE;
pub use report::StopReport;
pub use state::EngineState;
pub use ticker::{Tick, TickerSubscriber};
