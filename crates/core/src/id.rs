//! Generation of message ids and timestamps.

use std::time::SystemTime;

use time::{OffsetDateTime, format_description::well_known::Rfc3339};

/// A new time-ordered message id: a UUIDv7, so ids sort by creation time.
pub(crate) fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// `time` as an RFC 3339 timestamp in UTC.
pub(crate) fn format_time(time: SystemTime) -> String {
    OffsetDateTime::from(time)
        .format(&Rfc3339)
        // A `SystemTime` out of RFC 3339's years 0-9999 cannot come from a clock; fall back
        // to the epoch rather than fail a message over it.
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}

/// Parses an RFC 3339 timestamp, with any offset.
pub(crate) fn parse_time(text: &str) -> Option<SystemTime> {
    OffsetDateTime::parse(text, &Rfc3339)
        .ok()
        .map(SystemTime::from)
}
