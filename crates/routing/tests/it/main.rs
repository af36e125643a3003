//! Integration tests of `switchyard-routing`, one module per area.
mod fan;
mod middleware;
mod pattern;
