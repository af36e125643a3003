//! The middleware of `switchyard_routing::middleware`: each layer on its own, their
//! configuration errors, and layers composed into a stack. Every test runs on tokio's paused
//! clock, so time-dependent behaviour is exact and instant.

mod breaker;
mod config;
mod correlation;
mod dedup;
mod poison;
mod recoverer;
mod retry;
mod stack;
mod support;
mod throttle;
mod timeout;
