//! The engine end to end, over in-test subscribers and publishers.

mod ack;
mod degraded;
mod fairness;
mod lifecycle;
mod looping;
mod observe;
mod ordering;
mod start;
mod stop;
mod support;
mod ticker;
