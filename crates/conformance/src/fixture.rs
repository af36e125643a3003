//! Test data and bookkeeping shared by the scenarios.

pub(crate) mod batch;
pub(crate) mod tally;

#[cfg(test)]
mod tests;
