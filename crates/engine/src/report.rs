//! [`StopReport`]: what `stop` drained and what it left for redelivery.

use std::time::Duration;

use crate::EngineCounts;

/// What [`Engine::stop`](crate::Engine::stop) did, counted exactly in root messages (those
/// taken from subscribers; loop messages and outputs settle their root).
///
/// Every root that was in flight when `stop` began, or taken in before the intake stopped,
/// was either processed and acked (`drained`) or nacked so that its transport redelivers
/// it (`left`):
/// `in_flight_at_stop + received_while_stopping == drained + left + unsettled`, and
/// `unsettled` is 0 unless a task failed to end within the close timeout.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StopReport {
    /// Roots in flight when `stop` began.
    pub in_flight_at_stop: u64,
    /// Roots taken in after `stop` began, before the intake saw it.
    pub received_while_stopping: u64,
    /// Roots acked after `stop` began: processed during the drain.
    pub drained: u64,
    /// Roots nacked after `stop` began: still in flight at the deadline, or failed during
    /// the drain. Their transports redeliver them.
    pub left: u64,
    /// Roots still unsettled when `stop` returned; 0 unless `tasks_unfinished` is not.
    pub unsettled: u64,
    /// Whether everything in flight, the internal loop included, was processed before the
    /// timeout.
    pub quiescent: bool,
    /// Engine tasks that had not ended within the close timeout.
    pub tasks_unfinished: usize,
    /// Subscribers and publishers whose `close` failed or timed out; their errors are in
    /// [`Health::components`](crate::Health::components).
    pub close_failures: usize,
    /// The engine's counters at the end.
    pub totals: EngineCounts,
    /// How long `stop` took.
    pub elapsed: Duration,
}
