//! The health monitor: an owned task that runs every endpoint's health check on an
//! interval and marks endpoints healthy or unhealthy.

use std::{
    panic::AssertUnwindSafe,
    sync::{Arc, Weak},
    time::Duration,
};

use futures::{FutureExt, StreamExt};
use switchyard_core::deadline::FAR_FUTURE;
use tokio::{
    sync::watch,
    time::{MissedTickBehavior, interval},
};
use tokio_util::sync::CancellationToken;

use super::{registry::Inner, state::EndpointState};

/// How many health checks run at once within a round, so that a registry of thousands of
/// endpoints does not open thousands of connections at every tick.
const CONCURRENT_CHECKS: usize = 32;

/// The monitor's loop. It holds the registry weakly, so that dropping the last handle ends
/// it; `cancel` ends it at once, even in the middle of a round.
pub(crate) async fn run(
    registry: Weak<Inner>,
    cancel: CancellationToken,
    changes: watch::Sender<u64>,
    every: Duration,
    timeout: Duration,
) {
    // Capped so that tokio's interval never adds an overflowing period: `Duration::MAX`
    // checks once, at start, and then not again in the life of the process.
    let mut ticker = interval(every.min(FAR_FUTURE));
    // A slow round delays the next one rather than causing a burst of catch-up rounds.
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    tracing::debug!(?every, "endpoint health monitor started");
    loop {
        tokio::select! {
            biased;
            () = cancel.cancelled() => break,
            _ = ticker.tick() => {}
        }
        let Some(inner) = registry.upgrade() else {
            break;
        };
        let endpoints: Vec<Arc<EndpointState>> = inner
            .table
            .load()
            .index
            .iter()
            .filter(|entry| entry.value.health_check.is_some())
            .map(|entry| entry.value.clone())
            .collect();
        drop(inner);
        tokio::select! {
            biased;
            () = cancel.cancelled() => break,
            () = check_all(endpoints, timeout, &changes) => {}
        }
    }
    tracing::debug!("endpoint health monitor stopped");
}

/// Runs one round of checks and applies each verdict as it arrives.
async fn check_all(
    endpoints: Vec<Arc<EndpointState>>,
    timeout: Duration,
    changes: &watch::Sender<u64>,
) {
    futures::stream::iter(endpoints)
        .map(|endpoint| async move {
            let verdict = match &endpoint.health_check {
                // A check that panics fails: unguarded, its panic would end the monitor
                // task, and with it the health checks of every endpoint, silently.
                Some(check) => match tokio::time::timeout(
                    timeout,
                    AssertUnwindSafe(async { check.check().await }).catch_unwind(),
                )
                .await
                {
                    Ok(Ok(Ok(()))) => Ok(()),
                    Ok(Ok(Err(err))) => Err(switchyard_core::report(&*err)),
                    Ok(Err(_panic)) => Err("health check panicked".to_owned()),
                    Err(_) => Err(format!("health check timed out after {timeout:?}")),
                },
                None => Ok(()),
            };
            (endpoint, verdict)
        })
        .buffer_unordered(CONCURRENT_CHECKS)
        .for_each(|(endpoint, verdict)| {
            apply(&endpoint, verdict, changes);
            async {}
        })
        .await;
}

fn apply(endpoint: &EndpointState, verdict: Result<(), String>, changes: &watch::Sender<u64>) {
    if endpoint.is_removed() || !endpoint.set_healthy(verdict.is_ok()) {
        return;
    }
    match verdict {
        Ok(()) => tracing::info!(endpoint = %endpoint.id, "endpoint healthy again"),
        Err(reason) => tracing::warn!(endpoint = %endpoint.id, %reason, "endpoint unhealthy"),
    }
    changes.send_modify(|count| *count += 1);
}
