//! `EntryId`: the position of an entry in a topic's log, shaped like a Redis stream id.

use std::{fmt, str::FromStr};

use crate::Error;

/// The id of an entry in a topic's log: milliseconds and a sequence number, ordered, as a
/// Redis stream id (`1700000000000-0`) is.
///
/// ```
/// use switchyard_scanners::EntryId;
///
/// let id: EntryId = "1700000000000-3".parse()?;
/// assert_eq!((id.millis(), id.seq()), (1_700_000_000_000, 3));
/// assert_eq!(id.to_string(), "1700000000000-3");
/// assert!(id < EntryId::new(1_700_000_000_001, 0));
/// # Ok::<(), switchyard_scanners::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct EntryId {
    millis: u64,
    seq: u64,
}

impl EntryId {
    /// The id `millis-seq`.
    pub const fn new(millis: u64, seq: u64) -> Self {
        Self { millis, seq }
    }

    /// The milliseconds part: when the entry was appended, in Unix milliseconds.
    pub const fn millis(self) -> u64 {
        self.millis
    }

    /// The sequence number among entries appended in the same millisecond.
    pub const fn seq(self) -> u64 {
        self.seq
    }

    /// The id to give an entry appended at `millis` after one with this id: Redis's rule,
    /// so ids grow even when the clock does not.
    pub const fn successor_at(self, millis: u64) -> Self {
        if millis > self.millis {
            Self::new(millis, 0)
        } else {
            Self::new(self.millis, self.seq.saturating_add(1))
        }
    }
}

impl fmt::Display for EntryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.millis, self.seq)
    }
}

impl FromStr for EntryId {
    type Err = Error;

    /// Parses `millis-seq`, or `millis` alone as `millis-0`.
    fn from_str(text: &str) -> Result<Self, Error> {
        let invalid = || Error::InvalidEntryId {
            text: text.chars().take(64).collect(),
        };
        let (millis, seq) = text.split_once('-').unwrap_or((text, "0"));
        let number = |part: &str| {
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid());
            }
            part.parse::<u64>().map_err(|_| invalid())
        };
        Ok(Self::new(number(millis)?, number(seq)?))
    }
}
