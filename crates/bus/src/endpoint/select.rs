//! Choosing the one endpoint that a delivery goes to: the best priority tier first,
//! spread within a tier by the [`LoadBalancing`] policy, and on to the next endpoint (then
//! the next tier) while the candidate is unhealthy or its circuit refuses.

use std::sync::Arc;

use switchyard_routing::pattern::Match;
use tokio::time::Instant;

use super::{
    config::LoadBalancing,
    error::EndpointRefusal,
    state::{Admission, EndpointState},
};

/// What [`choose`] found.
#[derive(Debug)]
pub(crate) enum Choice {
    /// This endpoint was admitted.
    Admitted(Admission),
    /// Nothing matched (or every match was deregistered meanwhile).
    NoneMatched,
    /// Every match refused; none was called.
    AllRefused(Vec<EndpointRefusal>),
}

/// Admits the endpoint that a delivery goes to, among `matches` (best first, as
/// [`PatternIndex::find_all`](switchyard_routing::pattern::PatternIndex::find_all) orders
/// them).
pub(crate) fn choose(
    matches: &[Match<'_, Arc<EndpointState>>],
    balancing: LoadBalancing,
    now: Instant,
) -> Choice {
    let mut tried = Tried::default();
    for tier in matches.chunk_by(|a, b| a.priority == b.priority) {
        let n = tier.len();
        let start = if n == 1 {
            0
        } else {
            tier[0].value.next_turn() % n
        };
        let rotated = (0..n).map(|k| tier[(start + k) % n].value);
        let admitted = match balancing {
            LoadBalancing::LeastInFlight if n > 1 => {
                let mut order: Vec<_> = rotated.collect();
                // Stable: among equals the round-robin order stays, which spreads the ties.
                order.sort_by_key(|endpoint| endpoint.in_flight());
                tried.first_admitted(order, now)
            }
            _ => tried.first_admitted(rotated, now),
        };
        if let Some(admission) = admitted {
            return Choice::Admitted(admission);
        }
    }
    if tried.live {
        Choice::AllRefused(tried.refusals)
    } else {
        Choice::NoneMatched
    }
}

/// The candidates tried so far.
#[derive(Default)]
struct Tried {
    /// Whether any was still registered.
    live: bool,
    refusals: Vec<EndpointRefusal>,
}

impl Tried {
    /// Admits the first endpoint of `order` that accepts, noting the refusals before it.
    fn first_admitted<'a>(
        &mut self,
        order: impl IntoIterator<Item = &'a Arc<EndpointState>>,
        now: Instant,
    ) -> Option<Admission> {
        for endpoint in order {
            if endpoint.is_removed() {
                continue;
            }
            self.live = true;
            match endpoint.try_admit(now) {
                Ok(admission) => return Some(admission),
                Err(reason) => self.refusals.push(endpoint.refusal(reason)),
            }
        }
        None
    }
}

#[cfg(test)]
mod tests;
