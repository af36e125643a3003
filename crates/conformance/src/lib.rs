//! The universal transport conformance suite: scenarios that every Switchyard transport
//! runs against a real instance of itself, modelled on Watermill's universal Pub/Sub tests
//! (`pubsub/tests/test_pubsub.go`).
//!
//! A transport's tests implement [`Harness`] (how to get publishers, subscribers, group
//! members, and where supported a broker restart), state its [`Features`], and run the
//! suite either as one test per scenario with [`conformance_tests!`] (best with nextest)
//! or in one test with [`run_all`]. Each scenario is also a public function in
//! [`scenarios`].
//!
//! Every scenario identifies its messages by unique attributes, so counts are exact and
//! every delivery is compared with what was published (payload and attributes).
//! Duplicates are allowed unless the transport claims
//! [`exactly_once`](Features::exactly_once); losses never are. Even at least once,
//! `publish_subscribe` and `no_ack` fail on a delivery that comes once every message has
//! arrived and been acked with nothing nacked, closed or restarted: that would be an ack
//! the transport ignored. A scenario that does not apply to the features returns
//! [`Outcome::NotApplicable`] with the reason, never a silent pass. Every wait is bounded
//! by a deadline of the [`SuiteConfig`], so a transport that hangs fails rather than
//! hanging the run.
//!
//! ```no_run
//! use std::{future::ready, sync::Arc};
//!
//! use async_trait::async_trait;
//! use switchyard_conformance::{Features, Harness, SuiteConfig, run_all};
//! use switchyard_core::{Publisher, Result, Subscriber};
//!
//! struct InProcess<T>(Arc<T>);
//!
//! #[async_trait]
//! impl<T: Publisher + Subscriber + 'static> Harness for InProcess<T> {
//!     async fn publisher(&self) -> Result<Arc<dyn Publisher>> {
//!         Ok(self.0.clone())
//!     }
//!
//!     async fn subscriber(&self) -> Result<Arc<dyn Subscriber>> {
//!         Ok(self.0.clone())
//!     }
//! }
//!
//! async fn conformance<T: Publisher + Subscriber + 'static>(make: impl Fn() -> T) {
//!     let features = Features {
//!         require_single_instance: true,
//!         guaranteed_order_single_subscriber: true,
//!         ..Features::default()
//!     };
//!     let report = run_all(
//!         || ready(InProcess(Arc::new(make()))),
//!         features,
//!         &SuiteConfig::default(),
//!     )
//!     .await;
//!     assert!(report.not_applicable().iter().any(|(name, _)| *name == "reconnect"));
//! }
//! ```
//!
//! This crate is test support: transports list it under `[dev-dependencies]`. It depends
//! on `switchyard-core` only.

mod config;
mod ctx;
mod features;
mod fixture;
mod harness;
mod macros;
mod outcome;
mod run;
pub mod scenarios;

pub use config::{ConfigError, SuiteConfig, SuiteConfigBuilder};
pub use features::Features;
pub use harness::Harness;
pub use outcome::{Outcome, Report};
pub use run::run_all;
#[doc(hidden)]
pub use run::{__check_listed, __finish};
pub use scenarios::{Scenario, ScenarioFn};
