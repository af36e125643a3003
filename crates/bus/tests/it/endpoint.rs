//! The endpoint registry: load balancing, failover, circuit breakers, health monitoring,
//! registration while running, notify and the delivery cap. Every transition runs on
//! tokio's paused clock.

mod balancing;
mod breaker;
mod failover;
mod health;
mod limits;
mod registration;
mod support;
