//! Request/reply: a request carries a fresh `correlationid` and waits, with a timeout, for
//! the one response that carries the same id.
//!
//! The [`Correlator`] keeps the requests that wait. Its map never leaks: an entry leaves on
//! the response, on the timeout and when the caller drops the request future, and there is
//! no background cleanup task to forget to stop.
//!
//! ```
//! use std::time::Duration;
//! use switchyard_bus::request::Correlator;
//! use switchyard_core::Message;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let correlator = Correlator::new(1024);
//! let pending = correlator.begin()?;
//! let response = Message::builder().correlation_id(pending.correlation_id()).payload("pong").build()?;
//! correlator.resolve(response)?;
//! assert_eq!(pending.wait(Duration::from_secs(1)).await?.payload(), "pong");
//! assert_eq!(correlator.stats().pending, 0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

mod correlator;
mod error;
mod pending;

pub use self::{
    correlator::{Correlator, CorrelatorStats, EXPIRED_MEMORY},
    error::RequestError,
    pending::PendingReply,
};

#[cfg(test)]
mod tests;
