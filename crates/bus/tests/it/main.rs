//! Integration tests of `switchyard-bus`, one module per area.
mod batch;
mod bus;
mod conformance;
mod endpoint;
mod lost_wakeup;
mod mutants;
mod pubsub;
