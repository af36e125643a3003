//! The extension attributes that the scanners and the in-memory store stamp on messages.
//!
//! Names follow the CloudEvents rules that `switchyard-core` checks: lowercase letters
//! and digits, at most 20 characters.

/// How many times the message has been delivered, this delivery included, in decimal.
/// Set on every delivery from a store with leases, and on dead letters.
pub const DELIVERY_COUNT: &str = "deliverycount";

/// Why the message was dead-lettered: a
/// [`DeadLetterReason::as_str`](crate::DeadLetterReason::as_str) label.
pub const DEAD_LETTER_REASON: &str = "deadletterreason";
