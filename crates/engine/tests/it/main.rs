//! Integration tests of `switchyard-engine`, one module per area.
mod engine;
mod gateway;
mod hanging;
