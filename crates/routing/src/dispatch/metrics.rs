//! Dispatch metrics: lock-free counters and a latency histogram, readable as a snapshot and
//! reported through the `metrics` facade.

use std::{
    sync::atomic::{AtomicU64, Ordering::Relaxed},
    time::Duration,
};

use super::{DispatchStatus, DispatcherId};

/// Log-linear buckets: four per power of two, so every bucket is within 25% of its value.
/// 252 buckets cover 0 ns to 2^64 ns.
const BUCKETS: usize = 252;

/// A latency histogram that is updated with one relaxed atomic add per sample: recording
/// never takes a lock, so concurrent dispatches do not serialize on their metrics.
pub(super) struct LatencyHistogram {
    buckets: Box<[AtomicU64]>,
    count: AtomicU64,
    sum_ns: AtomicU64,
}

impl LatencyHistogram {
    pub(super) fn new() -> Self {
        Self {
            buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            count: AtomicU64::new(0),
            sum_ns: AtomicU64::new(0),
        }
    }

    pub(super) fn record(&self, latency: Duration) {
        let ns = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX);
        self.buckets[bucket_of(ns)].fetch_add(1, Relaxed);
        self.count.fetch_add(1, Relaxed);
        self.sum_ns.fetch_add(ns, Relaxed);
    }

    fn mean(&self) -> Duration {
        let count = self.count.load(Relaxed);
        if count == 0 {
            return Duration::ZERO;
        }
        Duration::from_nanos(self.sum_ns.load(Relaxed) / count)
    }

    /// The `q` quantile (0.0 to 1.0), as the midpoint of the bucket that holds it.
    fn quantile(&self, q: f64) -> Duration {
        let counts: Vec<u64> = self
            .buckets
            .iter()
            .map(|bucket| bucket.load(Relaxed))
            .collect();
        let total: u64 = counts.iter().sum();
        if total == 0 {
            return Duration::ZERO;
        }
        // The rank of the sample we want, 1-based: the smallest rank r with r/total >= q.
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss,
            reason = "q is in 0..=1, so the rank is in 1..=total"
        )]
        let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
        let mut seen = 0;
        for (index, count) in counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return Duration::from_nanos(midpoint_of(index));
            }
        }
        Duration::from_nanos(midpoint_of(BUCKETS - 1))
    }
}

fn bucket_of(ns: u64) -> usize {
    if ns < 4 {
        return ns as usize;
    }
    let exp = 63 - ns.leading_zeros() as usize;
    let sub = ((ns >> (exp - 2)) & 0b11) as usize;
    4 * (exp - 1) + sub
}

fn midpoint_of(index: usize) -> u64 {
    if index < 4 {
        return index as u64;
    }
    let exp = index / 4 + 1;
    let sub = (index % 4) as u64;
    let width = 1u64 << (exp - 2);
    ((4 + sub) << (exp - 2)).saturating_add(width / 2)
}

/// Per-dispatcher counters.
#[derive(Default)]
pub(super) struct DispatcherCounters {
    executions: AtomicU64,
    errors: AtomicU64,
}

/// Everything the engine counts.
pub(super) struct DispatchMetrics {
    dispatches: AtomicU64,
    successes: AtomicU64,
    latency: LatencyHistogram,
    dispatchers: Vec<(DispatcherId, DispatcherCounters)>,
}

impl DispatchMetrics {
    pub(super) fn new(dispatcher_ids: impl IntoIterator<Item = DispatcherId>) -> Self {
        Self {
            dispatches: AtomicU64::new(0),
            successes: AtomicU64::new(0),
            latency: LatencyHistogram::new(),
            dispatchers: dispatcher_ids
                .into_iter()
                .map(|id| (id, DispatcherCounters::default()))
                .collect(),
        }
    }

    pub(super) fn record_dispatch(&self, status: DispatchStatus, latency: Duration) {
        self.dispatches.fetch_add(1, Relaxed);
        if status.is_successful() {
            self.successes.fetch_add(1, Relaxed);
        }
        self.latency.record(latency);
        metrics::counter!("switchyard_dispatch_total", "status" => status.as_str()).increment(1);
        metrics::histogram!("switchyard_dispatch_duration_seconds").record(latency.as_secs_f64());
    }

