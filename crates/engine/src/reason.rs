//! The attributes that the engine writes on messages, and why it dead-letters them.
//!
//! Every dead-lettered message carries routing's
//! [`DEAD_LETTER_REASON`](switchyard_routing::fan::DEAD_LETTER_REASON) attribute
//! (`deadletterreason`). Its value is one of the reasons below, or one of routing's
//! [`DeadLetterReason`] words for outputs the fan-out could not route (`no-destination`,
//! `no-route`). Each is a short fixed word, fit for a metric label.

use switchyard_routing::fan::DeadLetterReason;

/// The attribute that counts a message's passes through the internal loop, as a decimal
/// number. A message from a subscriber has 0 hops, whatever this attribute says; each pass
/// through the loop sets it to one more than the message that produced it.
pub const HOPS_ATTRIBUTE: &str = "hops";

/// The attribute that carries, on a message dead-lettered because its handler failed, the
/// handler's error [report](switchyard_core::Error::report): redacted, and cut to
/// [`MAX_ERROR_LEN`] bytes.
pub const ERROR_ATTRIBUTE: &str = "deadlettererror";

/// The longest error kept in [`ERROR_ATTRIBUTE`], in bytes.
pub const MAX_ERROR_LEN: usize = 512;

/// No router takes the message: the source matcher found no source, or no router is
/// registered for it.
pub const NO_ROUTER: DeadLetterReason = DeadLetterReason::Other("no-router");

/// The router has no handler for the message's type, or the message has no type.
pub const NO_HANDLER: DeadLetterReason = DeadLetterReason::Other("no-handler");

/// The handler failed with a permanent error, after its middleware.
pub const HANDLER_FAILED: DeadLetterReason = DeadLetterReason::Other("handler-failed");

/// The handler panicked.
pub const HANDLER_PANICKED: DeadLetterReason = DeadLetterReason::Other("handler-panicked");

/// The internal loop's queue was full.
pub const LOOP_OVERFLOW: DeadLetterReason = DeadLetterReason::Other("loop-overflow");

/// The output would have gone around the loop more than the hop limit allows.
pub const HOP_LIMIT: DeadLetterReason = DeadLetterReason::Other("hop-limit");
