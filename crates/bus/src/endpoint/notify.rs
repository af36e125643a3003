//! [`EndpointRegistry::notify`]: a message to every available matching endpoint at once,
//! and the [`NotifyReport`] of how each fared.

use std::sync::Arc;

use switchyard_core::Message;
use tokio::time::Instant;

use super::{
    error::{EndpointError, Refusal},
    registry::EndpointRegistry,
    state::Admission,
};

/// How one endpoint fared in a [`notify`](EndpointRegistry::notify).
#[derive(Debug)]
#[non_exhaustive]
pub enum NotifyResult {
    /// Its handler succeeded. Its outputs are dropped: a notification expects no answer.
    Delivered,
    /// Its handler failed, or no delivery slot came free in time.
    Failed(EndpointError),
    /// It was not called: it is unhealthy or its circuit refused.
    Skipped(Refusal),
}

/// One endpoint's part in a [`NotifyReport`].
#[derive(Debug)]
#[non_exhaustive]
pub struct NotifyOutcome {
    /// The endpoint's id.
    pub endpoint: Arc<str>,
    /// How it fared.
    pub result: NotifyResult,
}

/// What [`notify`](EndpointRegistry::notify) did for every endpoint whose route matched,
/// best first.
#[derive(Debug, Default)]
pub struct NotifyReport {
    outcomes: Vec<NotifyOutcome>,
}

impl NotifyReport {
    /// Every matching endpoint's outcome, best first (priority, then registration order).
    pub fn outcomes(&self) -> &[NotifyOutcome] {
        &self.outcomes
    }

    /// The outcomes, owned.
    pub fn into_outcomes(self) -> Vec<NotifyOutcome> {
        self.outcomes
    }

    /// Whether no endpoint's route matched the topic.
    pub fn is_empty(&self) -> bool {
        self.outcomes.is_empty()
    }

    /// How many endpoints' handlers succeeded.
    pub fn delivered(&self) -> usize {
        self.count(|result| matches!(result, NotifyResult::Delivered))
    }

    /// How many endpoints failed.
    pub fn failed(&self) -> usize {
        self.count(|result| matches!(result, NotifyResult::Failed(_)))
    }

    /// How many endpoints were skipped.
    pub fn skipped(&self) -> usize {
        self.count(|result| matches!(result, NotifyResult::Skipped(_)))
    }

    /// The outcome of the endpoint `id`, if its route matched.
    pub fn get(&self, id: &str) -> Option<&NotifyResult> {
        self.outcomes
            .iter()
            .find(|outcome| &*outcome.endpoint == id)
            .map(|outcome| &outcome.result)
    }

    fn count(&self, which: impl Fn(&NotifyResult) -> bool) -> usize {
        self.outcomes
            .iter()
            .filter(|outcome| which(&outcome.result))
            .count()
    }
}

impl EndpointRegistry {
    /// Delivers `message` to every endpoint whose route matches `topic` and that is healthy
    /// with a closed circuit (or a half-open one with a trial slot free), concurrently,
    /// and reports how each fared. Each call takes one of the
    /// [`max_concurrent_deliveries`](super::EndpointConfig::max_concurrent_deliveries)
    /// slots. The calls run within the caller's task: nothing is spawned.
    ///
    /// An empty report means no route matched. After [`shutdown`](Self::shutdown) every
    /// endpoint that would have been called fails with [`EndpointError::Closed`].
    pub async fn notify(&self, topic: &str, message: &Message) -> NotifyReport {
        let started = std::time::Instant::now();
        let now = Instant::now();
        let mut outcomes = Vec::new();
        let mut admitted: Vec<(usize, Admission)> = Vec::new();
        {
            let table = self.inner.table.load();
            for entry in table.index.find_all(topic) {
                let endpoint = entry.value;
                if endpoint.is_removed() {
                    continue;
                }
                let result = match endpoint.try_admit(now) {
                    Ok(admission) => {
                        admitted.push((outcomes.len(), admission));
                        // Replaced below by the call's result.
                        NotifyResult::Delivered
                    }
                    Err(reason) => NotifyResult::Skipped(reason),
                };
                outcomes.push(NotifyOutcome {
                    endpoint: endpoint.id.clone(),
                    result,
                });
            }
        }
        self.inner.observe_routing(started, outcomes.len());

        let calls = admitted.into_iter().map(|(at, admission)| async move {
            let result = match self.acquire_slot().await {
                Ok(_slot) => admission.call(message, None).await,
                Err(err) => Err(err),
            };
            (at, result)
        });
        for (at, result) in futures::future::join_all(calls).await {
            outcomes[at].result = match result {
                Ok(_outputs) => NotifyResult::Delivered,
                Err(err) => NotifyResult::Failed(err),
            };
        }
        NotifyReport { outcomes }
    }
}
