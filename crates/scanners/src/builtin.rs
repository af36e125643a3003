//! The built-in scanners: lease expiry, attempt timeout, delayed promotion and retention,
//! each working against a store trait.

mod attempt_timeout;
mod common;
mod delayed_promoter;
mod lease_expiry;
mod retention;
mod retention_trimmer;
mod settle;

pub use attempt_timeout::{AttemptTimeoutBuilder, AttemptTimeoutScanner};
pub use delayed_promoter::{DelayedPromoter, DelayedPromoterBuilder};
pub use lease_expiry::{LeaseExpiryBuilder, LeaseExpiryScanner};
pub use retention::Retention;
pub use retention_trimmer::{RetentionTrimmer, RetentionTrimmerBuilder, TopicTrim};

#[cfg(test)]
mod tests;
