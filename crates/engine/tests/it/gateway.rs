//! The channel gateway: round trips, reply routing, concurrency, errors, shutdown, and the
//! TCP line-delimited JSON channel over a real loopback socket.

mod concurrency;
mod errors;
mod in_process;
mod routing;
mod shutdown;
mod support;
mod tcp;
