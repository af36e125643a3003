//! Generation of message ids and timestamps.

use std::time::{SystemTime, UNIX_EPOCH};

use time::{OffsetDateTime, format_description::well_known::Rfc3339};

/// The earliest and latest instants that RFC 3339 can write in UTC, in Unix seconds:
/// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z.
const MIN_UNIX: i64 = -62_167_219_200;
const MAX_UNIX: i64 = 253_402_300_799;

/// A new time-ordered message id: a UUIDv7, so ids sort by creation time.
pub(crate) fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// `time` as an RFC 3339 timestamp in UTC. A time outside the years 0000-9999 in UTC,
/// which RFC 3339 cannot write (and no clock gives), is clamped to them.
pub(crate) fn format_time(time: SystemTime) -> String {
    let nanos = match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i128::try_from(after.as_nanos()).unwrap_or(i128::MAX),
        Err(before) => i128::try_from(before.duration().as_nanos()).map_or(i128::MIN, |n| -n),
    };
    let nanos = nanos.clamp(
        i128::from(MIN_UNIX) * 1_000_000_000,
        i128::from(MAX_UNIX) * 1_000_000_000 + 999_999_999,
    );
    OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()
        .and_then(|utc| utc.format(&Rfc3339).ok())
        // Unreachable: every instant in the clamped range has a UTC RFC 3339 form.
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_owned())
}

/// Parses an RFC 3339 timestamp, with any offset, whose instant falls in the years
/// 0000-9999 in UTC, so that [`format_time`] writes it back unchanged.
pub(crate) fn parse_time(text: &str) -> Option<SystemTime> {
    let parsed = OffsetDateTime::parse(text, &Rfc3339).ok()?;
    (MIN_UNIX..=MAX_UNIX)
        .contains(&parsed.unix_timestamp())
        .then(|| SystemTime::from(parsed))
}
