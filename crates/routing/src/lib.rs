//! Switchyard's routing layer: the [`pattern`] index that maps topics to routes, [`fan`]-in
//! and fan-out of message streams, the type [`router`] with its [`middleware`], and the
//! [`dispatch`] engine.
//!
//! It depends only on `switchyard-core`.

pub mod dispatch;
pub mod fan;
pub mod middleware;
pub mod pattern;
pub mod router;