    pub(super) fn record_execution(&self, dispatcher: usize, failed: bool) {
        let (id, counters) = &self.dispatchers[dispatcher];
        counters.executions.fetch_add(1, Relaxed);
        // Dispatcher ids are registered before freezing, so the label set is bounded.
        metrics::counter!("switchyard_dispatcher_executions_total", "dispatcher" => id.0.clone())
            .increment(1);
        if failed {
            counters.errors.fetch_add(1, Relaxed);
            metrics::counter!("switchyard_dispatcher_errors_total", "dispatcher" => id.0.clone())
                .increment(1);
        }
    }

    pub(super) fn snapshot(&self) -> MetricsSnapshot {
        let dispatches = self.dispatches.load(Relaxed);
        let successes = self.successes.load(Relaxed);
        MetricsSnapshot {
            dispatches,
            successes,
            success_rate: ratio(successes, dispatches),
            latency_avg: self.latency.mean(),
            latency_p50: self.latency.quantile(0.50),
            latency_p99: self.latency.quantile(0.99),
            dispatchers: self
                .dispatchers
                .iter()
                .map(|(id, counters)| {
                    let executions = counters.executions.load(Relaxed);
                    let errors = counters.errors.load(Relaxed);
                    DispatcherSnapshot {
                        id: id.0.to_string(),
                        executions,
                        errors,
                        error_rate: ratio(errors, executions),
                    }
                })
                .collect(),
        }
    }
}

#[allow(
    clippy::cast_precision_loss,
    reason = "a rate does not need 64 bits of precision"
)]
fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// The engine's metrics at one moment. Latency quantiles are accurate to within 25% (the
/// width of a histogram bucket).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct MetricsSnapshot {
    /// Dispatches so far.
    pub dispatches: u64,
    /// Dispatches whose status was `Success`.
    pub successes: u64,
    /// `successes / dispatches`, or 0 before the first dispatch.
    pub success_rate: f64,
    /// Mean dispatch latency.
    pub latency_avg: Duration,
    /// Median dispatch latency.
    pub latency_p50: Duration,
    /// 99th-percentile dispatch latency.
    pub latency_p99: Duration,
    /// Per dispatcher, in registration order.
    pub dispatchers: Vec<DispatcherSnapshot>,
}

/// One dispatcher's counters.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct DispatcherSnapshot {
    /// The dispatcher's id.
    pub id: String,
    /// How many times it ran, or was refused for too many blocking runs outstanding.
    pub executions: u64,
    /// How many of those failed (error, panic, timeout or refusal).
    pub errors: u64,
    /// `errors / executions`, or 0 before the first execution.
    pub error_rate: f64,
}

#[cfg(test)]
mod tests {
    //! Tests of the histogram's buckets and quantiles.

    use super::*;

    #[test]
    fn buckets_are_monotonic_and_tight() {
        let mut last = 0;
        for ns in (0..10_000u64).chain([u64::MAX / 2, u64::MAX]) {
            let bucket = bucket_of(ns);
            assert!(bucket >= last && bucket < BUCKETS, "{ns} -> {bucket}");
            last = bucket;
            let mid = midpoint_of(bucket);
            #[allow(clippy::cast_precision_loss, reason = "test tolerance")]
            let error = (mid as f64 - ns as f64).abs() / (ns.max(1) as f64);
            assert!(error <= 0.25, "{ns} is shown as {mid}");
        }
    }

    #[test]
    fn quantiles() {
        let histogram = LatencyHistogram::new();
        assert_eq!(histogram.quantile(0.5), Duration::ZERO);
        for micros in 1..=100 {
            histogram.record(Duration::from_micros(micros));
        }
        let within = |actual: Duration, expected_micros: u64| {
            let expected = Duration::from_micros(expected_micros).as_secs_f64();
            (actual.as_secs_f64() - expected).abs() <= expected * 0.25
        };
        assert!(
            within(histogram.quantile(0.5), 50),
            "{:?}",
            histogram.quantile(0.5)
        );
        assert!(
            within(histogram.quantile(0.99), 99),
            "{:?}",
            histogram.quantile(0.99)
        );
        assert!(within(histogram.mean(), 50), "{:?}", histogram.mean());
    }
}
